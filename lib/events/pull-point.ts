import { randomUUID } from 'node:crypto';
import type { OnvifDevice } from '../device/onvif-device';
import { reachableXaddr } from '../device/address';
import { OnvifError, deviceText } from '../errors';
import { encodeElement, findOperation } from '../schema';
import type { SoapResponse } from '../transport/types';
import { el, type XmlNode } from '../xml/build';
import { NS } from '../xml/namespaces';
import type { XmlElement } from '../xml/parse';
import { child, path, text } from '../xml/query';

/** Lease information from a response, in the device's own clock. */
export interface LeaseTimes {
  currentTime?: string;
  terminationTime?: string;
  /** TerminationTime − CurrentTime, ms: how long the device keeps the pull point from now (never compare with the local clock). */
  remainingMs?: number;
}

/** xs:duration → ms; undefined when unreadable. Calendar parts are approximated (leases never need them exact). */
export function parseDuration(value: string | undefined): number | undefined {
  const m = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec((value ?? '').trim());
  if (!m || /^PT?$/.test((value ?? '').trim())) return undefined;
  const n = (x?: string) => (x ? Number(x) : 0);
  return Math.round(((((n(m[1]) * 365 + n(m[2]) * 30 + n(m[3])) * 24 + n(m[4])) * 60 + n(m[5])) * 60 + n(m[6])) * 1000);
}

function timeMs(t: string | undefined): number {
  // Date.parse handles at most milliseconds reliably; captures carry microseconds (Pelco, Axis).
  return t ? Date.parse(t.replace(/(\.\d{3})\d+/, '$1')) : NaN;
}

/** CurrentTime/TerminationTime by local name: wsnt: in Create/Renew responses, tev: in PullMessagesResponse. */
export function readLeaseTimes(response: XmlElement | undefined): LeaseTimes {
  const currentTime = text(response, 'CurrentTime');
  const terminationTime = text(response, 'TerminationTime');
  const remaining = timeMs(terminationTime) - timeMs(currentTime);
  return { currentTime, terminationTime, remainingMs: Number.isFinite(remaining) ? remaining : undefined };
}

/** A parsed element as a builder node, so an echoed header keeps its namespaces whatever prefixes the serializer picks. */
function toNode(e: XmlElement): XmlNode {
  const attrs: Record<string, string> = {};
  for (const a of e.attributes) {
    if (a.prefix === 'xmlns' || a.name === 'xmlns') continue;
    attrs[a.ns ? `{${a.ns}}${a.local}` : a.local] = a.value;
  }
  const kids: XmlNode['children'] = e.children.length ? e.children.map(toNode) : [e.text];
  return { ns: e.ns, local: e.local, attrs, children: kids };
}

/**
 * Where the subscription manager really is. Devices report it in every form: absolute with a host we cannot
 * reach (NAT, 1.1.1.x), with or without an explicit port, with `?Idx=`/`?id=` queries, relative, empty or
 * the WS-Addressing anonymous URI (Axis: the generic service address plus reference parameters).
 */
export function reachableSubscriptionUrl(reported: string, eventServiceUrl: string, configured: URL, deviceReportedOrigin?: string): string {
  const r = reported.trim();
  if (!r || /^https?:\/\/www\.w3\.org\/.*addressing\/(anonymous|none)$/i.test(r) || /schemas\.xmlsoap\.org\/ws\/2004\/08\/addressing\/role\/anonymous$/i.test(r)) {
    return eventServiceUrl;
  }
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(r)) {
    try {
      return new URL(r, eventServiceUrl).toString();
    } catch {
      return eventServiceUrl;
    }
  }
  return reachableXaddr(r, configured, deviceReportedOrigin);
}

function op(name: string) {
  const o = findOperation(name);
  if (!o) throw new Error(`schema model lacks ${name}`);
  return o;
}
const OPS = {
  create: op('events.CreatePullPointSubscription'),
  pull: op('pullpoint.PullMessages'),
  sync: op('pullpoint.SetSynchronizationPoint'),
  renew: op('subscription.Renew'),
  unsubscribe: op('subscription.Unsubscribe'),
};

