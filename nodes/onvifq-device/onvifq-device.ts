import type { NodeAPI } from 'node-red';
import type { Request, Response } from 'express';
import { DeviceLink } from '../../lib/link';
import { OnvifDevice } from '../../lib/device/onvif-device';
import { OnvifError, isOnvifError } from '../../lib/errors';
import { setPreferredLanguage } from '../../lib/soap/fault';
import { formatWireTrace, subscribeWireTrace } from '../../lib/transport/trace';
import {
  checkDeviceConfig,
  deviceOptionsFrom,
  type DeviceConfigDef,
  type DeviceConfigNode,
  type DeviceConfigProps,
  type DeviceCredentials,
  type MsgDevice,
} from '../shared/device-config';
import { redact } from '../shared/errors';
import { enableHttps } from '../../lib/tls/tasks';

/** What the editor shows for the password field when a password is stored (Node-RED's placeholder). */
const STORED_PASSWORD_PLACEHOLDER = '__PWRD__';

export default function (RED: NodeAPI): void {
  // Faults with reasons in several languages show the one of Node-RED's own language.
  setPreferredLanguage(nodeRedLanguage(RED));

  function OnvifqDeviceNode(this: DeviceConfigNode & { _link?: DeviceLink }, def: DeviceConfigDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const props: DeviceConfigProps = {
      name: def.name,
      address: def.address,
      auth: def.auth,
      tlsCa: def.tlsCa,
      tlsFingerprint: def.tlsFingerprint,
      tlsInsecure: def.tlsInsecure,
      timeout: def.timeout,
    };
    const label = def.name || String(def.address ?? '').trim() || 'ONVIF device';
    Object.defineProperty(node, 'label', { value: label, enumerable: true });
    let closed = false;
    // The wire trace of this device's traffic goes to Node-RED's trace log. Subscribed only when a logger is at
    // level trace: without a subscriber the transport builds no trace at all.
    const stopTrace = traceLogging(RED) ? subscribeWireTrace((m) => node.trace(formatWireTrace(m)), { label: node.id }) : undefined;

    node.link = (): DeviceLink => {
      if (node._link) return node._link;
      if (closed) throw new OnvifError('closed', `Config node '${label}' is being stopped (redeploy). Send the message again.`);
      const problems = checkDeviceConfig(props);
      if (problems.length) {
        throw new OnvifError('invalid-input', `Config node '${label}' cannot be used: ${problems.join('; ')}. Open it in the editor and fix it.`);
      }
      node._link = new DeviceLink({ ...deviceOptionsFrom(props, node.credentials ?? {}), traceLabel: node.id });
      return node._link;
    };

    node.msgDevice = (): MsgDevice => {
      const session = node._link?.state.session;
      return { name: label, xaddr: session?.xaddr ?? (String(def.address ?? '').trim() || undefined), endpoint: session?.endpoint };
    };

    node.on('close', (_removed: boolean, done: () => void) => {
      closed = true;
      stopTrace?.();
      const link = node._link;
      node._link = undefined;
      if (!link) return done();
      link.close().then(done, (err: unknown) => {
        node.warn(`Closing the connection to '${label}' failed: ${err instanceof Error ? err.message : String(err)}`);
        done();
      });
    });
  }

  RED.nodes.registerType('onvifq-device', OnvifqDeviceNode as never, {
    credentials: { username: { type: 'text' }, password: { type: 'password' } },
  });

  // The config dialog's "Test connection" button: connects once with the dialog's current (maybe undeployed) values.
  RED.httpAdmin.post('/onvifq-device/test', RED.auth.needsPermission('onvifq-device.write'), (req: Request, res: Response) => {
    void testConnection(RED, req, res);
  });

  // The config dialog's "Secure this device…" button: enableHttps on the address being edited.
  RED.httpAdmin.post('/onvifq-device/secure', RED.auth.needsPermission('onvifq-device.write'), (req: Request, res: Response) => {
    void secureDevice(RED, req, res);
  });
}

interface SecureRequestBody extends TestRequestBody {
  /** 'self-signed' (default) or 'ca' with caCertificate and caKey (used for this request only, never stored). */
  source?: string;
  caCertificate?: string;
  caKey?: string;
}

/**
 * Turn on verified HTTPS on the device the dialog edits and answer with what to fill in: the https address and
 * the pinned fingerprint or the CA. The CA key only passes through this request; nothing is stored or logged.
 */
