import type { Node, NodeAPI, NodeDef, NodeMessage, NodeStatus } from 'node-red';
import type { Request, Response } from 'express';
import type { Subscription } from 'rxjs';
import { EventSelection, listEventTopics, type EventHub, type EventStreamState, type OnvifEvent } from '../../lib/events';
import { isOnvifError } from '../../lib/errors';
import { OnvifDevice } from '../../lib/device/onvif-device';
import { deviceOptionsFrom, settingsFromDialog, type DeviceConfigNode, type DeviceCredentials } from '../shared/device-config';
import { toNodeError } from '../shared/errors';
import { RetryCountdown } from '../shared/countdown';
import { eventsStatus } from './status';
import { runtimeTexts, type Texts } from '../shared/i18n';

interface EventsDef extends NodeDef {
  device?: string;
  /** ConcreteSet topic expression, e.g. `tns1:RuleEngine//.|tns1:Monitoring//.`; empty = every topic. */
  filter?: string;
  dropInitialized?: boolean;
  dropDeleted?: boolean;
  onlyChanges?: boolean;
  /** A second output carrying every change of the event stream's state. */
  statusOutput?: boolean;
}

/** msg.payload on the status output. */
export interface StatusPayload {
  status: EventStreamState['status'];
  error?: string;
  errorKind?: string;
  retryInMs?: number;
  subscribers: number;
  lastEventAt?: string;
  eventsDelivered: number;
  subscriptionAddress?: string;
  terminationTime?: string;
}

export const STATUS_TOPIC = 'onvifq/status';

export default function (RED: NodeAPI): void {
  const t = runtimeTexts(RED, 'onvifq-events');
  function OnvifqEventsNode(this: Node, def: EventsDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const config = def.device ? (RED.nodes.getNode(def.device) as DeviceConfigNode | null) : null;
    const filter = String(def.filter ?? '').trim();
    const withStatusOutput = def.statusOutput === true || (def.statusOutput as unknown) === 'true';
    const selection = new EventSelection({
      dropInitialized: def.dropInitialized === true,
      dropDeleted: def.dropDeleted === true,
      onlyChanges: def.onlyChanges === true,
    });
    const secrets = (): Array<string | undefined> => [config?.credentials?.password];

    let stateSub: Subscription | undefined;
    let eventSub: Subscription | undefined;
    let hub: EventHub | undefined;
    let lastEventAt: Date | undefined;
    let shownText = '';
    let lastReported = '';
    const countdown = new RetryCountdown(() => hub && showState(hub.state));

    function show(status: NodeStatus): void {
      // Statuses travel to every open editor: send only what changed (a burst of events must not flood /comms).
      const key = `${status.fill}|${status.shape}|${status.text}`;
      if (key === shownText) return;
      shownText = key;
      node.status(status);
    }

    function showState(state: EventStreamState): void {
      show(eventsStatus(t, state, lastEventAt));
    }

    function onState(state: EventStreamState): void {
      // Count down under the node so the user sees when the next attempt comes.
      countdown.follow(state.status === 'retrying' ? state.retryAt : undefined);
      showState(state);

      const payload = statusPayload(state);
      const signature = `${payload.status}|${payload.error ?? ''}|${payload.retryInMs ?? ''}|${payload.subscribers}`;
      if (signature === lastReported) return;
      const previous = lastReported.split('|')[0];
      lastReported = signature;
      if (withStatusOutput) node.send([null, { topic: STATUS_TOPIC, payload, device: config?.msgDevice() } as NodeMessage]);
      if (state.status === 'failed' && previous !== 'failed' && config) {
        // Retrying stopped: tell a Catch node (and the log) what is wrong and what to do.
        node.error(toNodeError(state.error ?? new Error(t('onvifq-events.error.subscriptionFailed')), config.label, secrets(), t), {
          topic: STATUS_TOPIC,
          payload,
        });
      }
      // Losing the subscription is logged once per device by the config node, not by every events node.
    }

    function onEvent(ev: OnvifEvent): void {
      if (!selection.accept(ev)) return;
      lastEventAt = new Date();
      const device = config!.msgDevice();
      const event: Record<string, unknown> = {
        topic: ev.topic,
        source: structuredClone(ev.source),
        key: structuredClone(ev.key),
        data: structuredClone(ev.data),
        operation: ev.operation,
        time: ev.time,
        device,
      };
      if (ev.rawTime !== undefined) event.rawTime = ev.rawTime;
      // Every node gets its own copies: the hub hands the same event to all subscribers.
      const msg = { topic: ev.topic, payload: structuredClone(ev.data), event } as NodeMessage;
      node.send(withStatusOutput ? [msg, null] : msg);
      if (hub && hub.state.status === 'active') show(eventsStatus(t, hub.state, lastEventAt));
    }

    if (!config) {
      node.status({ fill: 'red', shape: 'ring', text: t('onvifq-events.status.noDevice') });
    } else {
      try {
        hub = config.eventHub();
        stateSub = hub.state$.subscribe(onState);
        eventSub = hub.events(filter).subscribe({
          next: onEvent,
          error: (err: unknown) => {
            // The hub retries by itself; an error here means it gave up for good.
            show({ fill: 'red', shape: 'ring', text: t('onvifq-events.status.failed') });
            node.error(toNodeError(err, config.label, secrets(), t), { topic: STATUS_TOPIC, payload: hub ? statusPayload(hub.state) : undefined });
          },
        });
      } catch (err) {
        show({ fill: 'red', shape: 'ring', text: t('onvifq-events.status.badConfig') });
        node.error(toNodeError(err, config.label, secrets(), t).message);
      }
    }

    node.on('close', (done: () => void) => {
      countdown.stop();
      stateSub?.unsubscribe();
      stateSub = undefined;
      // The last subscriber leaving makes the hub send Unsubscribe in the background; closing never waits for the device.
      eventSub?.unsubscribe();
      eventSub = undefined;
      hub = undefined;
      done();
    });
  }

  RED.nodes.registerType('onvifq-events', OnvifqEventsNode as never);

  // The topic picker in the editor: the event topics a deployed config node's device announces (GetEventProperties).
  RED.httpAdmin.get('/onvifq-events/topics/:id', RED.auth.needsPermission('onvifq-device.read'), (req: Request, res: Response) => {
    void topicsFor(RED, t, req, res);
  });
  // The same for the config node's settings as the dialog has them (new or changed, not deployed yet), as Test
  // connection does: a one-off session with those settings and the stored password of that id when none is typed.
  RED.httpAdmin.post('/onvifq-events/topics', RED.auth.needsPermission('onvifq-device.write'), (req: Request, res: Response) => {
    void topicsForDialog(RED, t, req, res);
  });
}

