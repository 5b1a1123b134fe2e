/**
 * The harness's handle on the library process (test/fuzz/library-child.ts): sends it inputs, collects their
 * outcomes, its crashes, stalls and RSS highs. A library process that dies (a fatal out-of-memory, an abort) counts
 * as a crash of every input it had in flight, one that stops answering as their hang; either way a new one takes
 * over and the run goes on.
 */
import { fork, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import type { ClientJob, ClientResult } from './library-client';

export type CrashKind = 'uncaughtException' | 'unhandledRejection' | 'Object.prototype polluted' | 'library process died';

export interface Crash {
  kind: CrashKind;
  index?: number;
  message: string;
}

/** Harness to library process. */
export type ToLibrary = { type: 'run'; job: ClientJob } | { type: 'finish' };

/** Library process to harness. */
export type FromLibrary =
  | { type: 'ready' }
  | { type: 'result'; result: ClientResult }
  | { type: 'crash'; kind: CrashKind; index?: number; message: string }
  /** A new high of the process's RSS, with the input in flight with the largest body. */
  | { type: 'peak'; bytes: number; suspect?: number }
  /** The event loop was blocked for `ms`, likely by input `suspect`. */
  | { type: 'stall'; ms: number; suspect?: number }
  | { type: 'finished' };

/**
 * An input without an answer for this long means the process is stuck (its own hang limit is 3 s of free event
 * loop per input, so only a loop that never yields gets here).
 */
const STUCK_MS = 120_000;
const CHILD = path.join(__dirname, 'library-child.ts');

interface Pending {
  job: ClientJob;
  started: number;
  resolve: (r: ClientResult) => void;
  timer: NodeJS.Timeout;
}

export class LibraryProcess {
  /** The highest RSS any library process reached, and the input most likely to blame. */
  peakRssBytes = 0;
  peakSuspect?: number;
  readonly stalls: Array<{ ms: number; suspect?: number }> = [];
  readonly crashes: Crash[] = [];
  /** Library processes started after one died or got stuck. */
  restarts = 0;
  private child?: ChildProcess;
  private ready: Promise<void> = Promise.resolve();
  private readonly pending = new Map<number, Pending>();
  private stuck = false;
  private finishing = false;
  private onFinished?: () => void;

  start(): Promise<void> {
    this.ready = this.spawn();
    return this.ready;
  }

  /** Run one input in the library process. */
  async run(job: ClientJob): Promise<ClientResult> {
    await this.ready;
    const child = this.child!;
    return new Promise<ClientResult>((resolve) => {
      const timer = setTimeout(() => {
        this.stuck = true;
        child.kill('SIGKILL');
      }, STUCK_MS);
      this.pending.set(job.index, { job, started: Date.now(), resolve, timer });
      // A send to a process that just died fails here; its exit settles the input.
      child.send({ type: 'run', job } satisfies ToLibrary, () => undefined);
    });
  }

  /** Let late failures arrive, take the final peak, and end the process. */
  async finish(): Promise<void> {
    await this.ready;
    const child = this.child!;
    this.finishing = true;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    await new Promise<void>((resolve) => {
      this.onFinished = resolve;
      child.send({ type: 'finish' } satisfies ToLibrary);
    });
    child.disconnect();
    await exited;
  }

  private spawn(): Promise<void> {
    // The harness's own node options (tsx, --expose-gc) carry over.
    const child = fork(CHILD, [], { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child = child;
    child.on('message', (m: FromLibrary) => this.receive(m));
    child.once('exit', (code, signal) => this.exited(child, code, signal));
    return new Promise((resolve, reject) => {
      const onReady = (m: FromLibrary) => {
        if (m.type !== 'ready') return;
        child.off('message', onReady);
        child.off('exit', onEarlyExit);
        resolve();
      };
      const onEarlyExit = (code: number | null) => reject(new Error(`the fuzz library process exited (${code}) before it was ready`));
      child.on('message', onReady);
      child.once('exit', onEarlyExit);
    });
  }

  private receive(m: FromLibrary): void {
    switch (m.type) {
      case 'result': {
        const p = this.pending.get(m.result.index);
        if (!p) return;
        clearTimeout(p.timer);
        this.pending.delete(m.result.index);
        p.resolve(m.result);
        return;
      }
      case 'crash':
        this.crashes.push({ kind: m.kind, index: m.index, message: m.message });
        return;
      case 'peak':
        if (m.bytes > this.peakRssBytes) {
          this.peakRssBytes = m.bytes;
          this.peakSuspect = m.suspect;
        }
        return;
      case 'stall':
        this.stalls.push({ ms: m.ms, suspect: m.suspect });
        return;
      case 'finished':
        this.onFinished?.();
        return;
      case 'ready':
        return;
    }
  }

  private exited(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.finishing || child !== this.child) return;
    const stuck = this.stuck;
    this.stuck = false;
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      const ms = Date.now() - p.started;
      if (stuck) {
        p.resolve({ index: p.job.index, outcome: 'hang', ms, message: `the library process stopped answering for ${STUCK_MS / 1000} s (event loop never free) and was killed` });
      } else {
        const message = `the library process died (${signal ?? `exit code ${code}`}) with this input in flight`;
        this.crashes.push({ kind: 'library process died', index: p.job.index, message });
        p.resolve({ index: p.job.index, outcome: 'crash', ms, message });
      }
    }
    this.pending.clear();
    this.restarts++;
    this.ready = this.spawn();
  }
}
