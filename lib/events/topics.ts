import { NS, UNDECLARED_NS_PREFIX } from '../xml/namespaces';
import type { XmlElement } from '../xml/parse';
import { resolveQName } from '../xml/query';

/**
 * The prefix each topic namespace is usually written with. ONVIF topics always come out as `tns1:`
 * whatever prefix the device declared; vendor namespaces keep the prefix their documentation uses.
 * Looked up with namespace URIs the device declares, so no prototype: `constructor` finds nothing.
 */
export const TOPIC_PREFIXES: Readonly<Record<string, string>> = Object.assign(Object.create(null) as Record<string, string>, {
  [NS.tns1]: 'tns1',
  'http://www.axis.com/2009/event/topics': 'tnsaxis',
  'http://www.hikvision.com/2011/event/topics': 'tnshik',
  // TRENDnet and other Hikvision OEM firmware (QUIRKS.md §4).
  'http://www.eventextension.com/2011/event/topics': 'tnsn',
});

/**
 * The canonical text of a topic expression as a device wrote it (`wsnt:Topic` text), with each segment's
 * prefix resolved against the element's in-scope namespaces: `ns0:Monitoring/ProcessorUsage` with ns0 bound
 * to the ONVIF topic namespace becomes `tns1:Monitoring/ProcessorUsage`. Whitespace (pretty-printed
 * captures) is dropped. Unprefixed segments stay unprefixed.
 */
export function canonicalTopic(text: string, scope?: XmlElement): string {
  const compact = text.replace(/\s+/g, '');
  if (!compact) return '';
  return compact
    .split('/')
    .map((segment) => {
      const i = segment.indexOf(':');
      if (i <= 0) return segment;
      const written = segment.slice(0, i);
      const local = segment.slice(i + 1);
      const ns = scope ? resolveQName(scope, segment).ns : undefined;
      const prefix = ns && !ns.startsWith(UNDECLARED_NS_PREFIX) ? TOPIC_PREFIXES[ns] ?? written : written;
      return `${prefix}:${local}`;
    })
    .join('/');
}

/** One alternative of a ConcreteSet expression, split into segments. */
interface TopicPattern {
  segments: string[];
  /** Ends in `//.`: the topic itself and everything below it. */
  subtree: boolean;
}

/** A compiled filter: `(topic) => boolean`. */
export type TopicFilter = (topic: string) => boolean;

const cache = new Map<string, TopicFilter>();

/**
 * Compile an ONVIF ConcreteSet expression (Core §9.6.3): alternatives separated by `|`, each a Concrete
 * topic path, optionally ending in `//.` for "this topic and all below it". Empty matches everything.
 * Segments compare prefix and local name; a filter segment written without a prefix matches on the local
 * name alone (so `tns1:VideoAnalytics/MotionAlarm` also finds Hikvision's `tnshik:MotionAlarm`).
 */
export function compileTopicFilter(filter: string | undefined): TopicFilter {
  const key = (filter ?? '').replace(/\s+/g, '');
  const hit = cache.get(key);
  if (hit) return hit;
  const patterns: TopicPattern[] = key
    .split('|')
    .filter(Boolean)
    .map((alt) => {
      let a = alt;
      let subtree = false;
      if (a.endsWith('//.')) {
        subtree = true;
        a = a.slice(0, -3);
      }
      // Filters are written by people: `tns1:Foo/` and canonical ONVIF prefixes in any case are fine.
      return { segments: canonicalTopic(a.replace(/\/+$/, '')).split('/').filter(Boolean), subtree };
    })
    .filter((p) => p.segments.length > 0);
  const matcher: TopicFilter =
    patterns.length === 0 ? () => true : (topic: string) => patterns.some((p) => patternMatches(p, topic.split('/')));
  if (cache.size > 1000) cache.clear();
  cache.set(key, matcher);
  return matcher;
}

function segmentMatches(pattern: string, segment: string): boolean {
  if (pattern === segment) return true;
  if (pattern.includes(':')) return false;
  const i = segment.indexOf(':');
  return i >= 0 && segment.slice(i + 1) === pattern;
}

function patternMatches(p: TopicPattern, topic: string[]): boolean {
  if (topic.length < p.segments.length) return false;
  if (!p.subtree && topic.length !== p.segments.length) return false;
  for (let i = 0; i < p.segments.length; i++) if (!segmentMatches(p.segments[i]!, topic[i]!)) return false;
  return true;
}

/** Does the canonical `topic` match the ConcreteSet `filter`? (Empty filter: everything.) */
export function topicMatches(topic: string, filter: string): boolean {
  return compileTopicFilter(filter)(topic);
}
