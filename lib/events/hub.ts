import { BehaviorSubject, Observable, type Subscriber } from 'rxjs';
import type { OnvifDevice } from '../device/onvif-device';
import { OnvifError, isOnvifError } from '../errors';
import { backoffDelay, type BackoffOptions } from '../util/backoff';
import { systemClock, type Clock, type TimerHandle } from '../util/clock';
import { NS } from '../xml/namespaces';
import { parseNotifications, readEventTypes, shareEventTypes, type EventTypes, type OnvifEvent } from './notifications';
import { getEventProperties } from './topic-set';
import { PullPoint, isResourceUnknown, pullLimits, type LeaseTimes } from './pull-point';
import { compileTopicFilter, type TopicFilter } from './topics';

export type EventStreamStatus = 'idle' | 'subscribing' | 'active' | 'retrying' | 'failed' | 'closed';

export interface EventStreamState {
  status: EventStreamStatus;
  /** Why retrying / failed. */
  error?: OnvifError;
  /** Delay before the next attempt (retrying), as scheduled. */
  retryInMs?: number;
  /** When the next attempt starts (retrying), in the hub's clock (ms). */
  retryAt?: number;
  /** Observers (events nodes) currently attached. */
  subscribers: number;
  /** The pull point in use (reachable URL). */
  subscriptionAddress?: string;
  /** Lease end in the device's clock, as last reported. */
  terminationTime?: string;
  /** Local ISO time of the last delivered event. */
  lastEventAt?: string;
  eventsDelivered: number;
  /** The PullMessages Timeout in use, s (lower than configured when the device asked for less or closes long polls early). */
  pullTimeoutS?: number;
}

/** The largest MessageLimit the hub grows to while a device has a backlog (the simulator's own maximum too). */
const MAX_GROWN_MESSAGE_LIMIT = 1000;

export interface EventHubOptions {
  /** PullMessages Timeout, s (default 45; the device must accept up to 60). */
  pullTimeoutS?: number;
  /**
   * PullMessages MessageLimit to start with (default 100). While answers come back full (the device has a backlog)
   * it grows, up to 1000, so a burst drains in fewer round trips; a device that supports less just returns fewer
   * (Core §9.1.2), and one that faults on the larger limit is asked with this one again.
   */
  messageLimit?: number;
  /** InitialTerminationTime and Renew lease, s (default 120). */
  initialTerminationS?: number;
  /** Recreate delays (lib/util/backoff: 1 s doubling to 60 s, never longer than the cap). */
  backoff?: BackoffOptions;
  /** Time source of the renew and retry timers (default: the system clock). */
  clock?: Clock;
  /** Unsubscribe timeout when the last subscriber goes or on close, ms (default 2000). */
  unsubscribeTimeoutMs?: number;
  /** Timeout of the short requests (Create, SetSynchronizationPoint, Renew, GetEventProperties), ms (default: the device's). */
  requestTimeoutMs?: number;
  /** Told about every failure (DeviceLink uses it to notice a lost device or rejected credentials). */
  reportFailure?: (error: OnvifError) => void;
  /**
   * When the device's own connection tries next (DeviceLink: while it retries), in the hub's clock; undefined when
   * it is not retrying. After losing the device the hub waits for that attempt instead of keeping its own schedule.
   */
  retryAt?: () => number | undefined;
}

interface Attached {
  subscriber: Subscriber<OnvifEvent>;
  matches: TopicFilter;
}

