import path from 'node:path';
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow } from 'node-red';
import { FleetDevices } from '../../lib/configure';
import type { OnvifDevice } from '../../lib/device/onvif-device';
import { isOnvifError } from '../../lib/errors';
import { checkFirmwareUpgrade, upgradeFirmware, type FirmwareImage, type FirmwareProgress } from '../../lib/firmware';
import type { DeviceConfigNode, MsgDevice } from '../shared/device-config';
import { inputError, redact, toNodeError, type NodeError } from '../shared/errors';
import type { DoneFn, SendFn } from '../shared/input';
import { callFailedStatus } from '../shared/status';
import { parseRequest, settingsFrom, type FirmwareDef, type FirmwareRequest, type FirmwareSettings, type ImageInput } from './input';
import { failedStatus, phaseStatus, summaryStatus, type PhaseView } from './status';

type FirmwareNodeDef = NodeDef & FirmwareDef & { device?: string };

/** One device of one message. */
interface Target {
  address: string;
  device: OnvifDevice;
  msgDevice: () => MsgDevice;
  /** The config node's own device (no msg.address): its name is the label in messages. */
  own: boolean;
}

/** What a device's run ended with, for the summary. */
type Outcome =
  | { address: string; outcome: 'upgraded' | 'skipped' | 'dry-run' }
  | { address: string; outcome: 'failed'; error: NodeError }
  | { address: string; outcome: 'aborted' };

/** A device being worked on, so a redeploy can stop it and say what that means. */
interface Running {
  address: string;
  abort: AbortController;
  /** The image upload has begun: from then on the device may be flashing. */
  uploadStarted: boolean;
}

/** Phases from which the image is (being) on the device. */
const AFTER_UPLOAD_START = new Set(['uploading', 'flashing', 'rebooting', 'verifying', 'done']);
const PROGRESS_EVERY_MS = 200;
/** How long a redeploy waits for aborted upgrades to unwind before it lets Node-RED go on. */
const CLOSE_WAIT_MS = 5000;

