/**
 * The library side of one fuzz input: what runs in the library process (test/fuzz/library-child.ts), apart from
 * the mutator and the hostile server, so that process's memory is the library's alone. Calls the real entry
 * points (OnvifDevice.call, OnvifDevice.connect, the pull-point event path, discovery parsing and a unicast
 * probe) against the hostile server's addresses and classifies what came back: ok, clear error, unclear error or
 * hang. Imports the library only: no mutator, no server.
 */
import { OnvifDevice } from '../../lib/device/onvif-device';
import { OnvifError } from '../../lib/errors';
import { parseDiscoveryMessage, probe } from '../../lib/discovery';
import { PullPoint, parseNotifications, readEventTypes } from '../../lib/events';
import { encodeElement } from '../../lib/schema';
import { NS } from '../../lib/xml/namespaces';

/** Per-request timeout given to the library; a hang is an input that does not settle within HANG_FACTOR of it. */
export const CALL_TIMEOUT_MS = 1000;
export const HANG_FACTOR = 3;
const HANG_TICK_MS = 100;
/** Discovery collection window for the unicast probe path. */
const PROBE_WINDOW_MS = 150;
export const USERNAME = 'fuzzadmin';
export const PASSWORD = 'fuzz-Secret-9w2';

export type PathName = 'call' | 'connect' | 'events' | 'discovery-parse' | 'discovery-probe';
/** 'crash': the library process died (or stopped answering) with this input in flight. */
export type Outcome = 'ok' | 'clear' | 'unclear' | 'hang' | 'crash';

/** What the library process needs for one input: where the hostile device is and what to ask it. */
export interface ClientJob {
  index: number;
  path: PathName;
  /** The operation called (call), or the step that gets the damaged answer (connect, events). */
  target: string;
  params?: Record<string, unknown>;
  httpPort: number;
  udpPort: number;
  /** discovery-parse: the datagram handed to the parser (the only body the library process receives). */
  datagram?: Buffer;
  /** Size of the damaged body: the largest in flight is the likely cause of a memory peak or a stall. */
  bytes: number;
}

export interface ClientResult {
  index: number;
  outcome: Outcome;
  /** Why it is unclear. */
  reason?: string;
  /** The error message (with a stack when it is not an OnvifError). */
  message?: string;
  ms: number;
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

/** Run one input against the library and classify the outcome. */
export async function runClientInput(job: ClientJob): Promise<ClientResult> {
  const base = `http://127.0.0.1:${job.httpPort}`;
  const started = Date.now();
  const device = new OnvifDevice({ address: `${base}/onvif/device_service`, username: USERNAME, password: PASSWORD, timeoutMs: CALL_TIMEOUT_MS });
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
  const { index } = job;
  try {
    const settled = await Promise.race([
      exercise(job, device, base).then(
        (value) => ({ value }),
        (error: unknown) => ({ error }),
      ),
      hang,
    ]);
    const ms = Date.now() - started;
    if (settled === 'hang') return { index, outcome: 'hang', ms, message: `no result within ${HANG_FACTOR * CALL_TIMEOUT_MS} ms` };
    if ('error' in settled) {
      const reason = unclearReason(settled.error);
      const e = settled.error as Error;
      const message = reason && !(e instanceof OnvifError) ? `${e?.name}: ${e?.message}\n${e?.stack ?? ''}` : String(e?.message ?? e);
      return { index, outcome: reason ? 'unclear' : 'clear', reason, message, ms };
    }
    const reason = checkResult(settled.value);
    return { index, outcome: reason ? 'unclear' : 'ok', reason, ms };
  } finally {
    clearInterval(timer);
    await device.close();
  }
}

function exercise(job: ClientJob, device: OnvifDevice, base: string): Promise<unknown> {
  switch (job.path) {
    case 'call':
      return device.call(job.target, job.params, { url: `${base}/onvif/device_service`, timeoutMs: CALL_TIMEOUT_MS });
    case 'connect':
      return device.connect();
    case 'events':
      return events(job, device);
    case 'discovery-parse':
      return Promise.resolve().then(() => parseDiscoveryMessage(job.datagram ?? Buffer.alloc(0), '127.0.0.1:3702') ?? null);
    case 'discovery-probe':
      return probe({ targets: [`127.0.0.1:${job.udpPort}`], timeoutMs: PROBE_WINDOW_MS, repeats: 1 });
  }
}

/** The events path as the hub runs it: subscribe, read the event types, pull, parse the notifications. */
async function events(job: ClientJob, device: OnvifDevice): Promise<unknown> {
  await device.connect();
  const { pullPoint, lease } = await PullPoint.create(device, 60, { timeoutMs: CALL_TIMEOUT_MS });
  const eventsUrl = device.serviceAddress(NS.tev)!;
  let types;
  if (job.target === 'GetEventProperties') {
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
  if (url && (url.hostname !== '127.0.0.1' || Number(url.port) !== job.httpPort)) return { skipped: 'subscription address elsewhere', lease };
  const { response } = await pullPoint.pull(1, 10, { timeoutMs: CALL_TIMEOUT_MS });
  return parseNotifications(response, types);
}
