/**
 * The palette conventions of nodes/README.md, checked for every node package.json lists (so the nodes still to
 * come, onvifq-firmware and onvifq-apps, are held to them as soon as they are registered): one category, one
 * family colour, an icon of their own that exists, a one-word palette label short enough not to wrap, and
 * editor styles that use Node-RED's theme variables.
 */
import { strict as assert } from 'node:assert';
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
const FAMILY_COLOUR = '#8FB9E3';
const nodes = Object.keys((JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { 'node-red': { nodes: Record<string, string> } })['node-red'].nodes);

function html(type: string): string {
  return fs.readFileSync(path.join(ROOT, 'nodes', type, `${type}.html`), 'utf8');
}

/** A string property of the registerType definition, e.g. category: 'onvif'. */
function setting(source: string, name: string): string | undefined {
  return new RegExp(`\\n\\s*${name}:\\s*'([^']*)'`).exec(source)?.[1];
}

describe('palette conventions (nodes/README.md)', () => {
  const flowNodes = nodes.filter((type) => setting(html(type), 'category') !== 'config');

  it('every flow node: category "onvif", the family colour, its own icon from icons/', () => {
    assert.ok(flowNodes.length >= 3, `flow nodes: ${flowNodes.join(', ')}`);
    const icons = new Set<string>();
    for (const type of flowNodes) {
      const source = html(type);
      assert.equal(setting(source, 'category'), 'onvif', `${type}: category`);
      assert.equal(setting(source, 'color')?.toUpperCase(), FAMILY_COLOUR.toUpperCase(), `${type}: colour`);
      const icon = setting(source, 'icon');
      assert.equal(icon, `${type}.svg`, `${type}: icon named after the node`);
      assert.ok(fs.existsSync(path.join(ROOT, 'icons', icon!)), `${type}: icons/${icon} exists`);
      icons.add(icon!);
    }
    assert.equal(icons.size, flowNodes.length, 'one icon per node');
  });

  it('the icons are 40 × 60 SVGs drawn in white on transparent, including those for firmware and apps', () => {
    for (const name of ['onvifq-discover', 'onvifq-configure', 'onvifq-events', 'onvifq-firmware', 'onvifq-apps']) {
      const svg = fs.readFileSync(path.join(ROOT, 'icons', `${name}.svg`), 'utf8');
      assert.match(svg, /<svg [^>]*width="40" height="60" viewBox="0 0 40 60"/, name);
      const colours = [...svg.matchAll(/(?:stroke|fill)="([^"]+)"/g)].map((m) => m[1]).filter((c) => c !== 'none');
      assert.deepEqual([...new Set(colours)], ['#fff'], `${name}: white only`);
      assert.doesNotMatch(svg, /<text/, `${name}: no text`);
    }
  });

  it('palette labels are the lower-case verb (the category says "onvif"), short enough not to wrap', () => {
    for (const type of flowNodes) {
      const locale = JSON.parse(fs.readFileSync(path.join(ROOT, 'nodes', type, 'locales', 'en-US', `${type}.json`), 'utf8'));
      const label = locale[type].paletteLabel as string;
      assert.equal(label, type.replace(/^onvifq-/, ''), type);
      assert.ok(label.length <= 10, `${type}: "${label}" is ${label.length} characters`);
    }
  });

  it('editor styles take colours from Node-RED theme variables (a fallback inside var() only)', () => {
    for (const type of nodes) {
      const css = [...html(type).matchAll(/<style>([\s\S]*?)<\/style>|style="([^"]*)"/g)].map((m) => m[1] ?? m[2]).join('\n');
      const bare = css.replace(/var\(--red-ui-[a-z-]+,\s*[^)]*\)/g, '').match(/#[0-9a-fA-F]{3,8}\b|rgba?\([^)]*\)/g) ?? [];
      assert.deepEqual(bare, [], `${type}: colours outside theme variables`);
    }
  });
});