export default function (RED: NodeAPI): void {
  function OnvifqFirmwareNode(this: Node, def: FirmwareNodeDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const config = def.device ? (RED.nodes.getNode(def.device) as DeviceConfigNode | null) : null;
    const settings = settingsFrom(def);
    const secrets = (): Array<string | undefined> => [config?.credentials?.password];
    const fleet = new FleetDevices(() => undefined);
    const running = new Set<Running>();
    const handling = new Set<Promise<void>>();
    let closing = false;

    if (!config) node.status({ fill: 'red', shape: 'ring', text: 'no device' });
    else if (settings instanceof Error) {
      node.status({ fill: 'red', shape: 'ring', text: 'bad settings' });
      node.error(settings.message);
    }

    node.on('input', (msg, send, done) => {
      const p = handle(msg, send, done);
      handling.add(p);
      void p.finally(() => handling.delete(p));
    });

    async function handle(msg: NodeMessageInFlow, send: SendFn, done: DoneFn): Promise<void> {
      if (!config) {
        done(inputError('No device is selected. Open the node and choose or add an onvifq-device config node.'));
        return;
      }
      if (settings instanceof Error) {
        done(settings);
        return;
      }
      let request: FirmwareRequest | NodeError;
      try {
        request = await parseRequest(msg as { payload?: unknown; address?: unknown }, settings);
      } catch (err) {
        request = inputError(`The message could not be read: ${(err as Error).message}. Nothing was sent.`);
      }
      if (request instanceof Error) {
        node.status({ fill: 'red', shape: 'ring', text: 'bad input' });
        done(request);
        return;
      }
      const targets = pickTargets(request.addresses);
      if (targets instanceof Error) {
        node.status({ fill: 'red', shape: 'ring', text: 'bad input' });
        done(targets);
        return;
      }
      const isList = Array.isArray((msg as { address?: unknown }).address);
      const outcomes = await rollOut(targets, settings, request, isList, msg, send);
      if (closing) {
        // Stopped by a redeploy: the warnings said what happened; nobody is left to catch an error.
        done();
        return;
      }
      const summary = summarise(outcomes, targets);
      send([null, { ...RED.util.cloneMessage(msg), payload: summary } as NodeMessage]);
      const failed = outcomes.filter((o): o is Extract<Outcome, { outcome: 'failed' }> => o.outcome === 'failed');
      if (isList || failed.length === 0) {
        if (isList) node.status(summaryStatus({ ...countOf(outcomes), notStarted: summary.notStarted.length }));
        done();
      } else {
        // One device: its error is this message's error (a list reports each through node.error).
        done(failed[0]!.error);
      }
    }

    async function rollOut(targets: Target[], s: FirmwareSettings, request: FirmwareRequest, isList: boolean, msg: NodeMessageInFlow, send: SendFn): Promise<Outcome[]> {
      const outcomes: Outcome[] = [];
      let next = 0;
      let stop = false;
      const worker = async (): Promise<void> => {
        while (!stop && !closing && next < targets.length) {
          const index = next++;
          const outcome = await one(targets[index]!, index, targets.length, s, request, isList, msg, send);
          outcomes[index] = outcome;
          if (outcome.outcome === 'failed' && s.stopOnFailure) stop = true;
        }
      };
      await Promise.all(Array.from({ length: Math.min(s.concurrency, targets.length) }, worker));
      return outcomes;
    }

    async function one(target: Target, index: number, total: number, s: FirmwareSettings, request: FirmwareRequest, isList: boolean, msg: NodeMessageInFlow, send: SendFn): Promise<Outcome> {
      const place = isList ? `${index + 1}/${total} ` : '';
      const run: Running = { address: target.address, abort: new AbortController(), uploadStarted: false };
      running.add(run);
      const signal = run.abort.signal;
      let lastPhase = '';
      let lastAt = 0;
      const onProgress = (p: FirmwareProgress): void => {
        const view = progressView(p);
        if (AFTER_UPLOAD_START.has(view.phase)) run.uploadStarted = true;
        // Uploads report often; the status travels to every open editor, so only a few per second.
        const now = Date.now();
        if (view.phase === lastPhase && now - lastAt < PROGRESS_EVERY_MS && view.percent !== 100) return;
        lastPhase = view.phase;
        lastAt = now;
        if (!closing) node.status(phaseStatus(view, place));
      };
      const out = RED.util.cloneMessage(msg) as NodeMessageInFlow & Record<string, unknown>;
      out.address = target.address;
      try {
        node.status(phaseStatus({ phase: 'checking' }, place));
        if (request.dryRun) {
          const plan = await checkFirmwareUpgrade(target.device, imageOf(request.image), { expectVersion: request.expectVersion, tryAnyway: s.tryAnyway, signal });
          out.payload = { address: target.address, outcome: 'dry-run', plan };
          out.device = target.msgDevice();
          node.status({ fill: 'green', shape: 'ring', text: `${place}dry run ok` });
          send([out, null]);
          return { address: target.address, outcome: 'dry-run' };
        }
        if (s.skipCurrent && request.expectVersion) {
          const info = (await target.device.call('GetDeviceInformation', {}, { signal })) as { FirmwareVersion?: string };
          if (info.FirmwareVersion === request.expectVersion) {
            out.payload = { address: target.address, outcome: 'skipped', reason: `already on ${request.expectVersion}`, before: { FirmwareVersion: info.FirmwareVersion } };
            out.device = target.msgDevice();
            node.status({ fill: 'green', shape: 'ring', text: `${place}up to date` });
            send([out, null]);
            return { address: target.address, outcome: 'skipped' };
          }
        }
        const result = await upgradeFirmware(target.device, imageOf(request.image)!, {
          expectVersion: request.expectVersion,
          tryAnyway: s.tryAnyway,
          backupFirst: s.backupFirst ? backupTarget(s, target) : undefined,
          signal,
          onProgress,
        });
        out.payload = { address: target.address, outcome: 'upgraded', ...result };
        out.device = target.msgDevice();
        node.status(phaseStatus({ phase: 'done', version: result.after?.FirmwareVersion }, place));
        send([out, null]);
        return { address: target.address, outcome: 'upgraded' };
      } catch (err) {
        if (signal.aborted || closing) return { address: target.address, outcome: 'aborted' };
        const e = failure(err, target, run.uploadStarted);
        node.status(failedStatus(failReason(err), place));
        if (isList) node.error(e, out);
        return { address: target.address, outcome: 'failed', error: e };
      } finally {
        running.delete(run);
      }
    }

    /** The node error for a failed device: the library's fields plus steps, before and phase, all without secrets. */
    function failure(err: unknown, target: Target, uploadStarted: boolean): NodeError {
      const label = target.own ? config!.label : `${config!.label}' for '${target.address}`;
      const out = toNodeError(err, label, secrets()) as NodeError & Record<string, unknown>;
      const cause = (out as { cause?: Record<string, unknown> }).cause!;
      const src = err as Record<string, unknown>;
      for (const key of ['steps', 'before', 'phase'] as const) {
        if (src[key] === undefined) continue;
        const clean = JSON.parse(redact(JSON.stringify(src[key]), secrets())) as unknown;
        out[key] = clean;
        cause[key] = clean;
      }
      if (cause.phase === undefined) cause.phase = uploadStarted ? 'after-upload-start' : 'before-upload';
      return out;
    }

    function pickTargets(addresses: string[] | undefined): Target[] | NodeError {
      if (!addresses) {
        try {
          const link = config!.link();
          const device = link.onvifDevice;
          const address = config!.msgDevice().xaddr ?? device.displayAddress;
          return [{ address, device, msgDevice: () => config!.msgDevice(), own: true }];
        } catch (err) {
          return toNodeError(err, config!.label, secrets());
        }
      }
      const out: Target[] = [];
      for (const address of addresses) {
        try {
          const template = config!.link().onvifDevice.options;
          const device = fleet.get(address, template);
          out.push({
            address,
            device,
            own: false,
            msgDevice: () => ({ name: device.displayAddress, xaddr: device.session?.xaddr ?? device.url.toString(), endpoint: device.session?.endpoint }),
          });
        } catch (err) {
          const e = toNodeError(err, config!.label, secrets());
          return isOnvifError(err) && err.kind === 'invalid-input' ? inputError(`msg.address '${address.slice(0, 100)}': ${e.message} Nothing was sent.`) : e;
        }
      }
      return out;
    }

    node.on('close', (removed: boolean, done: () => void) => {
      closing = true;
      for (const r of running) {
        r.abort.abort();
        node.warn(
          r.uploadStarted
            ? `The flow was stopped (redeploy) during the firmware upgrade of ${r.address}, after the upload had started: the device may still be flashing. ` +
                'Do not switch it off; in a few minutes check its firmware version (a dry run shows it).'
            : `The flow was stopped (redeploy) before the firmware image was uploaded to ${r.address}: nothing happened to the device, it keeps its firmware.`,
        );
      }
      const settled = Promise.allSettled([...handling]);
      const capped = new Promise((resolve) => setTimeout(resolve, CLOSE_WAIT_MS).unref());
      void Promise.race([settled, capped])
        .then(() => fleet.closeAll())
        .then(() => done(), () => done());
    });
  }

  RED.nodes.registerType('onvifq-firmware', OnvifqFirmwareNode as never);
}

