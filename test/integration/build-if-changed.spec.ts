/**
 * `npm start` builds only when a source changed (issue 16, item 15): tools/build-if-changed.js run in a small
 * project of its own whose build counts its runs, so the real build is never started by a test.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');

describe('npm start: build only when a source changed', function () {
  this.timeout(60000);
  let project = '';

  before(() => {
    project = fs.mkdtempSync(path.join(os.tmpdir(), 'onvifq-build-if-changed-'));
    fs.mkdirSync(path.join(project, 'tools'));
    fs.copyFileSync(path.join(ROOT, 'tools', 'build-if-changed.js'), path.join(project, 'tools', 'build-if-changed.js'));
    fs.mkdirSync(path.join(project, 'lib'));
    fs.writeFileSync(path.join(project, 'lib', 'index.ts'), 'export const a = 1;\n');
    // The build, like the real one, starts from an empty dist/ and counts its runs outside it.
    const build = "const fs=require('fs');fs.rmSync('dist',{recursive:true,force:true});fs.mkdirSync('dist/lib/simulator',{recursive:true});" +
      "fs.writeFileSync('dist/lib/simulator/index.js','');fs.appendFileSync('builds.txt','x')";
    fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'p', private: true, scripts: { build: `node -e "${build}"` } }));
  });
  after(() => fs.rmSync(project, { recursive: true, force: true }));

  function start(): { builds: number; output: string } {
    const r = spawnSync(process.execPath, [path.join(project, 'tools', 'build-if-changed.js')], { cwd: project, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const builds = fs.existsSync(path.join(project, 'builds.txt')) ? fs.readFileSync(path.join(project, 'builds.txt'), 'utf8').length : 0;
    return { builds, output: r.stdout };
  }

  it('builds the first time, not again while nothing changed (a touch is no change), again after an edit', () => {
    assert.equal(start().builds, 1);
    const second = start();
    assert.equal(second.builds, 1, 'nothing changed: no build');
    assert.match(second.output, /up to date/);
    const file = path.join(project, 'lib', 'index.ts');
    fs.utimesSync(file, new Date(), new Date(Date.now() + 5000));
    assert.equal(start().builds, 1, 'a new modification time with the same content is no change');
    fs.writeFileSync(file, 'export const a = 2;\n');
    assert.equal(start().builds, 2, 'an edit builds');
    assert.equal(start().builds, 2);
    fs.rmSync(path.join(project, 'dist'), { recursive: true });
    assert.equal(start().builds, 3, 'no dist/: builds');
  });

  it('is what npm start runs before the demo', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    assert.match(pkg.scripts.start!, /^node tools\/build-if-changed\.js && node examples\/start-demo\.js$/);
  });
});
