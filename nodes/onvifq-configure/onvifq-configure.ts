import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import type { Request, Response } from 'express';
import type { Subscription } from 'rxjs';
import { FleetDevices, runTask, type TaskProgress } from '../../lib/configure';
import type { DeviceLink } from '../../lib/link';
import type { OnvifDevice } from '../../lib/device/onvif-device';
import type { SessionChange } from '../../lib/device/types';
import { isOnvifError } from '../../lib/errors';
import { findOperation } from '../../lib/schema';
import type { DeviceConfigNode, MsgDevice } from '../shared/device-config';
import { inputError, redact, toNodeError, type NodeError } from '../shared/errors';
import { callFailedStatus, linkStatus } from '../shared/status';
import { RetryCountdown } from '../shared/countdown';
import { runtimeTexts } from '../shared/i18n';
import { CATALOGUE, GROUPS, OPERATION_FROM_MSG, OPERATION_OTHER, PASSWORD_TARGETS, isConfigureOperation, isTask } from './operations';
import { buildParams, parseNodeParams } from './params';
import { changeStatus, progressStatus, taskDoneStatus } from './status';
import type { DoneFn, SendFn } from '../shared/input';

interface ConfigureDef extends NodeDef {
  device?: string;
  /** A catalogued operation or task, 'msg' (from msg.operation / msg.topic) or 'other' (the `other` field). */
  operation?: string;
  /** 'other': any operation of any service the device lists, e.g. `tev:GetEventProperties`. */
  other?: string;
  /** The editor's parameters (form and JSON editor): a JSON object, never a password. */
  params?: string | Record<string, unknown>;
}

interface ConfigureCredentials {
  /** The password for commission (admin), CreateUsers or SetUser, kept out of the flow JSON. */
  password?: string;
}

/** Where one message's work goes: the config node's own device, or one named by msg.address. */
interface Target {
  device: OnvifDevice;
  link?: DeviceLink;
  msgDevice: () => MsgDevice;
}

const PROGRESS_EVERY_MS = 200;