async function secureDevice(RED: NodeAPI, req: Request, res: Response): Promise<void> {
  const body: SecureRequestBody = req.body && typeof req.body === 'object' ? (req.body as SecureRequestBody) : {};
  const dialog = dialogDevice(RED, body);
  if ('problems' in dialog) {
    res.status(400).json({ ok: false, kind: 'invalid-input', message: `Cannot secure: ${dialog.problems.join('; ')}.` });
    return;
  }
  const source = body.source === 'ca' ? 'ca' : 'self-signed';
  const device = new OnvifDevice(deviceOptionsFrom(dialog.props, dialog.creds));
  try {
    const r = await enableHttps(device, source === 'ca' ? { source, caCertificate: str(body.caCertificate), caKey: str(body.caKey) } : { source });
    res.json({
      ok: true, address: r.address, fingerprint: r.fingerprint, ca: r.ca, source: r.source,
      subject: r.certificate.subject, notAfter: r.certificate.notAfter, subjectAltName: r.certificate.subjectAltName,
    });
  } catch (err: unknown) {
    const kind = isOnvifError(err) ? err.kind : 'bad-response';
    const message = redact(err instanceof Error ? err.message : String(err), [dialog.creds.password, str(body.caKey)]);
    res.status(kind === 'invalid-input' ? 400 : 502).json({ ok: false, kind, message });
  } finally {
    device.close().catch(() => undefined);
  }
}

/** The device the dialog describes: its current (maybe undeployed) values, the stored password when untouched. */
function dialogDevice(RED: NodeAPI, body: TestRequestBody): { props: DeviceConfigProps; creds: DeviceCredentials } | { problems: string[] } {
  const stored = (body.id ? (RED.nodes.getCredentials(body.id) as DeviceCredentials | undefined) : undefined) ?? {};
  const creds: DeviceCredentials = {
    username: typeof body.username === 'string' ? body.username : stored.username,
    password:
      typeof body.password === 'string' && body.password !== '' && body.password !== STORED_PASSWORD_PLACEHOLDER
        ? body.password
        : stored.password,
  };
  const props: DeviceConfigProps = {
    name: str(body.name),
    address: str(body.address),
    auth: str(body.auth),
    tlsCa: str(body.tlsCa),
    tlsFingerprint: str(body.tlsFingerprint),
    tlsInsecure: body.tlsInsecure === true || body.tlsInsecure === 'true',
    timeout: typeof body.timeout === 'number' || typeof body.timeout === 'string' ? body.timeout : undefined,
  };
  const problems = checkDeviceConfig(props);
  return problems.length ? { problems } : { props, creds };
}

interface TestRequestBody extends DeviceConfigProps, DeviceCredentials {
  id?: string;
}

async function testConnection(RED: NodeAPI, req: Request, res: Response): Promise<void> {
  const body: TestRequestBody = req.body && typeof req.body === 'object' ? (req.body as TestRequestBody) : {};
  const dialog = dialogDevice(RED, body);
  if ('problems' in dialog) {
    res.status(400).json({ ok: false, kind: 'invalid-input', message: `Cannot test: ${dialog.problems.join('; ')}.` });
    return;
  }
  const { props, creds } = dialog;
  const device = new OnvifDevice(deviceOptionsFrom(props, creds));
  try {
    const session = await device.connect();
    const info = session.deviceInformation;
    res.json({
      ok: true,
      manufacturer: info.manufacturer,
      model: info.model,
      firmwareVersion: info.firmwareVersion,
      serialNumber: info.serialNumber,
      profileQState: session.profileQState,
      authMethod: session.authMethod,
      xaddr: session.xaddr,
      endpoint: session.endpoint,
      // Connected without credentials: what the device would not tell anonymously, in plain words.
      ...(session.partial ? { partial: true, note: session.partial.text } : {}),
    });
  } catch (err: unknown) {
    const kind = isOnvifError(err) ? err.kind : 'bad-response';
    const message = redact(err instanceof Error ? err.message : String(err), [creds.password]);
    res.status(kind === 'invalid-input' ? 400 : 502).json({ ok: false, kind, message });
  } finally {
    device.close().catch(() => undefined);
  }
}

/** Some Node-RED logger (console, file, custom) writes trace-level messages (settings.js `logging.<name>.level`). */
function traceLogging(RED: NodeAPI): boolean {
  const logging = (RED.settings as { logging?: Record<string, { level?: unknown } | undefined> }).logging;
  return Object.values(logging ?? {}).some((logger) => logger?.level === 'trace');
}

/** Node-RED's language, by its own rule: `lang` in the settings, else the locale environment (de_DE.UTF-8 → de-DE). */
function nodeRedLanguage(RED: NodeAPI): string | undefined {
  const configured = (RED.settings as { lang?: unknown }).lang;
  if (typeof configured === 'string' && configured.trim()) return configured.trim();
  for (const name of ['LC_ALL', 'LC_MESSAGES', 'LANG']) {
    const tag = process.env[name]?.split('.')[0]?.replace('_', '-');
    if (tag) return tag === 'C' || tag === 'POSIX' ? undefined : tag;
  }
  return undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}
