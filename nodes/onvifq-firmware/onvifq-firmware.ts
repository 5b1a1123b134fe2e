import path from 'node:path';
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow } from 'node-red';
import { FleetDevices } from '../../lib/configure';
import type { OnvifDevice } from '../../lib/device/onvif-device';
import { isOnvifError } from '../../lib/errors';
import {
  firmwareDryRun,
  isFirmwareError,
  upgradeFleet,
  type FirmwareImage,
  type FirmwareProgress,
  type FleetDeviceResult,
} from '../../lib/firmware';
import type { DeviceConfigNode, MsgDevice } from '../shared/device-config';
import { inputError, redact, toNodeError, type NodeError } from '../shared/errors';
import { runtimeTexts } from '../shared/i18n';
import type { DoneFn, SendFn } from '../shared/input';
import { parseRequest, settingsFrom, type FirmwareDef, type FirmwareRequest, type FirmwareSettings, type ImageInput } from './input';
import { failedStatus, failureWords, phaseStatus, summaryStatus } from './status';

type FirmwareNodeDef = NodeDef & FirmwareDef & { device?: string };

/** One device of one message. */
interface Target {
  /** As the message (or the config node) gave it. */
  address: string;
  device: OnvifDevice;
  msgDevice: () => MsgDevice;
  /** The config node's own device (no msg.address): its name is the label in messages. */
  own: boolean;
}

type Outcome = 'upgraded' | 'skipped' | 'dry-run' | 'failed' | 'not-started';

/** What became of one device, for the summary. */
interface DeviceOutcome {
  address: string;
  outcome: Outcome;
  error?: NodeError;
  /** Dry run: what the upgrade would do (upgrade, skip, refuse). */
  action?: string;
}

/** A device being worked on, so a redeploy can stop it and say what that means for the device. */
interface Running {
  address: string;
  /** The image upload has begun: from then on the device may be flashing. */
  uploadStarted: boolean;
  finished: boolean;
}

/** Phases from which the image is (being) on the device. */
const AFTER_UPLOAD_START = new Set(['uploading', 'flashing', 'rebooting', 'verifying', 'done']);
const PROGRESS_EVERY_MS = 200;
/** How long a redeploy waits for stopped upgrades to unwind (and say what they stopped) before Node-RED goes on. */
const CLOSE_WAIT_MS = 5000;

