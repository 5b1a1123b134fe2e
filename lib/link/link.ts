import { BehaviorSubject, type Observable } from 'rxjs';
import { OnvifError, isOnvifError } from '../errors';
import { EventHub, type EventHubOptions } from '../events/hub';
import { backoffDelay, type BackoffOptions } from '../util/backoff';
import { systemClock, type Clock, type TimerHandle } from '../util/clock';
import { OnvifDevice, type CallOptions } from '../device/onvif-device';
import type { OnvifDeviceOptions, SessionChange, SessionInfo } from '../device/types';

/** `failed`: retries stopped because they cannot help (credentials rejected, TLS mismatch, unusable settings); see `error.kind`. */
export type LinkStatus = 'idle' | 'connecting' | 'connected' | 'retrying' | 'failed' | 'closed';

export interface LinkState {
  status: LinkStatus;
  session?: SessionInfo;
  /** Why the last attempt failed (retrying / failed). */
  error?: OnvifError;
  /** Delay before the next attempt (retrying), as scheduled. */
  retryInMs?: number;
  /** When the next attempt starts (retrying), in the link's clock (ms, Date.now() by default): every status counts down to this one moment. */
  retryAt?: number;
  /** Failed attempts since the last success. */
  attempt: number;
}

export type { BackoffOptions };

export interface DeviceLinkOptions extends OnvifDeviceOptions {
  /** Reconnect delays (lib/util/backoff: 1 s doubling to 60 s, never longer than the cap). */
  backoff?: BackoffOptions;
  /** Time source of the reconnect timer (default: the system clock). */
  clock?: Clock;
}

/** Errors that mean "the device is away", as opposed to "the device said no". */
function isConnectivityError(e: unknown): boolean {
  return isOnvifError(e) && (e.kind === 'unreachable' || e.kind === 'timeout');
}

/**
 * Keeps one device session alive for any number of users (a Node-RED config node owns one).
 * Connects on first use; when the device is away (also at start), retries with jittered exponential
 * backoff in the background. An authentication failure stops retrying: repeating a wrong password
 * locks accounts on real devices. The state is observable for status displays.
 */
export class DeviceLink {
  readonly state$: Observable<LinkState>;
  private readonly subject = new BehaviorSubject<LinkState>({ status: 'idle', attempt: 0 });
  private readonly dev: OnvifDevice;
  private readonly backoff: BackoffOptions;
  private readonly clock: Clock;
  private attemptPromise?: Promise<OnvifDevice>;
  private timer?: TimerHandle;
  private hub?: EventHub;

  constructor(options: DeviceLinkOptions) {
    const { backoff, clock, ...deviceOptions } = options;
    this.dev = new OnvifDevice(deviceOptions);
    this.backoff = backoff ?? {};
    this.clock = clock ?? systemClock;
    this.state$ = this.subject.asObservable();
  }

  get state(): LinkState {
    return this.subject.value;
  }

  /** What the session did because of a change (new credentials, clock re-measured, restart, moved): see OnvifDevice.changes$. */
  get changes$(): Observable<SessionChange> {
    return this.dev.changes$;
  }

  /** The underlying session object (not necessarily connected). */
  get onvifDevice(): OnvifDevice {
    return this.dev;
  }

  /** The connected device. Rejects with the reason when the current attempt fails (retries go on unless it was auth). */
  device(): Promise<OnvifDevice> {
    const s = this.state;
    if (s.status === 'closed') return Promise.reject(new OnvifError('closed', `The connection to ${this.dev.displayAddress} was closed.`));
    if (s.status === 'connected') return Promise.resolve(this.dev);
    if (s.status === 'failed') return Promise.reject(s.error);
    if (this.attemptPromise) return this.attemptPromise;
    // Idle, or waiting between retries: a caller wants it now, so try now.
    return this.attempt();
  }

  /** Run an operation on the device, connecting first if needed; its outcome counts as run()'s does. */
  call(operation: string, params?: Record<string, unknown>, options?: CallOptions): Promise<any> {
    return this.run((device) => device.call(operation, params, options));
  }

