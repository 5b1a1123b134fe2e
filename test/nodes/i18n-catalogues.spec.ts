/**
 * A second language (issue 16, item 17): every node has an English (en-US) and a German (de) catalogue with the
 * same keys and the same placeholders; every key the runtime code and the editor files use is in both. This test
 * fails when a key is missing in either language.
 */
import { strict as assert } from 'node:assert';
import fs from 'node:fs';
import path from 'node:path';

const NODES_DIR = path.resolve(__dirname, '../../nodes');
const LANGUAGES = ['en-US', 'de'];
const TYPES = fs.readdirSync(NODES_DIR).filter((d) => fs.existsSync(path.join(NODES_DIR, d, 'locales')));

function catalogue(type: string, lang: string): Record<string, unknown> {
  const file = path.join(NODES_DIR, type, 'locales', lang, `${type}.json`);
  assert.ok(fs.existsSync(file), `${type}: no ${lang} catalogue (${path.relative(NODES_DIR, file)})`);
  return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
}

/** Every leaf key, dotted: onvifq-device.status.connecting → text. */
function leaves(value: unknown, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  if (typeof value === 'string') out.set(prefix, value);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) for (const [key, text] of leaves(v, prefix ? `${prefix}.${k}` : k)) out.set(key, text);
  }
  return out;
}

function lookup(key: string): Array<string | undefined> {
  const type = key.slice(0, key.indexOf('.'));
  if (!TYPES.includes(type)) return LANGUAGES.map(() => `(not a node catalogue: ${type})`);
  return LANGUAGES.map((lang) => leaves(catalogue(type, lang)).get(key));
}

function sources(dir: string, ext: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = path.join(dir, d.name);
    if (d.isDirectory()) return d.name === 'locales' ? [] : sources(p, ext);
    return p.endsWith(ext) ? [p] : [];
  });
}

describe('catalogues: English and German, the same keys everywhere', () => {
  it('finds the nodes with catalogues', () => {
    assert.deepEqual(TYPES.sort(), ['onvifq-apps', 'onvifq-configure', 'onvifq-device', 'onvifq-discover', 'onvifq-events', 'onvifq-firmware']);
  });

  for (const type of TYPES) {
    it(`${type}: en-US and de have the same keys and the same placeholders`, () => {
      const [en, de] = LANGUAGES.map((lang) => leaves(catalogue(type, lang))) as [Map<string, string>, Map<string, string>];
      assert.deepEqual([...en.keys()].filter((k) => !de.has(k)), [], 'missing in German');
      assert.deepEqual([...de.keys()].filter((k) => !en.has(k)), [], 'missing in English');
      for (const [key, text] of en) {
        const vars = (s: string) => (s.match(/__\w+__/g) ?? []).sort();
        assert.deepEqual(vars(de.get(key)!), vars(text), `${key}: placeholders`);
        assert.ok(de.get(key)!.trim() !== '', `${key}: empty in German`);
      }
    });
  }

  it('every key the runtime code uses is in both languages (t("…") and keys built from a prefix)', () => {
    const missing: string[] = [];
    let count = 0;
    for (const file of sources(NODES_DIR, '.ts')) {
      const code = fs.readFileSync(file, 'utf8');
      for (const m of code.matchAll(/\bt\(\s*(['`])(onvifq-[a-z]+\.[A-Za-z0-9_.${}-]+?)\1/g)) {
        const key = m[2]!;
        count++;
        if (key.includes('${')) {
          // A key built at run time (`onvifq-device.why.${kind}`): the section it picks from must exist in both.
          const section = key.slice(0, key.indexOf('${')).replace(/\.$/, '');
          const type = section.slice(0, section.indexOf('.'));
          for (const lang of LANGUAGES) {
            if (![...leaves(catalogue(type, lang)).keys()].some((k) => k.startsWith(`${section}.`))) missing.push(`${lang}: ${section}.* (${path.basename(file)})`);
          }
        } else {
          lookup(key).forEach((text, i) => text === undefined && missing.push(`${LANGUAGES[i]}: ${key} (${path.basename(file)})`));
        }
      }
    }
    assert.ok(count > 60, `only ${count} runtime texts found`);
    assert.deepEqual(missing, []);
  });

  it('the kinds the runtime looks up by error kind have a text in both languages', () => {
    const kinds = ['unreachable', 'timeout', 'fault', 'broken-http', 'bad-response', 'too-large', 'other'];
    for (const kind of kinds) assert.deepEqual(lookup(`onvifq-device.why.${kind}`).filter((x) => x === undefined), [], kind);
    for (const kind of ['auth', 'tls', 'unsupported', 'closed', ...kinds]) assert.deepEqual(lookup(`onvifq-device.callFailed.${kind}`).filter((x) => x === undefined), [], kind);
    for (const key of ['authFailed', 'tlsFailed', 'badConfig', 'noEventService', 'deviceFault', 'failed']) {
      assert.deepEqual(lookup(`onvifq-events.status.${key}`).filter((x) => x === undefined), [], key);
    }
  });

  it('every key the editor files use (data-i18n, _("…"), tr("…")) is in both languages', () => {
    const missing: string[] = [];
    for (const type of TYPES) {
      const html = fs.readFileSync(path.join(NODES_DIR, type, `${type}.html`), 'utf8');
      const keys = [
        ...[...html.matchAll(/data-i18n="(?:\[[a-z]+\])?([^"]+)"/g)].map((m) => m[1]!),
        ...[...html.matchAll(/\._\('(onvifq-[a-z]+\.[\w.-]+)'/g)].map((m) => m[1]!),
        ...[...html.matchAll(/\btr\('([\w.-]+)'\)/g)].map((m) => `${type}.${m[1]}`),
      ];
      assert.ok(keys.length > 5, `${type}: ${keys.length} editor keys`);
      for (const key of keys) {
        // A key completed at run time ('onvifq-configure.group.' + name): its section must exist in both.
        if (key.endsWith('.')) {
          for (const lang of LANGUAGES) if (![...leaves(catalogue(type, lang)).keys()].some((k) => k.startsWith(key))) missing.push(`${lang}: ${key}*`);
        } else {
          lookup(key).forEach((text, i) => text === undefined && missing.push(`${LANGUAGES[i]}: ${key}`));
        }
      }
    }
    assert.deepEqual(missing, []);
  });
});