/** One subscription attempt's life: everything stop() must cancel. */
class Run {
  constructor(private readonly clock: Clock) {}
  stopped = false;
  readonly abort = new AbortController();
  pullPoint?: PullPoint;
  /** The loop itself; stop() waits for it while a CreatePullPointSubscription is in flight. */
  done?: Promise<void>;
  /** True while CreatePullPointSubscription is outstanding (it is never aborted: see loop()). */
  creating = false;
  /** Aborts the outstanding PullMessages only (a failed Renew uses it to hand its error to the loop). */
  pullAbort?: AbortController;
  failure?: OnvifError;
  renewTimer?: TimerHandle;
  lastLease?: { currentTime?: string; at: number };
  /** Properties already reported as Initialized by this subscription (the device sends them once on create and again on SetSynchronizationPoint). */
  readonly initialized = new Map<string, string>();
  private wake?: () => void;

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const clock = this.clock;
      const t = clock.setTimeout(done, ms);
      function done() {
        clock.clearTimeout(t);
        resolve();
      }
      this.wake = done;
    });
  }

  stop(): void {
    this.stopped = true;
    this.abort.abort();
    if (this.renewTimer) this.clock.clearTimeout(this.renewTimer);
    this.renewTimer = undefined;
    this.wake?.();
  }
}

const MAX_TIMER_MS = 24 * 3600_000;
const PROPERTY_CACHE_LIMIT = 2000;

function asOnvifError(e: unknown): OnvifError {
  return isOnvifError(e) ? e : new OnvifError('bad-response', `Unexpected failure in the event subscription: ${(e as Error)?.message ?? e}`, { cause: e });
}

/** Failures that retrying cannot fix: stop and say why. */
function isFatal(e: OnvifError): boolean {
  return e.kind === 'auth' || e.kind === 'tls' || e.kind === 'invalid-input' || e.kind === 'unsupported' || e.kind === 'closed';
}

const APP_STATE_TOPIC = 'tns1:AppMgmt/State';

/** A change of an app's state (not the states every new subscription reports). */
function isAppStateChange(e: OnvifEvent): boolean {
  return e.topic === APP_STATE_TOPIC && e.operation !== undefined && e.operation !== 'Initialized';
}

function propertyKey(e: OnvifEvent): string {
  return `${e.topic}\u0000${JSON.stringify(e.source)}\u0000${JSON.stringify(e.key)}`;
}

/**
 * The events of one device, shared: one pull-point subscription however many observers (events nodes)
 * listen, created when the first comes and unsubscribed when the last goes. Each observer filters
 * locally by topic. The subscription never silently dies: lost pull points are recreated with jittered
 * backoff, and every state change shows on `state$`; only an authentication (or settings) failure, or a
 * device that says it has no event service, stops it.
 */
export class EventHub {
  readonly state$: Observable<EventStreamState>;
  private readonly subject: BehaviorSubject<EventStreamState>;
  private readonly attached = new Set<Attached>();
  private readonly properties = new Map<string, OnvifEvent>();
  private readonly opts: Required<Omit<EventHubOptions, 'backoff' | 'requestTimeoutMs' | 'reportFailure' | 'retryAt'>> & { backoff: BackoffOptions };
  private run?: Run;
  private types?: EventTypes;
  private closed = false;
  private closing?: Promise<void>;
  private pendingStop?: Promise<void>;
  private delivered = 0;
  private lastEventAt?: string;
  private terminationTime?: string;
  /** PullMessages Timeout and MessageLimit as learned from this device (its limits, early-closed long polls). */
  private learned?: { timeoutS: number; limit: number };

  constructor(
    private readonly getDevice: () => Promise<OnvifDevice>,
    private readonly options: EventHubOptions = {},
  ) {
    this.opts = {
      pullTimeoutS: options.pullTimeoutS ?? 45,
      messageLimit: options.messageLimit ?? 100,
      initialTerminationS: options.initialTerminationS ?? 120,
      unsubscribeTimeoutMs: options.unsubscribeTimeoutMs ?? 2000,
      backoff: options.backoff ?? {},
      clock: options.clock ?? systemClock,
    };
    this.subject = new BehaviorSubject<EventStreamState>({ status: 'idle', subscribers: 0, eventsDelivered: 0 });
    this.state$ = new Observable<EventStreamState>((s) => this.subject.subscribe(s));
  }

  /** The current state, with live counters. */
  get state(): EventStreamState {
    return { ...this.subject.value, ...this.counters() };
  }