export default function (RED: NodeAPI): void {
  const t = runtimeTexts(RED, 'onvifq-firmware');

  function OnvifqFirmwareNode(this: Node, def: FirmwareNodeDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const config = def.device ? (RED.nodes.getNode(def.device) as DeviceConfigNode | null) : null;
    const settings = settingsFrom(def, t);
    const secrets = (): Array<string | undefined> => [config?.credentials?.password];
    const fleet = new FleetDevices(() => undefined);
    const aborts = new Set<AbortController>();
    const running = new Set<Running>();
    const handling = new Set<Promise<void>>();
    let closing = false;

    if (!config) node.status({ fill: 'red', shape: 'ring', text: t('onvifq-device.status.noDevice') });
    else if (settings instanceof Error) {
      node.status({ fill: 'red', shape: 'ring', text: t('onvifq-firmware.status.badSettings') });
      node.error(settings.message);
    }

    node.on('input', (msg, send, done) => {
      const p = handle(msg, send, done);
      handling.add(p);
      void p.finally(() => handling.delete(p));
    });

    async function handle(msg: NodeMessageInFlow, send: SendFn, done: DoneFn): Promise<void> {
      if (!config) {
        done(inputError(t('onvifq-device.error.noDevice')));
        return;
      }
      if (settings instanceof Error) {
        done(settings);
        return;
      }
      const request = await parseRequest(msg as { payload?: unknown; address?: unknown }, settings, t).catch((err: Error) =>
        inputError(t('onvifq-firmware.error.unreadableMessage', { reason: err.message })),
      );
      const targets = request instanceof Error ? request : pickTargets(request.addresses);
      if (request instanceof Error || targets instanceof Error) {
        node.status({ fill: 'red', shape: 'ring', text: t('onvifq-firmware.status.badInput') });
        done((request instanceof Error ? request : targets) as NodeError);
        return;
      }
      const isList = Array.isArray((msg as { address?: unknown }).address);
      const abort = new AbortController();
      aborts.add(abort);
      let outcomes: DeviceOutcome[];
      let summaryText = '';
      try {
        if (request.dryRun) {
          outcomes = await dryRun(targets, settings, request, isList, msg, send, abort.signal);
        } else {
          const r = await upgrade(targets, settings, request, isList, msg, send, abort.signal);
          outcomes = r.outcomes;
          summaryText = r.text;
        }
      } catch (err) {
        // The image could not be opened (the library checks it once, before any device is touched).
        aborts.delete(abort);
        if (closing) return done();
        const e = toNodeError(err, config.label, secrets(), t);
        node.status(failedStatus(isOnvifError(err) && err.kind === 'invalid-input' ? t('onvifq-firmware.status.failure.image') : failureWords(t, err)));
        done(e);
        return;
      }
      aborts.delete(abort);
      if (closing) {
        // Stopped by a redeploy: the warnings said what that means for each device; nobody is left to catch.
        done();
        return;
      }
      const summary = summarise(outcomes, summaryText);
      send([null, { ...copyWithoutPayload(msg), payload: summary } as NodeMessage]);
      if (isList) {
        const refused = outcomes.filter((o) => o.action === 'refuse').length;
        node.status(summaryStatus(t, { upgraded: summary.upgraded.length, skipped: summary.skipped.length, failed: summary.failed.length, dryRun: summary.dryRun.length, refused }));
      }
      const failed = outcomes.find((o) => o.outcome === 'failed');
      // One device: its error is this message's error. A list reported each failure with node.error already.
      if (!isList && failed?.error) done(failed.error);
      else done();
    }

    async function upgrade(targets: Target[], s: FirmwareSettings, request: FirmwareRequest, isList: boolean, msg: NodeMessageInFlow, send: SendFn, signal: AbortSignal) {
      const index = new Map<OnvifDevice, number>(targets.map((t, i) => [t.device, i]));
      const byAddress = new Map<string, number>(targets.map((t, i) => [t.device.displayAddress, i]));
      const runs = targets.map((t): Running => ({ address: t.address, uploadStarted: false, finished: false }));
      const outcomes: DeviceOutcome[] = targets.map((t) => ({ address: t.address, outcome: 'not-started' }));
      const place = (i: number) => (isList ? `${i + 1}/${targets.length} ` : '');
      let lastPhase = '';
      let lastAt = 0;

      const onProgress = (device: OnvifDevice, p: FirmwareProgress): void => {
        const i = index.get(device);
        if (i === undefined) return;
        const run = runs[i]!;
        if (!running.has(run) && !run.finished) running.add(run);
        if (AFTER_UPLOAD_START.has(p.phase)) run.uploadStarted = true;
        // Uploads report often; the status travels to every open editor, so only a few per second.
        const now = Date.now();
        const key = `${i}:${p.phase}`;
        if (key === lastPhase && now - lastAt < PROGRESS_EVERY_MS && p.percent !== 100) return;
        lastPhase = key;
        lastAt = now;
        if (!closing) node.status(phaseStatus(t, p, place(i)));
      };

      const onDeviceResult = (r: FleetDeviceResult): void => {
        const i = byAddress.get(r.address);
        if (i === undefined) return;
        const target = targets[i]!;
        const run = runs[i]!;
        run.finished = true;
        running.delete(run);
        if (r.status === 'not-started') return;
        if (closing) {
          if (r.status === 'failed') warnStopped(run, r.error);
          return;
        }
        const out = deviceMessage(msg, target);
        if (r.status === 'skipped' && !s.skipCurrent) {
          // Skipping is off: a device already on the version is not what the flow expected.
          const e = inputError(t('onvifq-firmware.error.alreadyCurrent', { address: target.address, version: r.version ?? '' }));
          Object.assign(e, { failure: 'already-current' });
          Object.assign((e as { cause: object }).cause, { failure: 'already-current' });
          outcomes[i] = { address: target.address, outcome: 'failed', error: e };
          node.status(failedStatus(t('onvifq-firmware.status.failure.already-current'), place(i)));
          if (isList) node.error(e, out);
          return;
        }
        if (r.status === 'failed') {
          const e = failure(r.error, target);
          outcomes[i] = { address: target.address, outcome: 'failed', error: e };
          node.status(failedStatus(failureWords(t, r.error), place(i)));
          if (isList) node.error(e, out);
          return;
        }
        if (r.status === 'skipped') {
          outcomes[i] = { address: target.address, outcome: 'skipped' };
          out.payload = { outcome: 'skipped', version: r.version, text: r.text };
          node.status({ fill: 'green', shape: 'ring', text: `${place(i)}${t('onvifq-firmware.status.upToDate')}` });
        } else {
          outcomes[i] = { address: target.address, outcome: 'upgraded' };
          out.payload = { ...r.result, outcome: 'upgraded' };
          node.status(phaseStatus(t, { phase: 'done', text: `v${r.version ?? ''}` }, place(i)));
        }
        send([out, null]);
      };

      const result = await upgradeFleet(targets.map((t) => t.device), imageOf(request.image), {
        expectVersion: request.expectVersion,
        tryAnyway: s.tryAnyway,
        concurrency: s.concurrency,
        stopOnFailure: s.stopOnFailure,
        backupFirst: s.backupFirst ? (device) => backupTarget(s, device) : undefined,
        // The config node's device follows its own progress events on the pull point events nodes share.
        events: (device) => (targets.some((t) => t.own && t.device === device) ? config!.eventHub() : undefined),
        signal,
        onProgress,
        onDeviceResult,
      });
      return { outcomes, text: result.summary.text };
    }

    async function dryRun(targets: Target[], s: FirmwareSettings, request: FirmwareRequest, isList: boolean, msg: NodeMessageInFlow, send: SendFn, signal: AbortSignal): Promise<DeviceOutcome[]> {
      const outcomes: DeviceOutcome[] = targets.map((t) => ({ address: t.address, outcome: 'not-started' }));
      let next = 0;
      const worker = async (): Promise<void> => {
        while (!closing && next < targets.length) {
          const i = next++;
          const target = targets[i]!;
          const place = isList ? `${i + 1}/${targets.length} ` : '';
          node.status({ fill: 'blue', shape: 'ring', text: `${place}${t('onvifq-firmware.status.dryRunning')}` });
          try {
            const plan = await firmwareDryRun(target.device, imageOf(request.image), { expectVersion: request.expectVersion, tryAnyway: s.tryAnyway, signal });
            if (closing) return;
            const out = deviceMessage(msg, target);
            out.payload = { outcome: 'dry-run', ...plan };
            outcomes[i] = { address: target.address, outcome: 'dry-run', action: plan.action };
            node.status({ fill: plan.action === 'refuse' ? 'yellow' : 'green', shape: 'ring', text: `${place}${t(`onvifq-firmware.status.would.${plan.action}`)}` });
            send([out, null]);
          } catch (err) {
            if (closing) return;
            const e = failure(err, target);
            outcomes[i] = { address: target.address, outcome: 'failed', error: e };
            node.status(failedStatus(failureWords(t, err), place));
            if (isList) node.error(e, deviceMessage(msg, target));
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(s.concurrency, targets.length) }, worker));
      return outcomes;
    }

    function deviceMessage(msg: NodeMessageInFlow, target: Target): NodeMessageInFlow & Record<string, unknown> {
      const out = copyWithoutPayload(msg);
      out.address = target.address;
      out.device = target.msgDevice();
      return out;
    }

    /** The message's other properties for an output: the image (maybe hundreds of MB in a Buffer) is not copied. */
    function copyWithoutPayload(msg: NodeMessageInFlow): NodeMessageInFlow & Record<string, unknown> {
      const { payload: _image, ...rest } = msg;
      return RED.util.cloneMessage(rest as NodeMessageInFlow) as NodeMessageInFlow & Record<string, unknown>;
    }

    /** The node error for a failed device: the library's words and fields, plus failure, steps, before, all without secrets. */
    function failure(err: unknown, target: Target): NodeError {
      // toNodeError quotes the label: 'Fleet admin' for '192.0.2.20'.
      const label = target.own ? config!.label : t('onvifq-firmware.error.labelForAddress', { label: config!.label, address: target.address });
      const out = toNodeError(err, label, secrets(), t) as NodeError & Record<string, unknown>;
      const cause = (out as { cause?: Record<string, unknown> }).cause!;
      if (isFirmwareError(err)) {
        const extra: Record<string, unknown> = { failure: err.failure, phase: err.phase, outcome: err.outcome, retryable: err.retryable, steps: err.steps, before: err.before };
        if (err.after) extra.after = err.after;
        for (const [key, value] of Object.entries(extra)) {
          if (value === undefined) continue;
          const clean = JSON.parse(redact(JSON.stringify(value), secrets())) as unknown;
          out[key] = clean;
          cause[key] = clean;
        }
      }
      return out;
    }

    /** A redeploy stopped this device: say what that means for it (the library knows best, when it had time to say). */
    function warnStopped(run: Running, err?: unknown): void {
      const known = isFirmwareError(err) ? err.outcome : undefined;
      const mayBeFlashing = known !== undefined ? known !== 'unchanged' : run.uploadStarted;
      if (mayBeFlashing) {
        node.warn(t('onvifq-firmware.warning.stoppedWhileFlashing', { address: run.address }));
      } else if (run.uploadStarted) {
        node.warn(t('onvifq-firmware.warning.stoppedDuringUpload', { address: run.address }));
      } else {
        node.warn(t('onvifq-firmware.warning.stoppedBeforeUpload', { address: run.address }));
      }
    }

    function pickTargets(addresses: string[] | undefined): Target[] | NodeError {
      if (!addresses) {
        try {
          const device = config!.link().onvifDevice;
          return [{ address: config!.msgDevice().xaddr ?? device.displayAddress, device, msgDevice: () => config!.msgDevice(), own: true }];
        } catch (err) {
          return toNodeError(err, config!.label, secrets(), t);
        }
      }
      const out: Target[] = [];
      for (const address of addresses) {
        try {
          const device = fleet.get(address, config!.link().onvifDevice.options);
          const same = out.find((t) => t.device.displayAddress === device.displayAddress);
          if (same) return inputError(t('onvifq-firmware.error.sameDeviceTwice', { device: device.displayAddress, first: same.address, second: address }));
          out.push({
            address,
            device,
            own: false,
            msgDevice: () => ({ name: device.displayAddress, xaddr: device.session?.xaddr ?? device.url.toString(), endpoint: device.session?.endpoint }),
          });
        } catch (err) {
          const e = toNodeError(err, config!.label, secrets(), t);
          return isOnvifError(err) && err.kind === 'invalid-input' ? inputError(t('onvifq-firmware.error.badAddress', { address: address.slice(0, 100), reason: e.message })) : e;
        }
      }
      return out;
    }

    node.on('close', (_removed: boolean, done: () => void) => {
      closing = true;
      const stopped = [...running];
      for (const a of aborts) a.abort();
      const settled = Promise.allSettled([...handling]);
      const capped = new Promise((resolve) => setTimeout(resolve, CLOSE_WAIT_MS).unref());
      void Promise.race([settled, capped])
        .then(() => {
          // Devices whose run did not unwind in time: say what is known from the phases seen.
          for (const r of stopped) if (!r.finished) warnStopped(r);
          return fleet.closeAll();
        })
        .then(() => done(), () => done());
    });
  }

  RED.nodes.registerType('onvifq-firmware', OnvifqFirmwareNode as never);
}