export default function (RED: NodeAPI): void {
  const t = runtimeTexts(RED, 'onvifq-configure');
  function OnvifqConfigureNode(this: Node<ConfigureCredentials>, def: ConfigureDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const config = def.device ? (RED.nodes.getNode(def.device) as DeviceConfigNode | null) : null;
    const setting = def.operation || 'GetDeviceInformation';
    const otherName = String(def.other ?? '').trim();
    const nodeParams = parseNodeParams(def.params);
    const secrets = (): Array<string | undefined> => [config?.credentials?.password, node.credentials?.password];
    const subscriptions: Subscription[] = [];
    const running = new Set<AbortController>();
    const fleet = new FleetDevices((device, address) => {
      subscriptions.push(device.changes$.subscribe((c) => onChange(c, address)));
    });
    let link: DeviceLink | undefined;
    const countdown = new RetryCountdown(() => link && node.status(linkStatus(t, link.state)));
    /** When the device last said it moved: a call that ends after that keeps 'device moved' in the status. */
    let movedAt = 0;

    if (!config) {
      node.status({ fill: 'red', shape: 'ring', text: t('onvifq-configure.status.noDevice') });
    } else if (nodeParams instanceof Error) {
      node.status({ fill: 'red', shape: 'ring', text: t('onvifq-configure.status.badParameters') });
      node.error(nodeParams.message);
    } else {
      try {
        link = config.link();
        subscriptions.push(link.state$.subscribe((state) => {
          countdown.follow(state.status === 'retrying' ? state.retryAt : undefined);
          node.status(linkStatus(t, state));
        }));
        subscriptions.push(link.onvifDevice.changes$.subscribe((c) => onChange(c)));
        // Connect now, so the status tells the truth before the first message. Failures show in the status
        // and retry in the background; a message sent meanwhile gets its own error.
        link.device().catch(() => undefined);
      } catch (err) {
        node.status({ fill: 'red', shape: 'ring', text: t('onvifq-configure.status.badConfig') });
        node.error(toNodeError(err, config.label, [], t).message);
      }
    }

    /** What the session did by itself: warn where the user must act, show restarts in the status. */
    function onChange(change: SessionChange, address?: string): void {
      const label = config?.label ?? 'the device';
      const text = redact(change.text, secrets());
      if (change.kind === 'credentials-changed') {
        node.warn(
          address
            ? t('onvifq-configure.warning.passwordNoLongerFits', { label, address, text })
            : t('onvifq-configure.warning.passwordNeedsUpdate', { label, text }),
        );
      } else if (change.kind === 'moved') {
        movedAt = Date.now();
        node.warn(text);
      }
      const status = changeStatus(t, change);
      if (status) node.status(status);
    }

    node.on('input', (msg, send, done) => {
      void handle(msg, send, done);
    });

    async function handle(msg: NodeMessageInFlow, send: SendFn, done: DoneFn): Promise<void> {
      if (!config) {
        done(inputError(t('onvifq-device.error.noDevice')));
        return;
      }
      if (nodeParams instanceof Error) {
        done(nodeParams);
        return;
      }
      const picked = pickOperation(msg);
      if (picked instanceof Error) {
        done(picked);
        return;
      }
      const { operation, fromNode } = picked;
      const params = buildParams(operation, nodeParams, fromNode, node.credentials?.password, msg.payload);
      if (params instanceof Error) {
        done(params);
        return;
      }
      const target = pickTarget(msg);
      if (target instanceof Error) {
        done(target);
        return;
      }
      const abort = new AbortController();
      running.add(abort);
      try {
        if (isTask(operation)) await task(operation, params, target, abort.signal, msg, send);
        else await call(operation, params, target, abort.signal, msg, send);
        done();
      } catch (err) {
        // Stopped by a redeploy: the flow that sent it is gone, nobody is left to catch it.
        if (abort.signal.aborted) done();
        else done(failure(err, operation, target));
      } finally {
        running.delete(abort);
      }
    }

    async function call(operation: string, params: Record<string, unknown>, target: Target, signal: AbortSignal, msg: NodeMessageInFlow, send: SendFn): Promise<void> {
      const started = Date.now();
      const result = target.link ? await target.link.call(operation, params, { signal }) : await target.device.call(operation, params, { signal });
      msg.payload = result;
      msg.device = target.msgDevice();
      if (movedAt >= started) {
        // Keep 'device moved' visible: the warning says where it went.
      } else if (target.link) {
        // After a restart the session is a new one (a hard factory default leaves the device in Factory Default State).
        const state = target.link.state;
        node.status(linkStatus(t, state.status === 'connected' && target.device.session ? { ...state, session: target.device.session } : state));
      } else {
        node.status({ fill: 'green', shape: 'dot', text: t('onvifq-configure.status.done') });
      }
      send(msg);
    }

    async function task(name: string, params: Record<string, unknown>, target: Target, signal: AbortSignal, msg: NodeMessageInFlow, send: SendFn): Promise<void> {
      let lastStep = '';
      let lastAt = 0;
      const onProgress = (p: TaskProgress): void => {
        // Transfers report often; the status travels to every open editor, so only a few per second.
        const now = Date.now();
        if (p.step === lastStep && now - lastAt < PROGRESS_EVERY_MS && p.percent !== 100) return;
        lastStep = p.step;
        lastAt = now;
        node.status(progressStatus(p));
      };
      const work = (device: OnvifDevice): Promise<unknown> => runTask(device, name as never, params, { onProgress, signal });
      const result = target.link ? await target.link.run(work) : await work(target.device);
      if (name === 'backup') {
        const r = result as { bytes: number; buffer?: Buffer; file?: string; contentType?: string };
        if (r.buffer) {
          msg.payload = r.buffer;
          msg.backup = { bytes: r.bytes, ...(r.contentType ? { contentType: r.contentType } : {}) };
        } else {
          msg.payload = { bytes: r.bytes, file: r.file, ...(r.contentType ? { contentType: r.contentType } : {}) };
        }
      } else {
        msg.payload = result;
      }
      msg.device = target.msgDevice();
      node.status(taskDoneStatus(t, name, result));
      send(msg);
    }

    function failure(err: unknown, operation: string, target: Target): NodeError {
      if (isOnvifError(err) && err.kind === 'invalid-input' && !isTask(operation)) {
        // The library checks the parameters against the schema before sending anything.
        return inputError(t('onvifq-configure.error.payloadDoesNotFit', { operation, reason: redact(err.message, secrets()).replace(/\.$/, '') }));
      }
      // Link-level trouble (retrying, auth failed) already shows through state$; a failed call shows its own.
      if (!target.link || target.link.state.status === 'connected') node.status(callFailedStatus(t, isOnvifError(err) ? err : undefined));
      const label = target.link ? config!.label : `${config!.label}' for '${target.device.displayAddress}`;
      const out = toNodeError(err, label, secrets(), t);
      const steps = (err as { steps?: unknown }).steps;
      if (Array.isArray(steps)) {
        // commission: what was done before it stopped, for a Catch node to report or retry from.
        (out as NodeError & { steps?: unknown }).steps = steps;
        (out as { cause?: Record<string, unknown> }).cause!.steps = JSON.parse(redact(JSON.stringify(steps), secrets()));
      }
      return out;
    }

    function pickOperation(msg: NodeMessageInFlow): { operation: string; fromNode: boolean } | Error {
      let name: unknown = setting;
      let from = 'the node setting';
      let fromNode = true;
      if (setting === OPERATION_OTHER && otherName) {
        name = otherName;
        from = "the node's operation name";
      } else if (setting === OPERATION_FROM_MSG || setting === OPERATION_OTHER) {
        fromNode = false;
        if (msg.operation !== undefined && msg.operation !== '') {
          name = msg.operation;
          from = 'msg.operation';
        } else {
          name = msg.topic;
          from = 'msg.topic';
        }
        if (name === undefined || name === '') {
          return inputError(t('onvifq-configure.error.noOperation'));
        }
      }
      const known = typeof name === 'string' && (isConfigureOperation(name) || findOperation(name) !== undefined);
      if (!known) {
        const shown = typeof name === 'string' ? `'${name.slice(0, 60)}'` : `a ${typeof name}`;
        return inputError(t('onvifq-configure.error.unknownOperation', { name: shown, from }));
      }
      return { operation: name as string, fromNode };
    }

    function pickTarget(msg: NodeMessageInFlow): Target | Error {
      const address = (msg as { address?: unknown }).address;
      if (address === undefined || address === null || address === '') {
        let active: DeviceLink;
        try {
          active = config!.link();
        } catch (err) {
          return toNodeError(err, config!.label, secrets(), t);
        }
        return { device: active.onvifDevice, link: active, msgDevice: () => config!.msgDevice() };
      }
      if (typeof address !== 'string' || !address.trim()) {
        return inputError(t('onvifq-configure.error.addressNotText'));
      }
      try {
        const template = config!.link().onvifDevice.options;
        const device = fleet.get(address, template);
        return {
          device,
          msgDevice: () => ({ name: device.displayAddress, xaddr: device.session?.xaddr ?? device.url.toString(), endpoint: device.session?.endpoint }),
        };
      } catch (err) {
        const e = toNodeError(err, config!.label, secrets(), t);
        return isOnvifError(err) && err.kind === 'invalid-input' ? inputError(t('onvifq-configure.error.badAddress', { reason: e.message })) : e;
      }
    }

    node.on('close', (done: () => void) => {
      countdown.stop();
      for (const a of running) a.abort();
      running.clear();
      for (const s of subscriptions.splice(0)) s.unsubscribe();
      link = undefined;
      fleet.closeAll().then(done, done);
    });
  }

  RED.nodes.registerType('onvifq-configure', OnvifqConfigureNode as never, {
    credentials: { password: { type: 'password' } },
  } as never);

  // The editor's operation picker and forms: the same catalogue the runtime uses.
  RED.httpAdmin.get('/onvifq-configure/catalogue', RED.auth.needsPermission('onvifq-configure.read'), (_req: Request, res: Response) => {
    res.json({ groups: GROUPS, operations: CATALOGUE, passwordTargets: PASSWORD_TARGETS });
  });
}

