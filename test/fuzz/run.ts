/**
 * The project fuzz test: `npm run fuzz` (20 000 inputs) or
 * `node --import tsx test/fuzz/run.ts --inputs N --seed S [--concurrency C] [--replay INDEX] [--json]`.
 * Prints inputs, ok, clear errors, unclear errors, hangs, crashes and peak RSS, then a few examples of each
 * unclear/hang/crash class with the command that replays one input.
 *
 * Two processes: this one (the harness: the mutator and the hostile servers) and the library process, which runs
 * only the library client (test/fuzz/library-child.ts). The peak RSS checked against the goal is the library
 * process's, the memory a user's process would spend; the harness's peak is printed on its own line.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { makeInput, servedBytes, Worker, type FuzzInput, type InputResult } from './harness';
import { CALL_TIMEOUT_MS, HANG_FACTOR, type Outcome, type PathName } from './library-client';
import { LibraryProcess, type Crash } from './library-process';
import { maxRssBytes, RSS_GOAL_MB, startRssSampler } from './monitor';
import { loadCorpus } from './seeds';

interface Args {
  inputs: number;
  seed: number;
  concurrency: number;
  replay?: number;
  json: boolean;
  examples: number;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { inputs: 2000, seed: 1, concurrency: 8, json: false, examples: 2 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const num = () => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 0) throw new Error(`${a} needs a whole number`);
      return v;
    };
    if (a === '--inputs') args.inputs = num();
    else if (a === '--seed') args.seed = num();
    else if (a === '--concurrency') args.concurrency = Math.max(1, num());
    else if (a === '--replay') args.replay = num();
    else if (a === '--examples') args.examples = num();
    else if (a === '--json') args.json = true;
    else throw new Error(`unknown option ${a} (use --inputs N --seed S --concurrency C --replay INDEX --examples K --json)`);
  }
  return args;
}

interface Example {
  index: number;
  bytes: number;
  ms: number;
  path: PathName;
  seed: string;
  mutation: string;
  fault: string;
  target: string;
  message: string;
}

interface ClassTally {
  outcome: Outcome | 'crash' | 'stall';
  key: string;
  count: number;
  paths: Record<string, number>;
  examples: Example[];
}

export interface Summary {
  seed: number;
  inputs: number;
  ok: number;
  clear: number;
  unclear: number;
  hangs: number;
  /** Times the event loop was blocked for a second or more (a long synchronous parse), and the longest. */
  stalls: number;
  longestStallMs: number;
  crashes: number;
  /** Peak RSS of the library process (the figure checked against RSS_GOAL_MB), in MB. */
  peakRssMb: number;
  rssGoalMb: number;
  /** The input with the largest body in flight in the library process when its RSS reached its peak. */
  peakRssSuspect?: Example;
  /** Peak RSS of the harness (mutator and hostile servers), in MB: not the library's cost. */
  harnessPeakRssMb: number;
  /** Library processes started again after one died or stopped answering. */
  libraryRestarts: number;
  seconds: number;
  realCaptures: boolean;
  byPath: Record<string, Record<string, number>>;
  classes: ClassTally[];
}

/** Crashes of the harness itself (the library process reports its own). */
const current = new AsyncLocalStorage<number>();
const crashes: Crash[] = [];
const errText = (e: unknown) => (e instanceof Error ? `${e.name}: ${e.message}\n${(e.stack ?? '').split('\n').slice(1, 6).join('\n')}` : String(e));
process.on('uncaughtException', (e) => crashes.push({ kind: 'uncaughtException', index: current.getStore(), message: errText(e) }));
process.on('unhandledRejection', (e) => crashes.push({ kind: 'unhandledRejection', index: current.getStore(), message: errText(e) }));

/**
 * A class of failure: the same reason and the same message once the operation, numbers, addresses, quoted
 * text and HTTP parser codes are blanked; hangs by the transport fault that was served.
 */