  /**
   * Events whose topic matches `filter` (ConcreteSet, e.g. 'tns1:RuleEngine//.|tns1:Monitoring//.'; empty = all).
   * A late observer first gets the known property states as `Initialized`.
   */
  events(filter = ''): Observable<OnvifEvent> {
    const matches = compileTopicFilter(filter);
    return new Observable<OnvifEvent>((subscriber) => {
      if (this.closed) {
        subscriber.complete();
        return;
      }
      const me: Attached = { subscriber, matches };
      this.attached.add(me);
      if (this.run && this.attached.size > 1) {
        for (const e of this.properties.values()) if (matches(e.topic)) subscriber.next({ ...e, operation: 'Initialized' });
      }
      this.update({ subscribers: this.attached.size });
      if (this.attached.size === 1) this.start();
      return () => {
        if (!this.attached.delete(me)) return;
        if (this.closed) return;
        this.update({ subscribers: this.attached.size });
        if (this.attached.size === 0) this.pendingStop = this.stop('idle');
      };
    });
  }

  /** Abort the long poll at once, Unsubscribe (short timeout), complete every stream. Safe to call twice. */
  close(): Promise<void> {
    if (!this.closing) {
      this.closing = (async () => {
        this.closed = true;
        await this.stop('closed');
        await this.pendingStop;
        for (const a of [...this.attached]) a.subscriber.complete();
        this.attached.clear();
        this.subject.next({ ...this.subject.value, ...this.counters(), status: 'closed', error: undefined, retryInMs: undefined, retryAt: undefined, subscribers: 0 });
        this.subject.complete();
      })();
    }
    return this.closing;
  }

  private counters(): Pick<EventStreamState, 'eventsDelivered' | 'lastEventAt' | 'terminationTime'> {
    return { eventsDelivered: this.delivered, lastEventAt: this.lastEventAt, terminationTime: this.terminationTime };
  }

  private update(patch: Partial<EventStreamState>): void {
    if (this.subject.closed) return;
    this.subject.next({ ...this.subject.value, ...this.counters(), ...patch });
  }

  private setStatus(status: EventStreamStatus, patch: Partial<EventStreamState> = {}): void {
    this.update({ status, error: undefined, retryInMs: undefined, retryAt: undefined, ...patch });
  }

  private start(): void {
    const run = new Run(this.opts.clock);
    this.run = run;
    run.done = this.loop(run);
  }

  private async stop(status: 'idle' | 'closed'): Promise<void> {
    const run = this.run;
    this.run = undefined;
    if (!run) return;
    run.stop();
    if (status === 'idle') this.setStatus('idle', { subscriptionAddress: undefined, pullTimeoutS: undefined });
    const pp = run.pullPoint;
    run.pullPoint = undefined;
    if (pp) await pp.unsubscribe({ timeoutMs: this.opts.unsubscribeTimeoutMs }).catch(() => undefined);
    else if (run.creating && run.done) {
      // The device may already have made the pull point: let the create finish so the loop can Unsubscribe
      // it (otherwise every redeploy would leak one until its lease ends). Bounded, so close stays quick.
      const boundMs = Math.min(this.options.requestTimeoutMs ?? 10_000, 10_000) + this.opts.unsubscribeTimeoutMs;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([run.done, new Promise<void>((resolve) => (timer = setTimeout(resolve, boundMs)))]);
      clearTimeout(timer);
    }
  }