export interface RequestOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * One pull point on a device (Core §9.1): the protocol, without any retry policy. Every request to the
 * subscription manager carries WS-Addressing To/Action/MessageID and echoes the reference parameters
 * of the subscription reference as SOAP headers (Axis and Pelco need them).
 */
export class PullPoint {
  private constructor(
    private readonly device: OnvifDevice,
    /** The address exactly as the device gave it (sent as wsa:To). */
    readonly address: string,
    /** Where requests go. */
    readonly url: string,
    readonly referenceParameters: XmlNode[],
  ) {}

  /** CreatePullPointSubscription with a relative InitialTerminationTime (immune to clock skew). */
  static async create(device: OnvifDevice, initialTerminationS: number, options: RequestOptions = {}): Promise<{ pullPoint: PullPoint; lease: LeaseTimes }> {
    if (!device.session) await device.connect();
    const serviceUrl = device.serviceAddress(NS.tev);
    if (!serviceUrl) {
      throw new OnvifError('unsupported', `The device at ${device.displayAddress} does not offer the event service, so it cannot send events.`, {
        address: device.displayAddress,
        operation: 'CreatePullPointSubscription',
      });
    }
    const body = encodeElement(NS.tev, 'CreatePullPointSubscription', { InitialTerminationTime: `PT${Math.round(initialTerminationS)}S` });
    let res: SoapResponse;
    try {
      res = await device.send(serviceUrl, body, {
        action: OPS.create.action,
        operation: 'CreatePullPointSubscription',
        headers: addressingHeaders(serviceUrl, OPS.create.action),
        timeoutMs: options.timeoutMs,
        signal: options.signal,
      });
    } catch (e) {
      throw eventsUnsupported(e, device.displayAddress) ?? e;
    }
    const reference = child(res.content, 'SubscriptionReference');
    const address = text(reference, 'Address');
    if (!res.content || res.content.local !== 'CreatePullPointSubscriptionResponse' || address === undefined) {
      throw new OnvifError('bad-response', `CreatePullPointSubscription: the device at ${device.displayAddress} answered without a subscription reference.`, {
        address: device.displayAddress,
        operation: 'CreatePullPointSubscription',
      });
    }
    const params = (child(reference, 'ReferenceParameters')?.children ?? []).map((p) => {
      const n = toNode(p);
      n.attrs = { ...n.attrs, [`{${NS.wsa}}IsReferenceParameter`]: 'true' };
      return n;
    });
    const session = device.session;
    const tds = session?.services.find((s) => s.namespace === NS.tds);
    let reportedOrigin: string | undefined;
    try {
      reportedOrigin = tds ? new URL(tds.reportedXaddr.trim()).origin : undefined;
    } catch {
      reportedOrigin = undefined;
    }
    const url = reachableSubscriptionUrl(address, serviceUrl, device.url, reportedOrigin);
    return { pullPoint: new PullPoint(device, address.trim() || serviceUrl, url, params), lease: readLeaseTimes(res.content) };
  }

  /** PullMessages: the raw response element (topics need its namespace scope) and its lease times. */
  async pull(timeoutS: number, messageLimit: number, options: RequestOptions = {}): Promise<{ response: XmlElement; lease: LeaseTimes }> {
    const body = encodeElement(NS.tev, 'PullMessages', { Timeout: `PT${Math.round(timeoutS)}S`, MessageLimit: messageLimit });
    const res = await this.send(OPS.pull, body, options);
    if (!res.content || res.content.local !== 'PullMessagesResponse') {
      throw new OnvifError('bad-response', `PullMessages: the device at ${this.device.displayAddress} answered with <${res.content ? deviceText(res.content.name) : 'nothing'}> instead of PullMessagesResponse.`, {
        address: this.device.displayAddress,
        operation: 'PullMessages',
      });
    }
    return { response: res.content, lease: readLeaseTimes(res.content) };
  }