async function topicsForDialog(RED: NodeAPI, t: Texts, req: Request, res: Response): Promise<void> {
  const { props, creds, problems } = settingsFromDialog(req.body, (id) => RED.nodes.getCredentials(id) as DeviceCredentials | undefined);
  const label = props.name || props.address || 'the device';
  if (problems.length) {
    res.status(400).json({ ok: false, kind: 'invalid-input', message: t('onvifq-events.error.cannotUse', { problems: problems.join('; ') }) });
    return;
  }
  const device = new OnvifDevice(deviceOptionsFrom(props, creds));
  try {
    await device.connect();
    const topics = await listEventTopics(device);
    res.json({ ok: true, device: label, topics });
  } catch (err: unknown) {
    const kind = isOnvifError(err) ? err.kind : 'bad-response';
    res.status(kind === 'invalid-input' ? 400 : 502).json({ ok: false, kind, message: toNodeError(err, label, [creds.password], t).message });
  } finally {
    device.close().catch(() => undefined);
  }
}

function statusPayload(state: EventStreamState): StatusPayload {
  const out: StatusPayload = { status: state.status, subscribers: state.subscribers, eventsDelivered: state.eventsDelivered };
  if (state.error) {
    out.error = state.error.message;
    out.errorKind = state.error.kind;
  }
  if (state.retryInMs !== undefined) out.retryInMs = state.retryInMs;
  if (state.lastEventAt !== undefined) out.lastEventAt = state.lastEventAt;
  if (state.subscriptionAddress !== undefined) out.subscriptionAddress = state.subscriptionAddress;
  if (state.terminationTime !== undefined) out.terminationTime = state.terminationTime;
  return out;
}

async function topicsFor(RED: NodeAPI, t: Texts, req: Request, res: Response): Promise<void> {
  const id = String(req.params.id ?? '');
  const config = RED.nodes.getNode(id) as DeviceConfigNode | null;
  if (!config || typeof (config as Partial<DeviceConfigNode>).link !== 'function') {
    res.status(404).json({
      ok: false,
      kind: 'invalid-input',
      message: t('onvifq-events.error.notDeployed'),
    });
    return;
  }
  const password = config.credentials?.password;
  try {
    const device = await config.link().device();
    const topics = await listEventTopics(device);
    res.json({ ok: true, device: config.label, topics });
  } catch (err: unknown) {
    const kind = isOnvifError(err) ? err.kind : 'bad-response';
    const message = toNodeError(err, config.label, [password], t).message;
    res.status(kind === 'invalid-input' ? 400 : 502).json({ ok: false, kind, message });
  }
}