  private async loop(run: Run): Promise<void> {
    let failures = 0;
    while (!run.stopped) {
      try {
        this.setStatus('subscribing', { subscriptionAddress: undefined });
        const device = await this.getDevice();
        if (run.stopped) break;
        // Read for every new pull point, not once per hub: after a reboot or a firmware upgrade the topic set may differ.
        const types = await this.loadEventTypes(device, run);
        if (run.stopped) break;
        if (types) this.types = types;
        // Not aborted by stop(): an aborted create may still have made a pull point on the device, which we
        // could then never Unsubscribe. The request timeout bounds it; stop() waits for it.
        run.creating = true;
        let created: Awaited<ReturnType<typeof PullPoint.create>>;
        try {
          created = await PullPoint.create(device, this.opts.initialTerminationS, { timeoutMs: this.options.requestTimeoutMs });
        } finally {
          run.creating = false;
        }
        const { pullPoint, lease } = created;
        if (run.stopped) {
          await pullPoint.unsubscribe({ timeoutMs: this.opts.unsubscribeTimeoutMs }).catch(() => undefined);
          break;
        }
        run.pullPoint = pullPoint;
        run.initialized.clear();
        // The new pull point reports every current state again; states of topics the device no longer has must not be replayed to late subscribers.
        this.properties.clear();
        this.noteLease(run, lease);
        this.setStatus('active', { subscriptionAddress: pullPoint.url, pullTimeoutS: this.learned?.timeoutS ?? this.opts.pullTimeoutS });
        try {
          await pullPoint.synchronize({ signal: run.abort.signal, timeoutMs: this.options.requestTimeoutMs });
        } catch (e) {
          // A device without SetSynchronizationPoint still sends Initialized states on create (§9.4.2).
          if (!isOnvifError(e) || e.kind !== 'fault' || isResourceUnknown(e)) throw e;
        }
        await this.pullLoop(run, pullPoint, () => {
          failures = 0;
        });
      } catch (e) {
        if (run.stopped) break;
        const err = run.failure ?? asOnvifError(e);
        run.failure = undefined;
        this.options.reportFailure?.(err);
        if (run.renewTimer) this.opts.clock.clearTimeout(run.renewTimer);
        run.renewTimer = undefined;
        const old = run.pullPoint;
        run.pullPoint = undefined;
        if (isFatal(err)) {
          this.setStatus('failed', { error: err, subscriptionAddress: undefined });
          run.stopped = true;
          if (old) void old.unsubscribe({ timeoutMs: this.opts.unsubscribeTimeoutMs }).catch(() => undefined);
          break;
        }
        // The old pull point may still exist when the device merely refused one request: free its slot.
        if (old && err.kind === 'fault' && !isResourceUnknown(err)) void old.unsubscribe({ timeoutMs: this.opts.unsubscribeTimeoutMs }).catch(() => undefined);
        failures++;
        // The device itself is away and its connection retries on its own schedule: wait for that attempt.
        const now = this.opts.clock.now();
        const shared = err.kind === 'unreachable' || err.kind === 'timeout' ? this.options.retryAt?.() : undefined;
        const retryAt = shared !== undefined && shared > now ? shared : now + backoffDelay(failures, this.opts.backoff);
        const retryInMs = retryAt - now;
        this.setStatus('retrying', { error: err, retryInMs, retryAt, subscriptionAddress: undefined });
        await run.sleep(retryInMs);
      }
    }
  }

  /** Item types make `Value="1"` a boolean or a number as the device declares; without them values are guessed conservatively. */
  private async loadEventTypes(device: OnvifDevice, run: Run): Promise<EventTypes | undefined> {
    try {
      if (!device.session) await device.connect();
      if (!device.serviceAddress(NS.tev)) return undefined;
      const content = await getEventProperties(device, { timeoutMs: this.options.requestTimeoutMs, signal: run.abort.signal });
      return content ? shareEventTypes(readEventTypes(content)) : new Map();
    } catch (e) {
      const err = asOnvifError(e);
      // A fault (not offered) leaves this pull point's events untyped; anything else is retried with the subscription.
      if (err.kind === 'fault') return new Map();
      if (run.stopped || isFatal(err) || err.kind === 'unreachable' || err.kind === 'timeout') throw err;
      return undefined;
    }
  }

  /** Read GetEventProperties again (the topic set changed); true when new types are in use. Failures keep the old ones. */
  private async reloadEventTypes(run: Run): Promise<boolean> {
    try {
      const types = await this.loadEventTypes(await this.getDevice(), run);
      if (!types || run.stopped) return false;
      this.types = types;
      return true;
    } catch {
      return false;
    }
  }

