import type { NodeAPI } from 'node-red';
import type { Request, Response } from 'express';
import type { Subscription } from 'rxjs';
import { DeviceLink } from '../../lib/link';
import type { EventHub } from '../../lib/events';
import { OnvifDevice } from '../../lib/device/onvif-device';
import { OnvifError, isOnvifError } from '../../lib/errors';
import { setPreferredLanguage } from '../../lib/soap/fault';
import { formatWireTrace, subscribeWireTrace } from '../../lib/transport/trace';
import {
  checkDeviceConfig,
  deviceOptionsFrom,
  type DeviceConfigDef,
  type DeviceConfigNode,
  settingsFromDialog,
  type DeviceConfigProps,
  type DeviceCredentials,
  type MsgDevice,
} from '../shared/device-config';
import { redact } from '../shared/errors';
import { DeviceStateLog } from './state-log';
import { runtimeTexts, type Texts } from '../shared/i18n';
import { enableHttps } from '../../lib/tls/tasks';

export default function (RED: NodeAPI): void {
  const t = runtimeTexts(RED, 'onvifq-device');
  // Faults with reasons in several languages show the one of Node-RED's own language.
  setPreferredLanguage(nodeRedLanguage(RED));

  function OnvifqDeviceNode(this: DeviceConfigNode & { _link?: DeviceLink; _hub?: EventHub }, def: DeviceConfigDef): void {
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
    const stateLog = new DeviceStateLog(t, label, { warn: (t) => node.warn(t), log: (t) => node.log(t) }, () => [node.credentials?.password]);
    const stateSubs: Subscription[] = [];
    // The wire trace of this device's traffic goes to Node-RED's trace log. Subscribed only when a logger is at
    // level trace: without a subscriber the transport builds no trace at all.
    const stopTrace = traceLogging(RED) ? subscribeWireTrace((m) => node.trace(formatWireTrace(m)), { label: node.id }) : undefined;

    node.link = (): DeviceLink => {
      if (node._link) return node._link;
      if (closed) throw new OnvifError('closed', t('onvifq-device.error.beingStopped', { label }));
      const problems = checkDeviceConfig(props);
      if (problems.length) {
        throw new OnvifError('invalid-input', t('onvifq-device.error.cannotBeUsed', { label, problems: problems.join('; ') }));
      }
      node._link = new DeviceLink({ ...deviceOptionsFrom(props, node.credentials ?? {}), traceLabel: node.id });
      stateSubs.push(node._link.state$.subscribe((state) => stateLog.link(state)));
      return node._link;
    };

    node.eventHub = (): EventHub => {
      if (node._hub) return node._hub;
      const hub = node.link().eventHub();
      stateSubs.push(hub.state$.subscribe((state) => stateLog.events(state)));
      node._hub = hub;
      return hub;
    };

    node.msgDevice = (): MsgDevice => {
      const session = node._link?.state.session;
      return { name: label, xaddr: session?.xaddr ?? (String(def.address ?? '').trim() || undefined), endpoint: session?.endpoint };
    };

    node.on('close', (_removed: boolean, done: () => void) => {
      closed = true;
      stopTrace?.();
      for (const sub of stateSubs.splice(0)) sub.unsubscribe();
      const link = node._link;
      node._link = undefined;
      node._hub = undefined;
      if (!link) return done();
      link.close().then(done, (err: unknown) => {
        node.warn(t('onvifq-device.log.closeFailed', { label, why: err instanceof Error ? err.message : String(err) }));
        done();
      });
    });
  }

  RED.nodes.registerType('onvifq-device', OnvifqDeviceNode as never, {
    credentials: { username: { type: 'text' }, password: { type: 'password' } },
  });

  // The config dialog's "Test connection" button: connects once with the dialog's current (maybe undeployed) values.
  RED.httpAdmin.post('/onvifq-device/test', RED.auth.needsPermission('onvifq-device.write'), (req: Request, res: Response) => {
    void testConnection(RED, t, req, res);
  });

  // The config dialog's "Secure this device…" button: enableHttps on the address being edited.
  RED.httpAdmin.post('/onvifq-device/secure', RED.auth.needsPermission('onvifq-device.write'), (req: Request, res: Response) => {
    void secureDevice(RED, t, req, res);
  });
}

interface SecureRequestBody {
  /** 'self-signed' (default) or 'ca' with caCertificate and caKey (used for this request only, never stored). */
  source?: unknown;
  caCertificate?: unknown;
  caKey?: unknown;
}

const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/**
 * Turn on verified HTTPS on the device the dialog edits and answer with what to fill in: the https address and
 * the pinned fingerprint or the CA. The CA key only passes through this request; nothing is stored or logged.
 */
async function secureDevice(RED: NodeAPI, t: Texts, req: Request, res: Response): Promise<void> {
  const body: SecureRequestBody = req.body && typeof req.body === 'object' ? (req.body as SecureRequestBody) : {};
  const { props, creds, problems } = settingsFromDialog(req.body, (id) => RED.nodes.getCredentials(id) as DeviceCredentials | undefined);
  if (problems.length) {
    res.status(400).json({ ok: false, kind: 'invalid-input', message: t('onvifq-device.error.cannotSecure', { problems: problems.join('; ') }) });
    return;
  }
  const source = body.source === 'ca' ? 'ca' : 'self-signed';
  const device = new OnvifDevice(deviceOptionsFrom(props, creds));
  try {
    const r = await enableHttps(device, source === 'ca' ? { source, caCertificate: text(body.caCertificate), caKey: text(body.caKey) } : { source });
    res.json({
      ok: true, address: r.address, fingerprint: r.fingerprint, ca: r.ca, source: r.source,
      subject: r.certificate.subject, notAfter: r.certificate.notAfter, subjectAltName: r.certificate.subjectAltName,
    });
  } catch (err: unknown) {
    const kind = isOnvifError(err) ? err.kind : 'bad-response';
    const message = redact(err instanceof Error ? err.message : String(err), [creds.password, text(body.caKey)]);
    res.status(kind === 'invalid-input' ? 400 : 502).json({ ok: false, kind, message });
  } finally {
    device.close().catch(() => undefined);
  }
}

async function testConnection(RED: NodeAPI, t: Texts, req: Request, res: Response): Promise<void> {
  const { props, creds, problems } = settingsFromDialog(req.body, (id) => RED.nodes.getCredentials(id) as DeviceCredentials | undefined);
  if (problems.length) {
    res.status(400).json({ ok: false, kind: 'invalid-input', message: t('onvifq-device.error.cannotTest', { problems: problems.join('; ') }) });
    return;
  }
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

