import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow } from 'node-red';
import type { Subscription } from 'rxjs';
import { DiscoveryListener, probe, probe$, type DiscoveredDevice, type PresenceEvent } from '../../lib/discovery';
import type { NodeError } from '../shared/errors';
import { registerDiscoveryAdmin } from './admin';
import { discoveryError, discoveryFailedStatus } from './errors';
import { PresenceRegistry, type PresenceChange } from '../../lib/discovery';
import { probeOptions, readOverrides, readSettings, type DiscoverProps, type RunOverrides } from './settings';
import type { SendFn } from '../shared/input';
import { runtimeTexts } from '../shared/i18n';

type DiscoverDef = NodeDef & DiscoverProps;

export const TOPIC_FOUND = 'onvifq/discover';
export const TOPIC_ONLINE = 'onvifq/online';
export const TOPIC_OFFLINE = 'onvifq/offline';
/** A deploy-time probe waits this long so the nodes it is wired to exist. */
const DEPLOY_PROBE_DELAY_MS = 100;

export default function (RED: NodeAPI): void {
  const t = runtimeTexts(RED, 'onvifq-discover');
  function OnvifqDiscoverNode(this: Node, def: DiscoverDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const { settings, problems } = readSettings(def);
    const registry = new PresenceRegistry(settings.missLimit);
    const running = new Set<AbortController>();
    const timers: NodeJS.Timeout[] = [];
    let listener: DiscoveryListener | undefined;
    let listenerEvents: Subscription | undefined;
    let backgroundRunning = false;
    let closed = false;
    /** Devices found by the last probe-mode run, for the status. */
    let lastCount: number | undefined;
    /** Watch mode has finished a first search: repeats keep "watching: n online" instead of flipping to "searching…". */
    let watching = false;
    const configError = problems.length
      ? new Error(t('onvifq-discover.error.badSettings', { problems: problems.join('; ') }))
      : undefined;

    if (configError) {
      node.status({ fill: 'red', shape: 'ring', text: t('onvifq-discover.status.badConfig') });
      node.error(configError.message);
    } else {
      showIdle();
      // Hello/Bye arrive by multicast. With unicast targets the user told us multicast does not pass
      // (or is not wanted), so watch mode then relies on the repeated probes alone.
      if (settings.mode === 'watch' && settings.targets.length === 0) void startListener();
      if (settings.probeAtDeploy) timers.push(setTimeout(runInBackground, DEPLOY_PROBE_DELAY_MS));
      if (settings.intervalMs > 0) timers.push(setInterval(runInBackground, settings.intervalMs));
    }

    node.on('input', (msg, send, done) => {
      if (configError) {
        done(configError);
        return;
      }
      const overrides = readOverrides(msg as { targets?: unknown; timeout?: unknown });
      if (overrides instanceof Error) {
        done(overrides);
        return;
      }
      runOnce(overrides, send, msg).then(
        () => done(),
        (err: NodeError) => done(err),
      );
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      closed = true;
      for (const t of timers) clearTimeout(t); // clearTimeout clears intervals too
      for (const run of running) run.abort();
      listenerEvents?.unsubscribe();
      const stopping = listener?.stop();
      listener = undefined;
      Promise.resolve(stopping).then(
        () => done(),
        () => done(),
      );
    });

    /** A deploy-time or interval probe: no msg to answer, so errors go to node.error (and Catch nodes). */
    function runInBackground(): void {
      // An interval shorter than the window must not stack probes.
      if (backgroundRunning || closed) return;
      backgroundRunning = true;
      runOnce({}, node.send.bind(node), undefined)
        .catch((err: NodeError) => node.error(err, { topic: TOPIC_FOUND, error: { message: err.message, kind: err.kind } } as never))
        .finally(() => {
          backgroundRunning = false;
        });
    }

    /**
     * One probe run. `input` is the msg that triggered it (undefined for deploy and interval runs); its
     * other properties travel on in probe mode. Resolves at the end of the window, whatever was found.
     */
    async function runOnce(overrides: RunOverrides, send: SendFn, input: NodeMessageInFlow | undefined): Promise<void> {
      const abort = new AbortController();
      running.add(abort);
      if (settings.mode !== 'watch' || !watching) node.status({ fill: 'blue', shape: 'dot', text: t('onvifq-discover.status.searching') });
      try {
        const options = probeOptions(settings, overrides, abort.signal);
        if (settings.mode === 'watch') {
          const answered = new Set<string>();
          await collect$(options, (device) => {
            answered.add(device.endpoint);
            emit(send, registry.seen(device, 'probe'));
          });
          // Only a probe with the node's own targets can tell that a device stopped answering.
          if (!closed && !abort.signal.aborted && !overrides.targets) {
            for (const change of registry.probeMissed(answered)) emit(send, change);
          }
        } else if (settings.output === 'list') {
          const found = (await probe(options)).map((d) => registry.remember(d));
          found.sort(byAddress);
          if (closed) return;
          const msg = (input ?? {}) as NodeMessage & Record<string, unknown>;
          msg.topic = TOPIC_FOUND;
          msg.payload = found;
          send(msg);
          lastCount = found.length;
        } else {
          let count = 0;
          await collect$(options, (device) => {
            count += 1;
            const msg = (input ? RED.util.cloneMessage(input) : {}) as NodeMessage & Record<string, unknown>;
            msg.topic = TOPIC_FOUND;
            msg.payload = registry.remember(device);
            send(msg);
          });
          lastCount = count;
        }
      } catch (err) {
        const nodeErr = discoveryError(err, 'node', t);
        running.delete(abort);
        if (!closed) node.status(discoveryFailedStatus(t, nodeErr));
        throw nodeErr;
      } finally {
        running.delete(abort);
      }
      if (settings.mode === 'watch') watching = true;
      if (!closed && running.size === 0) showIdle();
    }

    /** Each device as it answers; resolves when the window ends (or the node closes). */
    function collect$(options: Parameters<typeof probe$>[0], onDevice: (d: DiscoveredDevice) => void): Promise<void> {
      return new Promise((resolve, reject) => {
        probe$(options).subscribe({
          next: (d) => {
            if (!closed) onDevice(d);
          },
          error: reject,
          complete: resolve,
        });
      });
    }

    function showIdle(): void {
      if (settings.mode === 'watch') {
        const n = registry.onlineCount;
        node.status({ fill: n > 0 ? 'green' : 'grey', shape: n > 0 ? 'dot' : 'ring', text: t('onvifq-discover.status.watching', { count: n }) });
      } else if (lastCount === undefined) {
        node.status({});
      } else if (lastCount === 0) {
        node.status({ fill: 'grey', shape: 'ring', text: t('onvifq-discover.status.noDevices') });
      } else {
        node.status({ fill: 'green', shape: 'dot', text: lastCount === 1 ? t('onvifq-discover.status.oneDevice') : t('onvifq-discover.status.devices', { count: lastCount }) });
      }
    }

    function emit(send: SendFn, change: PresenceChange | undefined): void {
      if (!change || closed) return;
      send({ topic: change.state === 'online' ? TOPIC_ONLINE : TOPIC_OFFLINE, payload: change.device, reason: change.reason } as NodeMessage);
      if (running.size === 0) showIdle();
    }

    async function startListener(): Promise<void> {
      const l = new DiscoveryListener(settings.iface ? { interfaces: [settings.iface] } : {});
      listener = l;
      listenerEvents = l.events$.subscribe((ev: PresenceEvent) => {
        emit(node.send.bind(node), ev.type === 'hello' ? registry.seen(ev.device, 'hello') : registry.bye(ev.device));
      });
      try {
        await l.start();
      } catch (err) {
        if (closed) return;
        const reason = err instanceof Error ? err.message : String(err);
        node.status({ fill: 'red', shape: 'ring', text: t('onvifq-discover.status.listenFailed') });
        node.error(t('onvifq-discover.error.cannotListen', { reason }));
      }
    }
  }

  RED.nodes.registerType('onvifq-discover', OnvifqDiscoverNode as never);
  registerDiscoveryAdmin(RED, t);
}

/** A stable order for the list output: by the first (best) address, then endpoint. */
function byAddress(a: DiscoveredDevice, b: DiscoveredDevice): number {
  return (a.xaddrs[0] ?? '').localeCompare(b.xaddrs[0] ?? '') || a.endpoint.localeCompare(b.endpoint);
}
