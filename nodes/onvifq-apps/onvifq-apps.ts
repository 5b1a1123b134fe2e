import type { Node, NodeAPI, NodeDef, NodeMessageInFlow, NodeStatus } from 'node-red';
import type { Subscription } from 'rxjs';
import { AppFleet, AppManager, runAppAction, type AppAction, type AppProgress, type AppStateChange } from '../../lib/apps';
import { isOnvifError } from '../../lib/errors';
import type { DeviceConfigNode } from '../shared/device-config';
import { inputError, redact, toNodeError, type NodeError } from '../shared/errors';
import { runtimeTexts, type Texts } from '../shared/i18n';
import type { DoneFn, SendFn } from '../shared/input';
import { ACTION_FROM_MSG, APP_ACTIONS, isAppAction, messageParams, settingsParams, type AppsNodeSettings } from './params';

interface AppsDef extends NodeDef, AppsNodeSettings {
  device?: string;
  /** One of APP_ACTIONS, or 'msg' (msg.action, else msg.topic). */
  action?: string;
  /** Send one message per app state change of the device (msg.topic onvifq/app-state). */
  watch?: boolean | string;
}

export const APP_STATE_MSG_TOPIC = 'onvifq/app-state';
export const FLEET_SUMMARY_TOPIC = 'onvifq/apps-summary';
const PROGRESS_EVERY_MS = 200;
const WATCH_RETRY_MS = 10_000;

/** The status after an action: the app's state where there is one, else a word for the action. */
function doneStatus(t: Texts, action: AppAction, result: unknown): NodeStatus {
  const r = (result ?? {}) as { state?: string; apps?: unknown[]; attention?: unknown[]; rows?: unknown[] };
  // The library reports an uninstalled app's state as the device's word for it (e.g. Removed).
  if (action === 'uninstall') return { fill: 'green', shape: 'dot', text: t('onvifq-apps.status.uninstalled') };
  if (typeof r.state === 'string') return { fill: 'green', shape: 'dot', text: r.state };
  if (Array.isArray(r.apps)) return { fill: 'green', shape: 'dot', text: t('onvifq-apps.status.apps', { count: r.apps.length }) };
  if (action === 'licenseReport') {
    const attention = Array.isArray(r.attention) ? r.attention.length : 0;
    return { fill: attention ? 'yellow' : 'green', shape: 'dot', text: t('onvifq-apps.status.licenses', { count: Array.isArray(r.rows) ? r.rows.length : 0, attention }) };
  }
  return { fill: 'green', shape: 'dot', text: t('onvifq-apps.status.done') };
}

