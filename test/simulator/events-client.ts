/**
 * Raw SOAP helpers for the event-service tests: requests written out by hand, digest from ./client,
 * answers read with lib/soap, so the tests check the wire format rather than shared code.
 */
import { challenges, digestHeader, parse, post, type DigestSession, type RawResponse } from './client';
import type { XmlElement } from '../../lib/xml/parse';

export const TEV = 'http://www.onvif.org/ver10/events/wsdl';
export const WSNT = 'http://docs.oasis-open.org/wsn/b-2';
export const CONCRETE_SET = 'http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet';
export const CONCRETE = 'http://docs.oasis-open.org/wsn/t-1/TopicExpression/Concrete';
export const ITEM_FILTER = 'http://www.onvif.org/ver10/tev/messageContentFilter/ItemFilter';

/** A SOAP 1.2 request; `op` is written in `ns` (tev by default), `inner` may use tev/wsnt/tns1/tt prefixes. */
export function eventEnvelope(op: string, inner = '', options: { ns?: string; header?: string } = {}): string {
  const ns = options.ns ?? TEV;
  return (
    '<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" ' +
    `xmlns:tev="${TEV}" xmlns:wsnt="${WSNT}" xmlns:tns1="http://www.onvif.org/ver10/topics" xmlns:tt="http://www.onvif.org/ver10/schema" ` +
    'xmlns:wsa="http://www.w3.org/2005/08/addressing">' +
    (options.header ? `<s:Header>${options.header}</s:Header>` : '') +
    `<s:Body><op:${op} xmlns:op="${ns}">${inner}</op:${op}></s:Body></s:Envelope>`
  );
}

/** Sends requests, answering digest challenges with the given account when there is one. */
export class EventsClient {
  private session?: DigestSession;
  constructor(private readonly username?: string, private readonly password?: string) {}

  async call(url: string, op: string, inner = '', options: { ns?: string; header?: string } = {}): Promise<RawResponse> {
    const body = eventEnvelope(op, inner, options);
    const path = new URL(url).pathname;
    const auth = (): Record<string, string> => (this.session && this.username ? { Authorization: digestHeader(this.session, this.username, this.password ?? '', path) } : {});
    let res = await post(url, body, auth());
    if (res.status === 401 && this.username) {
      this.session = { challenge: challenges(res)[0]!, nc: 0 };
      res = await post(url, body, auth());
    }
    return res;
  }

  /** CreatePullPointSubscription; returns the answer and the subscription address (when it succeeded). */
  async create(eventXaddr: string, inner = ''): Promise<{ res: RawResponse; address: string; referenceHeader?: string }> {
    const res = await this.call(eventXaddr, 'CreatePullPointSubscription', inner);
    const address = res.status === 200 ? find(parse(res).body, 'Address')!.text.trim() : '';
    const id = res.status === 200 ? find(parse(res).body, 'SubscriptionId') : undefined;
    const referenceHeader = id ? `<a:SubscriptionId xmlns:a="${id.ns}">${id.text.trim()}</a:SubscriptionId>` : undefined;
    return { res, address, referenceHeader };
  }

  pull(address: string, timeout = 'PT1S', limit = 100, header?: string): Promise<RawResponse> {
    return this.call(address, 'PullMessages', `<tev:Timeout>${timeout}</tev:Timeout><tev:MessageLimit>${limit}</tev:MessageLimit>`, { header });
  }
}

export function find(e: XmlElement, local: string): XmlElement | undefined {
  if (e.local === local) return e;
  for (const c of e.children) {
    const f = find(c, local);
    if (f) return f;
  }
  return undefined;
}

export interface Notification {
  topic: string;
  /** Namespace the topic's prefix is bound to, where the message declares it. */
  topicNs: string;
  dialect: string;
  operation?: string;
  utcTime: string;
  source: Record<string, string>;
  key: Record<string, string>;
  data: Record<string, string>;
}

/** The notifications of a PullMessagesResponse, in order. */
export function notifications(res: RawResponse): Notification[] {
  const body = parse(res).content!;
  return body.children
    .filter((c) => c.local === 'NotificationMessage' && c.ns === WSNT)
    .map((n) => {
      const topicEl = n.children.find((c) => c.local === 'Topic')!;
      const topic = topicEl.text.trim();
      const prefix = topic.split(':')[0]!;
      const msg = find(n, 'Message')!.children.find((c) => c.local === 'Message')!;
      const group = (local: string) =>
        Object.fromEntries((msg.children.find((c) => c.local === local)?.children ?? []).map((i) => [attrOf(i, 'Name')!, attrOf(i, 'Value')!]));
      return {
        topic,
        topicNs: topicEl.namespaces[prefix] ?? '',
        dialect: attrOf(topicEl, 'Dialect') ?? '',
        operation: attrOf(msg, 'PropertyOperation'),
        utcTime: attrOf(msg, 'UtcTime') ?? '',
        source: group('Source'),
        key: group('Key'),
        data: group('Data'),
      };
    });
}

export function attrOf(e: XmlElement, local: string): string | undefined {
  return e.attributes.find((a) => a.local === local)?.value;
}

/** Pull until `until` holds for the collected notifications or `maxPulls` answers came back. */
export async function pullUntil(client: EventsClient, address: string, until: (all: Notification[]) => boolean, maxPulls = 20, timeout = 'PT2S'): Promise<Notification[]> {
  const all: Notification[] = [];
  for (let i = 0; i < maxPulls && !until(all); i++) {
    const r = await client.pull(address, timeout, 1000);
    if (r.status !== 200) throw new Error(`PullMessages failed: HTTP ${r.status} ${r.body}`);
    all.push(...notifications(r));
  }
  return all;
}

