/**
 * Runtime texts (statuses, warnings, errors) through Node-RED's i18n, like the editor's: `RED._` with the node's
 * message catalogue (locales/<lang>/<node>.json, English en-US and German de). Texts several nodes share (the
 * connection's status and log lines, error advice) live in the onvifq-device catalogue, the config node every
 * flow node uses. Where RED._ has no catalogue (the Node-RED test helper answers every key with the key itself),
 * the English catalogue is read here, so a node never shows a bare key.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { NodeAPI } from 'node-red';

/** A text by its catalogue key (`onvifq-events.status.subscribing`), with `__name__` placeholders filled from `vars`. */
export type Texts = (key: string, vars?: Record<string, string | number>) => string;

/** The node type whose catalogue holds the texts every node shares. */
export const SHARED_CATALOGUE = 'onvifq-device';

/** This package's name: Node-RED names a node set's catalogue `<package>/<node type>`. */
const PACKAGE_NAME = findPackageName();

function findPackageName(): string {
  for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) {
      const pkg = JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: string; 'node-red'?: unknown };
      if (pkg['node-red'] && pkg.name) return pkg.name;
    }
  }
  return '@onvifq/node-red-onvif';
}

/** The directory of the node folders (nodes/ in the sources, dist/nodes when built). */
const NODES_DIR = path.resolve(__dirname, '..');

const english = new Map<string, Record<string, unknown>>();

/** A key of a node's catalogue, read from its en-US file (undefined when the key is missing). */
export function catalogueText(type: string, key: string, lang = 'en-US'): string | undefined {
  const cacheKey = `${lang}/${type}`;
  let catalogue = english.get(cacheKey);
  if (!catalogue) {
    const file = path.join(NODES_DIR, type, 'locales', lang, `${type}.json`);
    catalogue = fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>) : {};
    english.set(cacheKey, catalogue);
  }
  const value = key.split('.').reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), catalogue);
  return typeof value === 'string' ? value : undefined;
}

/** Fill i18next's `__name__` placeholders. */
export function fill(text: string, vars: Record<string, string | number> = {}): string {
  return text.replace(/__([A-Za-z0-9_]+)__/g, (whole, name: string) => (name in vars ? String(vars[name]) : whole));
}

/**
 * The texts of node type `type` for the runtime: keys are full catalogue keys, `<type>.<path>` for the node's own,
 * `onvifq-device.<path>` for the shared ones.
 */
export function runtimeTexts(RED: NodeAPI, type: string): Texts {
  const translate = (RED as unknown as { _?: (key: string, vars?: Record<string, unknown>) => string })._;
  return (key, vars) => {
    const owner = key.slice(0, key.indexOf('.'));
    // A key of another node set's catalogue is named with that set's namespace.
    const full = owner !== type ? `${PACKAGE_NAME}/${owner}:${key}` : key;
    // Placeholders are filled here, not by i18next, so a value is never HTML-escaped or read as nesting.
    const text = typeof translate === 'function' ? translate(full) : undefined;
    if (typeof text === 'string' && text !== '' && text !== full && text !== key && !text.endsWith(`:${key}`)) return fill(text, vars);
    const fallback = catalogueText(owner, key);
    return fill(fallback ?? key, vars);
  };
}

/** English texts without Node-RED (library-level helpers, tests of pure functions). */
export const englishTexts: Texts = (key, vars) => fill(catalogueText(key.slice(0, key.indexOf('.')), key) ?? key, vars);
