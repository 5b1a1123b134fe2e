/**
 * The configure node's help, operations written from the catalogue: Node-RED shows
 * locales/<lang>/onvifq-configure.html, whose introduction, inputs, outputs, errors and status are written
 * by hand (the template in nodes/), and whose list of operations comes from CATALOGUE (operations.ts), so
 * the help cannot drift from what the node does. `npm run build` runs this after copying nodes/ into dist/:
 *
 *   tsx tools/configure-help.ts [out-file]   (default: dist/nodes/onvifq-configure/locales/en-US/onvifq-configure.html)
 */
import fs from 'node:fs';
import path from 'node:path';
import { CATALOGUE, GROUPS, type CatalogueEntry, type GroupName } from '../nodes/onvifq-configure/operations';

const ROOT = path.resolve(__dirname, '..');
export const HELP_TEMPLATE = path.join(ROOT, 'nodes/onvifq-configure/locales/en-US/onvifq-configure.html');
export const HELP_OUTPUT = path.join(ROOT, 'dist/nodes/onvifq-configure/locales/en-US/onvifq-configure.html');

/** The template line the operations replace. */
const PLACEHOLDER = /^[ \t]*<!-- OPERATIONS:.*-->[ \t]*\r?\n/m;

/** Headings where the group name alone says too little. */
const HEADINGS: Partial<Record<GroupName, string>> = { Scopes: 'Scopes and discovery' };

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function entryHtml(e: CatalogueEntry): string {
  return (
    `    <dt>${e.name}</dt>\n` +
    `    <dd>${escapeHtml(e.summary)}<br>payload: <code>${escapeHtml(JSON.stringify(e.example))}</code><br>returns: <code>${escapeHtml(e.returns)}</code></dd>\n`
  );
}

/** The operations part: one heading and definition list per group, in the editor's order. */
export function operationsHtml(catalogue: readonly CatalogueEntry[] = CATALOGUE): string {
  let out = '';
  for (const group of GROUPS) {
    const entries = catalogue.filter((e) => e.group === group);
    if (entries.length === 0) continue;
    out += `  <h4>${escapeHtml(HEADINGS[group] ?? group)}</h4>\n  <dl class="message-properties">\n${entries.map(entryHtml).join('')}  </dl>\n`;
  }
  return out;
}

/** The help as Node-RED serves it: the template with its placeholder replaced by the operations. */
export function configureHelp(template: string, catalogue: readonly CatalogueEntry[] = CATALOGUE): string {
  if (!PLACEHOLDER.test(template)) throw new Error(`The help template ${path.relative(ROOT, HELP_TEMPLATE)} has no <!-- OPERATIONS: ... --> line.`);
  return template.replace(PLACEHOLDER, () => operationsHtml(catalogue));
}

if (require.main === module) {
  const out = path.resolve(process.argv[2] ?? HELP_OUTPUT);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, configureHelp(fs.readFileSync(HELP_TEMPLATE, 'utf8')));
  console.log(`configure help: ${CATALOGUE.length} operations written to ${path.relative(process.cwd(), out)}`);
}