function classKey(r: InputResult): string {
  if (r.outcome === 'hang') return `hang | transport ${r.input.fault} | ${r.reason ?? ''}`;
  const firstLine = (r.message ?? '').split('\n')[0]!;
  const shape = firstLine
    .replace(/^[A-Za-z]+: /, '')
    .replace(/\(CreatePullPointSubscription: [^)]*\)?/, '(…)')
    .replace(/127\.0\.0\.1:\d+/g, 'HOST')
    .replace(/HPE_[A-Z_]+/g, 'HPE_*')
    .replace(/"[^"]*"/g, '"…"')
    .replace(/(answered HTTP \d+ with) (an HTML page|\d+ bytes that are not text|"…"|an empty body)/, '$1 …')
    .replace(/\(malformed XML: .*/, '(malformed XML: …')
    .replace(/<[^>]*>/g, '<…>')
    .replace(/\d+/g, 'N')
    .slice(0, 110);
  return `${r.outcome} | ${r.reason ?? ''} | ${shape}`;
}

function example(input: FuzzInput, message: string, ms = 0): Example {
  return { index: input.index, bytes: servedBytes(input), ms, path: input.path, seed: input.seed, mutation: input.mutation.slice(0, 160), fault: input.fault, target: input.target, message: message.slice(0, 400) };
}

