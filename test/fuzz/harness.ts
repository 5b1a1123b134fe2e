/**
 * One fuzz input, harness side: drawn from (run seed, index) alone, served by the hostile server as the device,
 * and handed to the library process (test/fuzz/library-process.ts), which runs the real library entry points
 * (OnvifDevice.call, OnvifDevice.connect, the pull-point event path, discovery parsing and a unicast probe) and
 * classifies the outcome (test/fuzz/library-client.ts). The mutator and the server stay here, so the library
 * process's memory is the library's alone. Crashes are counted by the runner.
 */
import { BAD_STATUSES, GARBAGE_VARIANTS, HUGE_BYTES, HostileHttpServer, HostileUdpResponder, type Plan, type Reply, type TransportFault } from './hostile-server';
import type { ClientJob, Outcome, PathName } from './library-client';
import type { LibraryProcess } from './library-process';
import { mutate } from './mutate';
import { Prng } from './prng';
import { ANY_OPERATION, CALL_OPERATIONS, RELATES_PLACEHOLDER, type Corpus, type Seed } from './seeds';

const PATH_WEIGHTS: Record<PathName, number> = { call: 40, connect: 20, events: 20, 'discovery-parse': 12, 'discovery-probe': 8 };

const FAULT_WEIGHTS: Record<TransportFault, number> = {
  none: 60,
  'bad-status': 6,
  'wrong-content-type': 3,
  chunked: 3,
  'cut-headers': 2,
  'cut-body': 3,
  reset: 2,
  'close-no-answer': 2,
  'slow-loris': 1.2,
  stall: 0.8,
  'huge-chunked': 0.4,
  'huge-declared': 0.4,
  'redirect-loop': 2,
  '401-loop': 4,
  'not-authorized-loop': 2,
  'garbage-http': 5,
};

const CONNECT_STEPS = ['GetSystemDateAndTime', 'GetServices', 'GetCapabilities', 'GetServiceCapabilities', 'GetScopes', 'GetDeviceInformation', 'GetEndpointReference'];
const EVENT_STEPS: Record<string, number> = { CreatePullPointSubscription: 25, GetEventProperties: 20, PullMessages: 55 };
const CATEGORY_OF: Record<string, string> = {
  GetServiceCapabilities: 'GetServiceCapabilitiesResponse-device',
};
const categoryOf = (operation: string) => CATEGORY_OF[operation] ?? `${operation}Response`;

export interface FuzzInput {
  index: number;
  path: PathName;
  seed: string;
  mutation: string;
  fault: TransportFault;
  /** Which request gets the damaged answer (connect, events), or the operation called (call). */
  target: string;
  params?: Record<string, unknown>;
  reply: Reply;
  /** discovery-probe: the datagrams the responder sends back. */
  datagrams?: Buffer[];
}

export interface InputResult {
  input: FuzzInput;
  outcome: Outcome;
  /** Why it is unclear, or the error message. */
  message?: string;
  reason?: string;
  ms: number;
}

function pickSeed(rng: Prng, corpus: Corpus, category: string): Seed | undefined {
  const list = corpus.byCategory.get(category);
  return list && list.length ? rng.pick(list) : undefined;
}

function anySeed(rng: Prng, corpus: Corpus): Seed {
  const categories = [...corpus.byCategory.keys()];
  return pickSeed(rng, corpus, rng.pick(categories))!;
}

function drawReply(rng: Prng, corpus: Corpus, body: Buffer): Reply {
  const fault = rng.weighted(FAULT_WEIGHTS);
  const reply: Reply = { fault, body, variant: rng.int(0, 1 << 20) };
  if (fault === 'bad-status') reply.status = rng.pick(BAD_STATUSES);
  if (fault === 'not-authorized-loop') reply.status = rng.pick([400, 500, 200]);
  if (fault === '401-loop') reply.challenge = rng.pick(corpus.challenges);
  if (fault === 'garbage-http') reply.variant = rng.int(0, GARBAGE_VARIANTS - 1);
  return reply;
}

