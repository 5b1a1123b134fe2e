/**
 * One fuzz input, end to end: drawn from (run seed, index) alone, run against the real library entry points
 * (OnvifDevice.call, OnvifDevice.connect, the pull-point event path, discovery parsing and a unicast probe)
 * with the hostile server as the device, and classified: ok, clear error, unclear error or hang. Crashes
 * (uncaught exceptions, unhandled rejections, a polluted Object.prototype) are counted by the runner.
 */
import { OnvifDevice } from '../../lib/device/onvif-device';
import { OnvifError } from '../../lib/errors';
import { parseDiscoveryMessage, probe } from '../../lib/discovery';
import { PullPoint, parseNotifications, readEventTypes } from '../../lib/events';
import { encodeElement } from '../../lib/schema';
import { NS } from '../../lib/xml/namespaces';
import { BAD_STATUSES, GARBAGE_VARIANTS, HostileHttpServer, HostileUdpResponder, type Plan, type Reply, type TransportFault } from './hostile-server';
import { mutate } from './mutate';
import { Prng } from './prng';
import { ANY_OPERATION, CALL_OPERATIONS, RELATES_PLACEHOLDER, type Corpus, type Seed } from './seeds';

/** Per-request timeout given to the library; a hang is an input that does not settle within HANG_FACTOR of it. */
export const CALL_TIMEOUT_MS = 1000;
export const HANG_FACTOR = 3;
const HANG_TICK_MS = 100;
/** Discovery collection window for the unicast probe path. */
const PROBE_WINDOW_MS = 150;
const USERNAME = 'fuzzadmin';
const PASSWORD = 'fuzz-Secret-9w2';

export type PathName = 'call' | 'connect' | 'events' | 'discovery-parse' | 'discovery-probe';
export type Outcome = 'ok' | 'clear' | 'unclear' | 'hang';

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

// ------------------------------------------------------------------ classification