async function runMany(args: Args): Promise<Summary> {
  const corpus = loadCorpus();
  const library = new LibraryProcess();
  await library.start();
  const workers = Array.from({ length: Math.min(args.concurrency, Math.max(1, args.inputs)) }, () => new Worker(corpus, library));
  await Promise.all(workers.map((w) => w.start()));
  const classes = new Map<string, ClassTally>();
  const byPath: Record<string, Record<string, number>> = {};
  const counts: Record<Outcome, number> = { ok: 0, clear: 0, unclear: 0, hang: 0, crash: 0 };
  const started = Date.now();
  const harnessRss = startRssSampler(new Map());
  let next = 0;
  let done = 0;
  const progressEvery = Math.max(500, Math.floor(args.inputs / 10));
  const note = (r: InputResult) => {
    counts[r.outcome]++;
    const p = (byPath[r.input.path] ??= { inputs: 0, ok: 0, clear: 0, unclear: 0, hang: 0 });
    p.inputs!++;
    p[r.outcome] = (p[r.outcome] ?? 0) + 1;
    if (r.outcome === 'unclear' || r.outcome === 'hang') {
      const key = classKey(r);
      const c = classes.get(key) ?? { outcome: r.outcome, key, count: 0, paths: {}, examples: [] };
      c.count++;
      c.paths[r.input.path] = (c.paths[r.input.path] ?? 0) + 1;
      if (c.examples.length < args.examples) c.examples.push(example(r.input, r.message ?? '', r.ms));
      classes.set(key, c);
    }
    if (++done % progressEvery === 0 && !args.json) {
      const mb = (bytes: number) => Math.round(bytes / 2 ** 20);
      process.stderr.write(`  ${done}/${args.inputs} inputs, ${((Date.now() - started) / 1000).toFixed(0)} s, peak RSS library ${mb(library.peakRssBytes)} MB, harness ${mb(maxRssBytes())} MB\n`);
    }
  };
  await Promise.all(
    workers.map(async (w) => {
      while (next < args.inputs) {
        const index = next++;
        const input = makeInput(corpus, args.seed, index);
        note(await current.run(index, () => w.run(input)));
      }
    }),
  );
  await Promise.all(workers.map((w) => w.close()));
  // Late failures (a socket error after its input settled) still count: the library process waits for them too.
  await library.finish();
  const harnessPeak = harnessRss.stop().bytes;
  const seconds = Math.round((Date.now() - started) / 100) / 10;
  // Stalls and the RSS peak name inputs by index: draw them again to describe them.
  const inputs = new Map<number, FuzzInput>();
  const inputAt = (index: number) => inputs.get(index) ?? inputs.set(index, makeInput(corpus, args.seed, index)).get(index)!;
  for (const st of [...library.stalls].sort((a, b) => b.ms - a.ms)) {
    const suspect = st.suspect !== undefined ? inputAt(st.suspect) : undefined;
    const bucket = st.ms >= 5000 ? '5 s or more' : st.ms >= 2000 ? '2-5 s' : '1-2 s';
    const key = `stall | event loop blocked ${bucket} | largest body in flight: ${suspect ? suspect.mutation.split(' + ').map((m) => m.split(' ')[0]).join(' + ') : '?'}`;
    const t = classes.get(key) ?? { outcome: 'stall' as const, key, count: 0, paths: {}, examples: [] };
    t.count++;
    if (suspect) t.paths[suspect.path] = (t.paths[suspect.path] ?? 0) + 1;
    if (t.examples.length < args.examples && suspect) t.examples.push(example(suspect, `event loop blocked for ${st.ms} ms`));
    classes.set(key, t);
  }
  crashes.push(...library.crashes);
  for (const c of crashes) {
    const input = c.index !== undefined ? makeInput(corpus, args.seed, c.index) : undefined;
    const key = `crash | ${c.kind} | ${c.message.split('\n')[0]!.slice(0, 90)}`;
    const t = classes.get(key) ?? { outcome: 'crash' as const, key, count: 0, paths: {}, examples: [] };
    t.count++;
    if (input) t.paths[input.path] = (t.paths[input.path] ?? 0) + 1;
    if (t.examples.length < args.examples) {
      t.examples.push(input ? example(input, c.message) : { index: -1, bytes: 0, ms: 0, path: 'call', seed: '?', mutation: '?', fault: '?', target: '?', message: c.message });
    }
    classes.set(key, t);
  }
  return {
    seed: args.seed,
    inputs: done,
    ok: counts.ok,
    clear: counts.clear,
    unclear: counts.unclear,
    hangs: counts.hang,
    stalls: library.stalls.length,
    longestStallMs: Math.max(0, ...library.stalls.map((x) => x.ms)),
    crashes: crashes.length,
    peakRssMb: Math.round(library.peakRssBytes / 2 ** 20),
    rssGoalMb: RSS_GOAL_MB,
    peakRssSuspect: library.peakSuspect !== undefined ? example(inputAt(library.peakSuspect), 'largest body in flight at the RSS peak') : undefined,
    harnessPeakRssMb: Math.round(harnessPeak / 2 ** 20),
    libraryRestarts: library.restarts,
    seconds,
    realCaptures: corpus.hasReal,
    byPath,
    classes: [...classes.values()].sort((a, b) => b.count - a.count),
  };
}