/** Draw input `index` of the run seeded `runSeed` (a pure function of both: what `--replay` relies on). */
export function makeInput(corpus: Corpus, runSeed: number, index: number): FuzzInput {
  const rng = Prng.forInput(runSeed, index);
  const path = rng.weighted(PATH_WEIGHTS);
  let target: string;
  let seed: Seed | undefined;
  let params: Record<string, unknown> | undefined;
  switch (path) {
    case 'call': {
      const categories = [...corpus.byCategory.keys()].filter((c) => CALL_OPERATIONS[c] || ANY_OPERATION.includes(c));
      const category = rng.pick(categories);
      seed = pickSeed(rng, corpus, category)!;
      const op = CALL_OPERATIONS[category] ?? CALL_OPERATIONS[rng.pick(Object.keys(CALL_OPERATIONS))]!;
      target = op.operation;
      params = op.params;
      break;
    }
    case 'connect':
      target = rng.pick(CONNECT_STEPS);
      seed = pickSeed(rng, corpus, categoryOf(target));
      break;
    case 'events':
      target = rng.weighted(EVENT_STEPS);
      seed = pickSeed(rng, corpus, categoryOf(target));
      break;
    default:
      target = path === 'discovery-parse' ? 'parseDiscoveryMessage' : 'probe';
      seed = pickSeed(rng, corpus, rng.chance(0.15) && corpus.byCategory.has('Hello') ? 'Hello' : 'ProbeMatches');
  }
  seed ??= anySeed(rng, corpus);
  // Sometimes the answer is a fault or an error page instead of the operation's answer.
  if ((path === 'connect' || path === 'events') && rng.chance(0.1)) seed = pickSeed(rng, corpus, rng.pick(ANY_OPERATION)) ?? seed;
  const other = anySeed(rng, corpus);
  const { body, label } = mutate(rng, seed.body, other.body);
  const isHttp = path === 'call' || path === 'connect' || path === 'events';
  const reply = isHttp ? drawReply(rng, corpus, body) : { fault: 'none' as const, body };
  const input: FuzzInput = { index, path, seed: seed.name, mutation: label, fault: reply.fault, target, params, reply };
  if (path === 'discovery-probe') {
    input.datagrams = [body];
    if (rng.chance(0.2)) input.datagrams.push(Buffer.alloc(0));
    if (rng.chance(0.2)) input.datagrams.push(seed.body);
  }
  return input;
}

// ------------------------------------------------------------------ running one input

const CLEAN_FAULT = (subcode: string) =>
  Buffer.from(
    `<?xml version="1.0"?><env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope" xmlns:ter="http://www.onvif.org/ver10/error"><env:Body><env:Fault><env:Code><env:Value>env:Receiver</env:Value><env:Subcode><env:Value>ter:${subcode}</env:Value></env:Subcode></env:Code><env:Reason><env:Text xml:lang="en">Not supported</env:Text></env:Reason></env:Fault></env:Body></env:Envelope>`,
  );

/** What a sane device answers for the requests that are not under test. */
function cleanAnswer(corpus: Corpus, operation: string, withoutServiceCapabilities: boolean): Reply {
  let body = corpus.own.get(categoryOf(operation));
  if (!body) return { fault: 'bad-status', status: 400, body: CLEAN_FAULT('ActionNotSupported') };
  if (operation === 'GetServices' && withoutServiceCapabilities) {
    body = Buffer.from(body.toString('latin1').replace(/<tds:Capabilities>[\s\S]*<\/tds:Capabilities>/, ''), 'latin1');
  }
  return { fault: 'none', body };
}

function planFor(corpus: Corpus, input: FuzzInput): Plan {
  if (input.path === 'call') return () => input.reply;
  return ({ operation }) => {
    if (operation === input.target) return input.reply;
    // Reach the step under test: GetCapabilities is only asked when GetServices fails.
    if (input.target === 'GetCapabilities' && operation === 'GetServices') return { fault: 'bad-status', status: 400, body: CLEAN_FAULT('ActionNotSupported') };
    return cleanAnswer(corpus, operation, input.target === 'GetServiceCapabilities');
  };
}

/** How many bytes of body the device sends: the huge-* faults send 100 MB whatever body was drawn. */
export function servedBytes(input: FuzzInput): number {
  return input.fault === 'huge-chunked' || input.fault === 'huge-declared' ? HUGE_BYTES : input.reply.body.length;
}

/** The library process's part of an input: where the device is and what to ask, never the mutator's state. */
export function clientJob(input: FuzzInput, httpPort: number, udpPort: number): ClientJob {
  const job: ClientJob = { index: input.index, path: input.path, target: input.target, params: input.params, httpPort, udpPort, bytes: servedBytes(input) };
  if (input.path === 'discovery-parse') {
    job.datagram = Buffer.from(input.reply.body.toString('latin1').split(RELATES_PLACEHOLDER).join('uuid:0f0e0d0c-0b0a-4908-8706-0504030201ff'), 'latin1');
  }
  return job;
}

/** A worker: its own hostile server and UDP responder, one input at a time, run in the shared library process. */
export class Worker {
  readonly http = new HostileHttpServer();
  readonly udp = new HostileUdpResponder();

  constructor(
    private readonly corpus: Corpus,
    private readonly library: LibraryProcess,
  ) {}

  async start(): Promise<void> {
    await this.http.start();
    await this.udp.start();
  }

  async close(): Promise<void> {
    await this.http.close();
    await this.udp.close();
  }

  async run(input: FuzzInput): Promise<InputResult> {
    this.http.reset(planFor(this.corpus, input));
    this.udp.replies = input.datagrams ?? [];
    try {
      const r = await this.library.run(clientJob(input, this.http.port, this.udp.port));
      const message = r.outcome === 'hang' ? `${r.message} (${this.http.requests} HTTP requests so far)` : r.message;
      return { input, outcome: r.outcome, reason: r.reason, message, ms: r.ms };
    } finally {
      this.http.dropConnections();
      this.udp.replies = [];
    }
  }
}