/** Text that means an internal error leaked into a message instead of words for a user. */
const INTERNALS: Array<[RegExp, string]> = [
  [/readTagExp|fast-xml-parser|node_modules|\bat [\w.<>]+ \(/, 'parser internals'],
  [/\bundefined\b/, '"undefined"'],
  [/\[object Object\]/, '"[object Object]"'],
  [/Cannot read propert|is not a function|is not iterable|Cannot convert/, 'a JavaScript TypeError text'],
  [/TypeError|RangeError|ReferenceError|SyntaxError|Maximum call stack/, 'a JavaScript error name'],
  [/\bHPE_[A-Z_]+/, 'a Node HTTP parser code (HPE_*)'],
  [/\bNaN\b/, '"NaN"'],
  [/Unexpected failure talking to/, 'a wrapped internal error ("Unexpected failure")'],
];

const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
export const MAX_MESSAGE_CHARS = 600;

/** undefined when `e` is a clear error; otherwise what makes it unclear. */
export function unclearReason(e: unknown): string | undefined {
  if (!(e instanceof OnvifError)) {
    const name = (e as Error)?.constructor?.name ?? typeof e;
    return `not an OnvifError (${name})`;
  }
  if (!e.kind) return 'OnvifError without a kind';
  const msg = String(e.message ?? '');
  if (!msg.trim()) return 'empty message';
  if (CONTROL.test(msg)) return 'control characters in the message';
  if (msg.length > MAX_MESSAGE_CHARS) return `message longer than ${MAX_MESSAGE_CHARS} characters`;
  if (msg.includes(PASSWORD)) return 'the password in the message';
  for (const [re, what] of INTERNALS) if (re.test(msg)) return `${what} in the message`;
  return undefined;
}

function checkResult(value: unknown): string | undefined {
  try {
    JSON.stringify(value);
    return undefined;
  } catch (e) {
    return `result is not plain JSON (${(e as Error).message})`;
  }
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

/** A worker: its own hostile server and UDP responder, one input at a time. */
export class Worker {
  readonly http = new HostileHttpServer();
  readonly udp = new HostileUdpResponder();

  constructor(private readonly corpus: Corpus) {}

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
    const started = Date.now();
    const device = new OnvifDevice({ address: `${this.http.base}/onvif/device_service`, username: USERNAME, password: PASSWORD, timeoutMs: CALL_TIMEOUT_MS });
    // The hang limit counts only time the event loop was free: a long parse of another input (they run side by
    // side) must not make this one look hung. Blocked stretches count as one tick each.
    let timer: NodeJS.Timeout | undefined;
    const hang = new Promise<'hang'>((resolve) => {
      let responsiveMs = 0;
      let last = Date.now();
      timer = setInterval(() => {
        const now = Date.now();
        responsiveMs += Math.min(now - last, 2 * HANG_TICK_MS);
        last = now;
        if (responsiveMs >= HANG_FACTOR * CALL_TIMEOUT_MS) resolve('hang');
      }, HANG_TICK_MS);
    });
    let result: InputResult;
    try {
      const settled = await Promise.race([
        this.exercise(input, device).then(
          (value) => ({ value }),
          (error: unknown) => ({ error }),
        ),
        hang,
      ]);
      const ms = Date.now() - started;
      if (settled === 'hang') result = { input, outcome: 'hang', ms, message: `no result within ${HANG_FACTOR * CALL_TIMEOUT_MS} ms (${this.http.requests} HTTP requests so far)` };
      else if ('error' in settled) {
        const reason = unclearReason(settled.error);
        const e = settled.error as Error;
        const message = reason && !(e instanceof OnvifError) ? `${e?.name}: ${e?.message}\n${e?.stack ?? ''}` : String(e?.message ?? e);
        result = { input, outcome: reason ? 'unclear' : 'clear', reason, message, ms };
      } else {
        const reason = checkResult(settled.value);
        result = { input, outcome: reason ? 'unclear' : 'ok', reason, ms };
      }
    } finally {
      clearInterval(timer);
      await device.close();
      this.http.dropConnections();
      this.udp.replies = [];
    }
    return result;
  }

  private async exercise(input: FuzzInput, device: OnvifDevice): Promise<unknown> {
    switch (input.path) {
      case 'call':
        return device.call(input.target, input.params, { url: `${this.http.base}/onvif/device_service`, timeoutMs: CALL_TIMEOUT_MS });
      case 'connect':
        return device.connect();
      case 'events':
        return this.events(input, device);
      case 'discovery-parse': {
        const datagram = Buffer.from(input.reply.body.toString('latin1').split(RELATES_PLACEHOLDER).join('uuid:0f0e0d0c-0b0a-4908-8706-0504030201ff'), 'latin1');
        return parseDiscoveryMessage(datagram, '127.0.0.1:3702') ?? null;
      }
      case 'discovery-probe':
        return probe({ targets: [`127.0.0.1:${this.udp.port}`], timeoutMs: PROBE_WINDOW_MS, repeats: 1 });
    }
  }

  /** The events path as the hub runs it: subscribe, read the event types, pull, parse the notifications. */
  private async events(input: FuzzInput, device: OnvifDevice): Promise<unknown> {
    await device.connect();
    const { pullPoint, lease } = await PullPoint.create(device, 60, { timeoutMs: CALL_TIMEOUT_MS });
    const eventsUrl = device.serviceAddress(NS.tev)!;
    let types;
    if (input.target === 'GetEventProperties') {
      const res = await device.send(eventsUrl, encodeElement(NS.tev, 'GetEventProperties', {}), {
        action: `${NS.tev}/EventPortType/GetEventPropertiesRequest`,
        operation: 'GetEventProperties',
        timeoutMs: CALL_TIMEOUT_MS,
      });
      types = res.content ? readEventTypes(res.content) : new Map();
    }
    // Never follow a damaged subscription address off this server (only our own loopback server is a target).
    let url: URL | undefined;
    try {
      url = new URL(pullPoint.url);
    } catch {
      url = undefined; // unusable: the library must refuse it before sending anything
    }
    if (url && (url.hostname !== '127.0.0.1' || Number(url.port) !== this.http.port)) return { skipped: 'subscription address elsewhere', lease };
    const { response } = await pullPoint.pull(1, 10, { timeoutMs: CALL_TIMEOUT_MS });
    return parseNotifications(response, types);
  }
}
