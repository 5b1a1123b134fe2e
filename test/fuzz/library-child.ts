/**
 * The library process of a fuzz run (started by test/fuzz/library-process.ts; not run by hand): runs the inputs
 * it is sent against the library, several side by side, and reports each outcome, every crash (uncaught
 * exception, unhandled rejection, polluted Object.prototype), every event-loop stall and every new high of its
 * RSS. The mutator and the hostile server live in the harness process, so this process's memory is what the
 * library client costs.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { runClientInput, type ClientJob } from './library-client';
import type { FromLibrary, ToLibrary } from './library-process';
import { maxRssBytes, startRssSampler, StallWatch } from './monitor';

const send = (m: FromLibrary) => process.send?.(m);
const current = new AsyncLocalStorage<number>();
const errText = (e: unknown) => (e instanceof Error ? `${e.name}: ${e.message}\n${(e.stack ?? '').split('\n').slice(1, 6).join('\n')}` : String(e));
process.on('uncaughtException', (e) => send({ type: 'crash', kind: 'uncaughtException', index: current.getStore(), message: errText(e) }));
process.on('unhandledRejection', (e) => send({ type: 'crash', kind: 'unhandledRejection', index: current.getStore(), message: errText(e) }));
// The harness went away: nothing left to report to.
process.on('disconnect', () => process.exit(0));

const PROTO_KEYS = Object.getOwnPropertyNames(Object.prototype).sort().join(',');
function checkPrototype(index: number): void {
  const now = Object.getOwnPropertyNames(Object.prototype).sort().join(',');
  if (now !== PROTO_KEYS) send({ type: 'crash', kind: 'Object.prototype polluted', index, message: `Object.prototype now has: ${now}` });
}

const inFlight = new Map<number, ClientJob>();
const sampler = startRssSampler(inFlight, (bytes, suspect) => send({ type: 'peak', bytes, suspect: suspect?.index }));
const stalls = new StallWatch(inFlight, (ms, suspect) => send({ type: 'stall', ms, suspect: suspect?.index }));

async function run(job: ClientJob): Promise<void> {
  inFlight.set(job.index, job);
  const result = await current.run(job.index, () => runClientInput(job));
  inFlight.delete(job.index);
  stalls.ended(job);
  checkPrototype(job.index);
  send({ type: 'result', result });
}

async function finish(): Promise<void> {
  // Late failures (a socket error after its input settled) still count.
  await new Promise((resolve) => setTimeout(resolve, 200));
  stalls.stop();
  const { bytes, suspect } = sampler.stop();
  send({ type: 'peak', bytes: Math.max(bytes, maxRssBytes()), suspect: suspect?.index });
  send({ type: 'finished' });
}

process.on('message', (m: ToLibrary) => {
  // IPC hands a Buffer over as a Uint8Array: view the same bytes as a Buffer, no copy.
  const d = m.type === 'run' ? m.job.datagram : undefined;
  if (m.type === 'run') void run({ ...m.job, datagram: d ? Buffer.from(d.buffer, d.byteOffset, d.byteLength) : undefined });
  else if (m.type === 'finish') void finish();
});
send({ type: 'ready' });