  /**
   * Run work (one operation, a task) on the connected device, connecting first if needed, and let its outcome
   * move the link: a device that went away (unreachable, timeout) makes it reconnect with backoff, a rejected
   * login stops it retrying, as when connecting. The work's result or error is passed on.
   */
  async run<T>(work: (device: OnvifDevice) => Promise<T>): Promise<T> {
    const device = await this.device();
    try {
      return await work(device);
    } catch (e) {
      this.noteFailure(e);
      throw e;
    }
  }

  /** A call on the connected session failed: a lost device triggers reconnection, a rejected login stops everything. */
  private noteFailure(e: unknown): void {
    if (this.state.status !== 'connected') return;
    if (isConnectivityError(e)) {
      this.dev.reset();
      this.scheduleRetry(e as OnvifError, 1);
    } else if (isOnvifError(e) && e.kind === 'auth' && !this.state.session?.partial) {
      // Without credentials a refusal concerns that operation only: there is no password to lock out.
      this.dev.reset();
      this.subject.next({ status: 'failed', error: e, attempt: 1 });
    }
  }

  /**
   * The device's event hub: one pull-point subscription shared by every events node of this config node.
   * Created on first use (options apply then); closed with the link.
   */
  eventHub(options?: Omit<EventHubOptions, 'reportFailure' | 'retryAt'>): EventHub {
    this.hub ??= new EventHub(() => this.device(), {
      clock: this.clock,
      ...options,
      reportFailure: (e) => this.noteFailure(e),
      // While the device is away, the subscription retries with the link's next attempt: one schedule, one
      // countdown, and the device is not tried more often than the link's backoff allows.
      retryAt: () => (this.state.status === 'retrying' ? this.state.retryAt : undefined),
    });
    return this.hub;
  }

  async close(): Promise<void> {
    // Unsubscribe first, while the session can still send.
    await this.hub?.close();
    if (this.timer) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    if (this.state.status !== 'closed') this.subject.next({ status: 'closed', attempt: 0 });
    this.subject.complete();
    await this.dev.close();
  }

  private attempt(): Promise<OnvifDevice> {
    if (this.timer) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    const prior = this.state.attempt;
    this.subject.next({ status: 'connecting', attempt: prior, error: this.state.error });
    const p = this.dev.connect().then(
      (session) => {
        this.attemptPromise = undefined;
        if (this.isClosed()) throw new OnvifError('closed', `The connection to ${this.dev.displayAddress} was closed.`);
        this.subject.next({ status: 'connected', session, attempt: 0 });
        return this.dev;
      },
      (e: unknown) => {
        this.attemptPromise = undefined;
        const err = isOnvifError(e) ? e : new OnvifError('bad-response', String((e as Error)?.message ?? e), { cause: e });
        if (this.isClosed()) throw err;
        if (err.kind === 'auth' || err.kind === 'invalid-input' || err.kind === 'tls') {
          // Retrying cannot help; for auth it would also risk locking the account.
          this.subject.next({ status: 'failed', error: err, attempt: prior + 1 });
        } else {
          this.scheduleRetry(err, prior + 1);
        }
        throw err;
      },
    );
    this.attemptPromise = p;
    // Background retries must never surface as unhandled rejections.
    p.catch(() => undefined);
    return p;
  }

  private scheduleRetry(error: OnvifError, attempt: number): void {
    const retryInMs = backoffDelay(attempt, this.backoff);
    this.subject.next({ status: 'retrying', error, retryInMs, retryAt: this.clock.now() + retryInMs, attempt });
    if (this.timer) this.clock.clearTimeout(this.timer);
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      if (!this.isClosed() && this.state.status === 'retrying') this.attempt().catch(() => undefined);
    }, retryInMs);
    this.timer.unref?.();
  }

  private isClosed(): boolean {
    return this.subject.value.status === 'closed';
  }
}
