/** The README as the tests follow it. */
import { strict as assert } from 'node:assert';
import fs from 'node:fs';
import path from 'node:path';
import { REPO } from './shared';

/** The sh blocks of one README section, each as its lines (comments kept: the shell drops them). */
export function readmeShellBlocks(section: string): string[][] {
  const readme = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8');
  const start = readme.indexOf(`## ${section}\n`);
  assert.ok(start >= 0, `README has no section "${section}"`);
  const end = readme.indexOf('\n## ', start + 4);
  const text = readme.slice(start, end < 0 ? undefined : end);
  return [...text.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!.split('\n').filter((l) => l.trim() !== ''));
}