/** The library's image from the message's: a Buffer, a file path or a URL. */
function imageOf(image: ImageInput | undefined): FirmwareImage | undefined {
  if (!image) return undefined;
  if ('buffer' in image) return image.buffer;
  if ('file' in image) return image.file;
  return new URL(image.url);
}

/** backupFirst for the library: a file in the node's folder, or true for a Buffer in the result. */
function backupTarget(s: FirmwareSettings, target: Target): { file: string } | true {
  if (!s.backupFolder) return true;
  const host = target.address.replace(/^https?:\/\//, '').replace(/\/.*$/, '').replace(/[^A-Za-z0-9.-]/g, '_');
  const day = new Date().toISOString().slice(0, 10);
  return { file: path.join(s.backupFolder, `${host}-before-firmware-${day}.bin`) };
}

function progressView(p: FirmwareProgress): PhaseView {
  return { phase: p.phase, percent: p.percent, secondsLeft: p.secondsLeft, version: p.version };
}

/** Short words for the red status. */
function failReason(err: unknown): string {
  const e = err as { kind?: string; httpStatus?: number; reason?: string };
  if (e.httpStatus === 415) return 'image rejected';
  if (e.httpStatus === 500) return 'device failed';
  return String(callFailedStatus(isOnvifError(err) ? err : undefined).text);
}

function countOf(outcomes: Outcome[]): { upgraded: number; skipped: number; failed: number; dryRun: number } {
  const n = (what: Outcome['outcome']) => outcomes.filter((o) => o?.outcome === what).length;
  return { upgraded: n('upgraded'), skipped: n('skipped'), failed: n('failed'), dryRun: n('dry-run') };
}

/** output 2: what happened to each device of the message, by outcome (addresses in the order given). */
function summarise(outcomes: Outcome[], targets: Target[]) {
  const of = (what: Outcome['outcome']) => outcomes.filter((o) => o?.outcome === what).map((o) => o.address);
  const failed = outcomes
    .filter((o): o is Extract<Outcome, { outcome: 'failed' }> => o?.outcome === 'failed')
    .map((o) => ({ address: o.address, kind: String(o.error.kind ?? 'failed'), message: o.error.message }));
  const notStarted = targets.filter((_, i) => !outcomes[i]).map((t) => t.address);
  return { total: targets.length, upgraded: of('upgraded'), skipped: of('skipped'), dryRun: of('dry-run'), failed, notStarted, stopped: notStarted.length > 0 };
}
