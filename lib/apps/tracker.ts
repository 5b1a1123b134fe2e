import { Observable, type Subscription } from 'rxjs';
import type { EventHub } from '../events/hub';
import type { OnvifEvent } from '../events/notifications';
import { readState } from './readers';
import type { AppState, AppStateChange } from './types';

export const APP_STATE_TOPIC = 'tns1:AppMgmt/State';

/** App state changes from tns1:AppMgmt/State events; `known` carries each app's last state (old → new). */
export function eventChanges(hub: EventHub, known: Map<string, AppState>, nameOf: (appId: string) => string | undefined): Observable<AppStateChange> {
  return new Observable<AppStateChange>((subscriber) => {
    const sub = hub.events(APP_STATE_TOPIC).subscribe({
      next: (e: OnvifEvent) => {
        const appId = e.source.AppID;
        if (typeof appId !== 'string' && typeof appId !== 'number') return;
        const id = String(appId);
        if (e.operation === 'Deleted') {
          known.delete(id);
          return;
        }
        const newState = readState(e.data.State);
        if (!newState) return;
        const oldState = known.get(id);
        if (newState === 'Removed' || newState === 'InstallationFailed') known.delete(id);
        else known.set(id, newState);
        const status = e.data.Status;
        subscriber.next({
          appId: id,
          name: nameOf(id),
          oldState,
          newState,
          status: typeof status === 'string' && status.trim() ? status.trim() : undefined,
          time: e.time,
          initial: e.operation === 'Initialized',
          via: 'event',
        });
      },
      error: (err) => subscriber.error(err),
      complete: () => subscriber.complete(),
    });
    return () => sub.unsubscribe();
  });
}

/**
 * Resolves when the hub's pull point is active (true), or false when it failed, is retrying after a failure (the
 * device refused a pull point: polling serves better than waiting) or took longer than `timeoutMs`.
 */
export function whenActive(hub: EventHub, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (ok: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      // The state$ subject may answer during subscribe(), before `sub` exists: unsubscribe a moment later.
      queueMicrotask(() => sub.unsubscribe());
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    const sub: Subscription = hub.state$.subscribe({
      next: (s) => {
        if (s.status === 'active') finish(true);
        else if (s.status === 'failed' || s.status === 'closed' || s.status === 'retrying') finish(false);
      },
      complete: () => finish(false),
    });
  });
}

/** Changes waiting to be read, in order; `next` waits (bounded) for the next one. */
export class ChangeQueue {
  private readonly items: AppStateChange[] = [];
  private waiter?: (c: AppStateChange | undefined) => void;

  push(c: AppStateChange): void {
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w(c);
    } else this.items.push(c);
  }

  next(timeoutMs: number, signal?: AbortSignal): Promise<AppStateChange | undefined> {
    const first = this.items.shift();
    if (first) return Promise.resolve(first);
    if (timeoutMs <= 0 || signal?.aborted) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const done = (c: AppStateChange | undefined) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.waiter = undefined;
        resolve(c);
      };
      const onAbort = () => done(undefined);
      const timer = setTimeout(() => done(undefined), timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiter = done;
    });
  }
}