  /** SetSynchronizationPoint: the device re-sends every property's current state as `Initialized`. */
  async synchronize(options: RequestOptions = {}): Promise<void> {
    await this.send(OPS.sync, encodeElement(NS.tev, 'SetSynchronizationPoint', {}), options);
  }

  /** Renew, relative first; some firmware only takes an absolute time (computed in the device's clock). */
  async renew(terminationS: number, deviceNow: string | undefined, options: RequestOptions = {}): Promise<LeaseTimes> {
    let res: SoapResponse;
    try {
      res = await this.send(OPS.renew, encodeElement(NS.wsnt, 'Renew', { TerminationTime: `PT${Math.round(terminationS)}S` }), options);
    } catch (e) {
      const now = deviceNow ? timeMs(deviceNow) : NaN;
      if (!(e instanceof OnvifError) || e.kind !== 'fault' || isResourceUnknown(e) || !Number.isFinite(now)) throw e;
      const absolute = new Date(now + terminationS * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
      res = await this.send(OPS.renew, encodeElement(NS.wsnt, 'Renew', { TerminationTime: absolute }), options);
    }
    return readLeaseTimes(res.content);
  }

  async unsubscribe(options: RequestOptions = {}): Promise<void> {
    await this.send(OPS.unsubscribe, encodeElement(NS.wsnt, 'Unsubscribe', {}), options);
  }

  private send(o: { name: string; action: string }, body: XmlNode, options: RequestOptions): Promise<SoapResponse> {
    return this.device.send(this.url, body, {
      action: o.action,
      operation: o.name,
      headers: [...addressingHeaders(this.address, o.action), ...this.referenceParameters],
      timeoutMs: options.timeoutMs,
      signal: options.signal,
    });
  }
}

function addressingHeaders(to: string, action: string): XmlNode[] {
  return [el(NS.wsa, 'MessageID', undefined, `urn:uuid:${randomUUID()}`), el(NS.wsa, 'To', undefined, to), el(NS.wsa, 'Action', undefined, action)];
}

/** wsrf-r:ResourceUnknownFault (the pull point is gone: expired, unsubscribed, or the device rebooted). */
export function isResourceUnknown(e: OnvifError): boolean {
  return e.kind === 'fault' && (e.hasSubcode('ResourceUnknownFault') || e.hasSubcode('ResourceUnknown') || e.detail?.local === 'ResourceUnknownFault');
}

/** The limits a tev:PullMessagesFaultResponse names (Core §9.1.2), when this error is one. */
export function pullLimits(e: OnvifError): { maxTimeoutS?: number; maxMessageLimit?: number } | undefined {
  const d = e.detail;
  const fr = d?.local === 'PullMessagesFaultResponse' ? d : path(d, 'PullMessagesFaultResponse');
  if (e.kind !== 'fault' || !fr) return undefined;
  const t = parseDuration(text(fr, 'MaxTimeout'));
  const l = Number(text(fr, 'MaxMessageLimit'));
  return { maxTimeoutS: t !== undefined ? Math.floor(t / 1000) : undefined, maxMessageLimit: Number.isInteger(l) && l > 0 ? l : undefined };
}

/**
 * Answers to CreatePullPointSubscription that mean "no events here", not "try again": the device says it does not
 * support the action. Undefined for anything else, which is retried: a malformed, cut-off or HTML answer (even with
 * HTTP 200 or 404) is as likely a device still starting or a broken moment as a device without events (QUIRKS.md §4).
 */
function eventsUnsupported(e: unknown, address: string): OnvifError | undefined {
  if (!(e instanceof OnvifError)) return undefined;
  const notOffered = e.kind === 'fault' && (e.hasSubcode('ActionNotSupported') || e.hasSubcode('UnknownAction'));
  if (!notOffered) return undefined;
  return new OnvifError('unsupported', `The device at ${address} does not offer event subscriptions (CreatePullPointSubscription: ${e.message})`, {
    code: e.code,
    subcodes: e.subcodes,
    reason: e.reason,
    httpStatus: e.httpStatus,
    address,
    operation: 'CreatePullPointSubscription',
    cause: e,
  });
}