function printSummary(s: Summary, args: Args): void {
  const out = (line = '') => process.stdout.write(`${line}\n`);
  out(`fuzz: seed ${s.seed}, ${s.inputs} inputs in ${s.seconds} s (${args.concurrency} at a time; call timeout ${CALL_TIMEOUT_MS} ms, hang after ${HANG_FACTOR * CALL_TIMEOUT_MS} ms)`);
  if (!s.realCaptures) out('  (../shared/fixtures/real not found: only the project seeds in test/fuzz/seeds were mutated)');
  out();
  out(`inputs           ${s.inputs}`);
  out(`ok               ${s.ok}`);
  out(`clear errors     ${s.clear}`);
  out(`unclear errors   ${s.unclear}`);
  out(`hangs            ${s.hangs}`);
  out(`crashes          ${s.crashes}`);
  out(`event loop stalls ${s.stalls} of 1 s or more (longest ${(s.longestStallMs / 1000).toFixed(1)} s; suspects listed below)`);
  out(`peak RSS library ${s.peakRssMb} MB (the process running the library client; goal < ${s.rssGoalMb} MB: ${s.peakRssMb < s.rssGoalMb ? 'met' : 'NOT met'})`);
  const ps = s.peakRssSuspect;
  if (ps) out(`  at the peak, the largest body in flight: #${ps.index} ${ps.path} ${ps.target}, ${ps.bytes} bytes (${ps.mutation}; transport ${ps.fault})`);
  out(`peak RSS harness ${s.harnessPeakRssMb} MB (the mutator and the hostile servers, in a process of their own)`);
  if (s.libraryRestarts) out(`library process restarts ${s.libraryRestarts} (after a death or a stuck event loop; counted as crashes or hangs)`);
  out();
  out('by path:');
  for (const [p, c] of Object.entries(s.byPath)) {
    out(`  ${p.padEnd(16)} ${String(c.inputs).padStart(6)} inputs: ok ${c.ok ?? 0}, clear ${c.clear ?? 0}, unclear ${c.unclear ?? 0}, hang ${c.hang ?? 0}${c.crash ? `, crash ${c.crash}` : ''}`);
  }
  if (!s.classes.length) return;
  out();
  out('unclear errors, hangs, stalls and crashes by class ([count] outcome | why | message shape; paths), with examples:');
  for (const c of s.classes) {
    out(`  [${c.count}] ${c.key}; ${Object.entries(c.paths).map(([p, n]) => `${p} ${n}`).join(', ')}`);
    for (const e of c.examples) {
      out(`      #${e.index} ${e.path} ${e.target} <- ${e.seed} (${e.bytes} bytes); mutation: ${e.mutation}; transport: ${e.fault}; ${e.ms} ms`);
      out(`        ${e.message.split('\n')[0]}`);
      out(`        replay: node --import tsx test/fuzz/run.ts --seed ${s.seed} --replay ${e.index}`);
    }
  }
}

async function replay(args: Args): Promise<void> {
  const corpus = loadCorpus();
  const input = makeInput(corpus, args.seed, args.replay!);
  const library = new LibraryProcess();
  await library.start();
  const w = new Worker(corpus, library);
  await w.start();
  const r = await current.run(input.index, () => w.run(input));
  const requests = w.http.requests;
  await w.close();
  await library.finish();
  crashes.push(...library.crashes);
  const dir = path.join(__dirname, '../output');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `fuzz-seed${args.seed}-input${input.index}.body`);
  writeFileSync(file, input.reply.body);
  const out = (line = '') => process.stdout.write(`${line}\n`);
  out(`input #${input.index} of seed ${args.seed}`);
  out(`  path       ${input.path} (${input.target})`);
  out(`  seed       ${input.seed}`);
  out(`  mutation   ${input.mutation}`);
  out(`  transport  ${input.fault}${input.reply.status ? ` status ${input.reply.status}` : ''}${input.reply.challenge !== undefined ? ` challenge ${JSON.stringify(input.reply.challenge)}` : ''} variant ${input.reply.variant ?? '-'}`);
  out(`  body       ${input.reply.body.length} bytes, written to ${path.relative(process.cwd(), file)}; starts ${JSON.stringify(input.reply.body.subarray(0, 200).toString('latin1'))}`);
  out(`  requests   ${requests} HTTP request(s) reached the server`);
  out(`  peak RSS   library ${Math.round(library.peakRssBytes / 2 ** 20)} MB (the library process, this one input); harness ${Math.round(maxRssBytes() / 2 ** 20)} MB`);
  out(`  outcome    ${r.outcome}${r.reason ? ` (${r.reason})` : ''} after ${r.ms} ms`);
  if (r.message) out(`  message    ${r.message}`);
  for (const c of crashes) out(`  CRASH ${c.kind}: ${c.message}`);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.replay !== undefined) return replay(args);
  const summary = await runMany(args);
  if (args.json) process.stdout.write(`FUZZ_SUMMARY ${JSON.stringify(summary)}\n`);
  else printSummary(summary, args);
}

main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`fuzz: ${errText(e)}\n`);
    process.exit(2);
  },
);