export default function (RED: NodeAPI): void {
  const t = runtimeTexts(RED, 'onvifq-apps');

  function OnvifqAppsNode(this: Node, def: AppsDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const config = def.device ? (RED.nodes.getNode(def.device) as DeviceConfigNode | null) : null;
    const setting = def.action || 'list';
    const watching = def.watch === true || def.watch === 'true';
    const secrets = (): Array<string | undefined> => [config?.credentials?.password];
    const running = new Set<AbortController>();
    const fleet = new AppFleet();
    let manager: AppManager | undefined;
    let watchSub: Subscription | undefined;
    let watchRetry: NodeJS.Timeout | undefined;
    let closed = false;

    function deviceManager(): AppManager {
      // The config node's session and its one shared pull point (events nodes use the same).
      manager ??= new AppManager(config!.link().onvifDevice, { events: config!.eventHub() });
      return manager;
    }

    if (!config) {
      node.status({ fill: 'red', shape: 'ring', text: t('onvifq-apps.status.noDevice') });
    } else if (setting !== ACTION_FROM_MSG && !isAppAction(setting)) {
      node.status({ fill: 'red', shape: 'ring', text: t('onvifq-apps.status.badAction') });
    } else if (watching) {
      startWatch();
    }

    function startWatch(): void {
      if (closed) return;
      let m: AppManager;
      try {
        m = deviceManager();
      } catch (err) {
        node.status({ fill: 'red', shape: 'ring', text: t('onvifq-apps.status.badConfig') });
        node.error(toNodeError(err, config!.label, secrets(), t).message);
        return;
      }
      node.status({ fill: 'grey', shape: 'ring', text: t('onvifq-apps.status.watching') });
      watchSub = m.watch().subscribe({
        next: (c: AppStateChange) => onStateChange(c),
        error: (err: unknown) => {
          watchSub = undefined;
          node.status({ fill: 'red', shape: 'ring', text: t('onvifq-apps.status.watchFailed') });
          node.error(t('onvifq-apps.error.watchFailed', { reason: toNodeError(err, config!.label, secrets(), t).message, seconds: WATCH_RETRY_MS / 1000 }));
          watchRetry = setTimeout(startWatch, WATCH_RETRY_MS);
        },
      });
    }

    function onStateChange(c: AppStateChange): void {
      node.status({ fill: c.newState === 'InstallationFailed' ? 'red' : 'green', shape: 'dot', text: `${c.name || c.appId}: ${c.newState}` });
      // The first states after subscribing are where things stand, not changes.
      if (c.initial) return;
      node.send({
        topic: APP_STATE_MSG_TOPIC,
        payload: { appId: c.appId, name: c.name, oldState: c.oldState, newState: c.newState, status: c.status, time: c.time, via: c.via },
        device: config!.msgDevice(),
      } as never);
    }

    /** Phase changes at once; repeated upload percentages a few times a second (every editor gets each status). */
    function progressReporter(prefix = ''): (p: AppProgress) => void {
      let lastPhase = '';
      let lastAt = 0;
      return (p) => {
        const now = Date.now();
        if (p.phase === lastPhase && now - lastAt < PROGRESS_EVERY_MS && p.percent !== 100) return;
        lastPhase = p.phase;
        lastAt = now;
        node.status({ fill: p.phase === 'done' ? 'green' : 'blue', shape: p.percent === undefined && p.phase !== 'done' ? 'ring' : 'dot', text: `${prefix}${p.text}` });
      };
    }

    node.on('input', (msg, send, done) => {
      void handle(msg, send, done);
    });

    async function handle(msg: NodeMessageInFlow, send: SendFn, done: DoneFn): Promise<void> {
      if (!config) {
        done(inputError(t('onvifq-device.error.noDevice')));
        return;
      }
      const action = pickAction(msg);
      if (action instanceof Error) {
        done(action);
        return;
      }
      const params = messageParams(action, settingsParams(action, def), msg.payload);
      const address = (msg as { address?: unknown }).address;
      const abort = new AbortController();
      running.add(abort);
      try {
        if (address === undefined || address === null || address === '') {
          const result = await runAppAction(deviceManager(), action, params, { signal: abort.signal, onProgress: progressReporter() });
          msg.payload = result;
          (msg as { device?: unknown }).device = config.msgDevice();
          node.status(doneStatus(t, action, result));
          send(msg);
          done();
          return;
        }
        const list = Array.isArray(address) ? address : [address];
        if (!list.length || list.some((a) => typeof a !== 'string' || !a.trim())) {
          done(inputError(t('onvifq-apps.error.badAddress')));
          return;
        }
        const template = config.link().onvifDevice.options;
        const reporters = new Map<string, (p: AppProgress) => void>();
        const r = await fleet.run(list as string[], template, action, params, {
          signal: abort.signal,
          onProgress: (addr, p) => {
            let report = reporters.get(addr);
            if (!report) reporters.set(addr, (report = progressReporter(`${addr}: `)));
            report(p);
          },
        });
        // One message per device, then the summary, each a copy of the input (its other fields travel along).
        for (const o of r.results) {
          const error = o.error ? JSON.parse(redact(JSON.stringify(o.error), secrets())) : undefined;
          send({ ...msg, address: o.address, payload: o.ok ? o.result : undefined, ok: o.ok, ...(error ? { error } : {}) } as never);
        }
        send({ ...msg, topic: FLEET_SUMMARY_TOPIC, address: list, payload: { action, summary: r.summary, results: r.results.map((o) => ({ address: o.address, ok: o.ok, ...(o.error ? { error: JSON.parse(redact(JSON.stringify(o.error), secrets())) } : {}) })) } } as never);
        node.status({ fill: r.summary.failed ? 'red' : 'green', shape: 'dot', text: t('onvifq-apps.status.fleet', { ok: r.summary.ok, total: r.summary.total }) });
        if (r.summary.failed) {
          const failed = r.results.filter((o) => !o.ok).map((o) => o.address);
          const e = inputError(t('onvifq-apps.error.fleetFailed', { action, failed: failed.join(', '), count: failed.length, total: r.summary.total }));
          e.kind = 'fleet';
          (e as { cause?: Record<string, unknown> }).cause!.kind = 'fleet';
          (e as { cause?: Record<string, unknown> }).cause!.failed = failed;
          done(e);
        } else done();
      } catch (err) {
        // Stopped by a redeploy: the flow that sent it is gone, nobody is left to catch it.
        if (abort.signal.aborted) done();
        else done(failure(err));
      } finally {
        running.delete(abort);
      }
    }

    /** The node error for Catch: the library's words plus the step that failed, the AppID and the device's Status. */
    function failure(err: unknown): NodeError {
      node.status({ fill: 'red', shape: 'dot', text: t('onvifq-apps.status.failed', { step: String((err as { step?: unknown }).step ?? 'operation') }) });
      const out = toNodeError(err, config!.label, secrets(), t);
      const cause = (out as { cause?: Record<string, unknown> }).cause!;
      if (isOnvifError(err)) {
        const e = err as { step?: string; appId?: string; appStatus?: string };
        for (const key of ['step', 'appId', 'appStatus'] as const) {
          if (e[key] !== undefined) {
            const value = redact(String(e[key]), secrets());
            (out as unknown as Record<string, unknown>)[key] = value;
            cause[key] = value;
          }
        }
      }
      return out;
    }

    function pickAction(msg: NodeMessageInFlow): AppAction | Error {
      if (setting !== ACTION_FROM_MSG) {
        return isAppAction(setting) ? setting : inputError(t('onvifq-apps.error.unknownAction', { name: `'${String(setting).slice(0, 40)}'`, from: t('onvifq-apps.label.action'), actions: APP_ACTIONS.join(', ') }));
      }
      const raw = (msg as { action?: unknown }).action;
      const fromAction = raw !== undefined && raw !== '';
      const name = fromAction ? raw : msg.topic;
      if (isAppAction(name)) return name;
      if (name === undefined || name === '') return inputError(t('onvifq-apps.error.noAction', { actions: APP_ACTIONS.join(', ') }));
      const shown = typeof name === 'string' ? `'${name.slice(0, 40)}'` : `a ${typeof name}`;
      return inputError(t('onvifq-apps.error.unknownAction', { name: shown, from: fromAction ? 'msg.action' : 'msg.topic', actions: APP_ACTIONS.join(', ') }));
    }

    node.on('close', (done: () => void) => {
      closed = true;
      clearTimeout(watchRetry);
      watchSub?.unsubscribe();
      watchSub = undefined;
      for (const a of running) a.abort();
      running.clear();
      const m = manager;
      manager = undefined;
      Promise.all([m?.close(), fleet.closeAll()]).then(() => done(), () => done());
    });
  }

  RED.nodes.registerType('onvifq-apps', OnvifqAppsNode as never);
}