  private async pullLoop(run: Run, pp: PullPoint, succeeded: () => void): Promise<void> {
    let timeoutS = this.learned?.timeoutS ?? this.opts.pullTimeoutS;
    let limit = this.learned?.limit ?? this.opts.messageLimit;
    const startLimit = limit;
    /** How far `limit` may grow while answers come back full (lowered by a device that faults on a grown one). */
    let growUpTo = Math.max(startLimit, MAX_GROWN_MESSAGE_LIMIT);
    let limitsAdopted = false;
    /** Set while checking whether a long poll that broke off early was the device (or a NAT) closing it. */
    let probing: { previousS: number } | undefined;
    while (!run.stopped) {
      const started = Date.now();
      const pullAbort = new AbortController();
      run.pullAbort = pullAbort;
      const onRunAbort = () => pullAbort.abort();
      run.abort.signal.addEventListener('abort', onRunAbort, { once: true });
      try {
        // The HTTP timeout must outlast the long poll.
        const httpTimeoutMs = timeoutS * 1000 + Math.max(5000, timeoutS * 250);
        const { events, lease } = await this.pullEvents(run, pp, timeoutS, limit, { signal: pullAbort.signal, timeoutMs: httpTimeoutMs });
        if (run.stopped) return;
        if (probing || limitsAdopted) this.learned = { timeoutS, limit: Math.min(limit, startLimit) };
        probing = undefined;
        succeeded();
        this.noteLease(run, lease);
        if (this.subject.value.status !== 'active') this.setStatus('active', { subscriptionAddress: pp.url, pullTimeoutS: timeoutS });
        // A full answer means a backlog on the device: ask for more at once next time (fewer round trips per event).
        if (events.length >= limit && limit < growUpTo) limit = Math.min(growUpTo, limit * 4);
        this.deliver(run, events);
        // This frame waits in the next long poll for as long as it lasts: it must not hold these events meanwhile.
        events.length = 0;
      } catch (e) {
        if (run.failure) throw run.failure;
        if (run.stopped) return;
        const err = asOnvifError(e);
        const limits = pullLimits(err);
        if (limits && !limitsAdopted) {
          // Core §9.1.2: retry with the device's limits.
          limitsAdopted = true;
          timeoutS = Math.max(1, Math.min(timeoutS, limits.maxTimeoutS ?? timeoutS));
          limit = Math.max(1, Math.min(limit, limits.maxMessageLimit ?? limit));
          growUpTo = Math.min(growUpTo, limit);
          this.update({ pullTimeoutS: timeoutS });
          continue;
        }
        if (limit > startLimit && err.kind === 'fault') {
          // Only a grown MessageLimit differs from pulls that worked: ask with the starting one and stop growing.
          limit = growUpTo = startLimit;
          continue;
        }
        const elapsed = Date.now() - started;
        const brokeOff = err.kind === 'unreachable' || (err.kind === 'bad-response' && (err.httpStatus ?? 200) < 300);
        if (brokeOff && elapsed >= 1000 && timeoutS > 1) {
          // The connection ended while the device should still have been waiting: a device (or NAT) that closes
          // long polls early. Halve the Timeout and pull again at once, until a pull comes back. (Elapsed time alone
          // cannot size it: the transport re-sends once on a dropped kept-alive socket.) A re-pull that fails fast
          // means the device is really gone.
          probing ??= { previousS: timeoutS };
          timeoutS = Math.max(1, Math.floor(timeoutS / 2));
          this.update({ pullTimeoutS: timeoutS });
          continue;
        }
        if (probing) this.update({ pullTimeoutS: probing.previousS });
        throw err;
      } finally {
        run.abort.signal.removeEventListener('abort', onRunAbort);
        run.pullAbort = undefined;
      }
    }
  }