/** The library's image from the message's: a Buffer, a file path or a URL. */
function imageOf(image: ImageInput): FirmwareImage {
  if ('buffer' in image) return image.buffer;
  if ('file' in image) return image.file;
  return new URL(image.url);
}

/** backupFirst for the library: a file in the node's folder, or true for the bytes in the result. */
function backupTarget(s: FirmwareSettings, device: OnvifDevice): string | true {
  if (!s.backupFolder) return true;
  const host = device.displayAddress.replace(/[^A-Za-z0-9.-]/g, '_');
  const day = new Date().toISOString().slice(0, 10);
  return path.join(s.backupFolder, `${host}-before-firmware-${day}.bin`);
}

/** output 2: what happened to each device of the message, by outcome (addresses in the order given). */
function summarise(outcomes: DeviceOutcome[], text: string) {
  const of = (what: Outcome) => outcomes.filter((o) => o.outcome === what).map((o) => o.address);
  const dryRun = outcomes.filter((o) => o.outcome === 'dry-run').map((o) => ({ address: o.address, action: o.action }));
  const failed = outcomes
    .filter((o) => o.outcome === 'failed')
    .map((o) => ({ address: o.address, kind: String(o.error?.kind ?? 'failed'), failure: (o.error as { failure?: string } | undefined)?.failure, message: o.error?.message ?? '' }));
  const notStarted = of('not-started');
  return {
    total: outcomes.length,
    upgraded: of('upgraded'),
    skipped: of('skipped'),
    dryRun,
    failed,
    notStarted,
    stopped: notStarted.length > 0,
    ...(text ? { text } : {}),
  };
}