  /**
   * One PullMessages, read into events. Its own frame, so the answer's XML tree is gone when it returns: the pull loop
   * would otherwise keep the last answer alive through the whole next long poll.
   */
  private async pullEvents(
    run: Run,
    pp: PullPoint,
    timeoutS: number,
    limit: number,
    options: { signal: AbortSignal; timeoutMs: number },
  ): Promise<{ events: OnvifEvent[]; lease: LeaseTimes }> {
    const { response, lease } = await pp.pull(timeoutS, limit, options);
    const events = parseNotifications(response, this.types);
    // AppMgmt §7.2: an app's install, update or removal changes the topic set; read it again before delivering,
    // so the app's own events in this batch and later are typed.
    if (events.some(isAppStateChange) && (await this.reloadEventTypes(run))) return { events: parseNotifications(response, this.types), lease };
    return { events, lease };
  }

  private noteLease(run: Run, lease: LeaseTimes): void {
    run.lastLease = { currentTime: lease.currentTime, at: this.opts.clock.now() };
    if (lease.terminationTime) this.terminationTime = lease.terminationTime;
    // Renew at 80 % of what the device says is left, in its own clock. Pulls that extend the lease push this back,
    // so a device that keeps pull points alive by pulling never sees a Renew.
    const remaining = lease.remainingMs;
    if (remaining === undefined) {
      if (run.renewTimer) return;
    }
    const delay = Math.min(MAX_TIMER_MS, Math.max(500, Math.round((remaining ?? this.opts.initialTerminationS * 1000) * 0.8)));
    if (run.renewTimer) this.opts.clock.clearTimeout(run.renewTimer);
    run.renewTimer = this.opts.clock.setTimeout(() => void this.renew(run), delay);
  }

  private async renew(run: Run): Promise<void> {
    run.renewTimer = undefined;
    const pp = run.pullPoint;
    if (run.stopped || !pp) return;
    const last = run.lastLease;
    const deviceNow =
      last?.currentTime && Number.isFinite(Date.parse(last.currentTime.replace(/(\.\d{3})\d+/, '$1')))
        ? new Date(Date.parse(last.currentTime.replace(/(\.\d{3})\d+/, '$1')) + (this.opts.clock.now() - last.at)).toISOString()
        : undefined;
    try {
      const lease = await pp.renew(this.opts.initialTerminationS, deviceNow, { signal: run.abort.signal, timeoutMs: this.options.requestTimeoutMs });
      if (run.stopped || run.pullPoint !== pp) return;
      this.noteLease(run, lease.remainingMs === undefined ? { ...lease, remainingMs: this.opts.initialTerminationS * 1000 } : lease);
    } catch (e) {
      if (run.stopped || run.pullPoint !== pp) return;
      const err = asOnvifError(e);
      if (isResourceUnknown(err) || isFatal(err)) {
        // The pull point is gone (or we may not renew): end the long poll now and let the loop recover.
        run.failure = err;
        run.pullAbort?.abort();
      }
      // Otherwise (no Renew on this firmware, a hiccup): pulls keep the lease, or the next pull says it is gone.
    }
  }

  private deliver(run: Run, events: OnvifEvent[]): void {
    if (events.length === 0) return;
    const now = new Date().toISOString();
    for (const e of events) {
      if (e.operation) {
        const key = propertyKey(e);
        if (e.operation === 'Initialized') {
          const data = JSON.stringify(e.data);
          if (run.initialized.get(key) === data) continue;
          run.initialized.set(key, data);
        }
        if (e.operation === 'Deleted') this.properties.delete(key);
        else {
          if (!this.properties.has(key) && this.properties.size >= PROPERTY_CACHE_LIMIT) this.properties.delete(this.properties.keys().next().value!);
          this.properties.set(key, e);
        }
      }
      this.delivered++;
      this.lastEventAt = now;
      for (const a of this.attached) if (a.matches(e.topic)) a.subscriber.next(e);
      if (run.stopped) return;
    }
  }
}
