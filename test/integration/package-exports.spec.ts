/**
 * The package as an installed dependency sees it: package.json "exports" gives the library and the simulator
 * (with their types, typed operations included), Node-RED still finds its node files, and the shipped build
 * holds no maintainer tools.
 */
import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import ts from 'typescript';
import { REPO } from '../support/shared';

const PKG = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8'));
const NAME: string = PKG.name;

describe('package exports: the library and the simulator from an installed copy', () => {
  let app = '';

  before(function () {
    if (!existsSync(path.join(REPO, 'dist/lib/index.js')) || !existsSync(path.join(REPO, 'dist/lib/simulator/index.js'))) {
      console.log('      skipped: dist/ is not built (run npm run build)');
      this.skip();
    }
    // An application folder with the package installed (npm links a local install the same way).
    app = mkdtempSync(path.join(tmpdir(), 'onvifq-app-'));
    mkdirSync(path.join(app, 'node_modules', path.dirname(NAME)), { recursive: true });
    symlinkSync(REPO, path.join(app, 'node_modules', NAME), 'dir');
    writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', private: true }));
  });

  after(() => {
    if (app) rmSync(app, { recursive: true, force: true });
  });

  it(`require('${NAME}') and require('${NAME}/simulator') resolve to the built entry points and load`, () => {
    const resolve = (id: string) => require.resolve(id, { paths: [app] });
    assert.equal(resolve(NAME), path.join(REPO, 'dist/lib/index.js'));
    assert.equal(resolve(`${NAME}/simulator`), path.join(REPO, 'dist/lib/simulator/index.js'));
    assert.equal(resolve(`${NAME}/package.json`), path.join(REPO, 'package.json'));
    assert.equal(typeof require(resolve(NAME)).OnvifDevice, 'function');
    assert.equal(typeof require(resolve(`${NAME}/simulator`)).SimulatedDevice, 'function');
    // Internals are not part of the API: only the exported entry points resolve.
    assert.throws(() => resolve(`${NAME}/dist/lib/schema/compiled.js`), (e: NodeJS.ErrnoException) => e.code === 'ERR_PACKAGE_PATH_NOT_EXPORTED');
  });

  it('a TypeScript application gets the types of both entry points, and typed operations: a misspelt field does not compile', function () {
    this.timeout(60_000);
    if (!existsSync(path.join(REPO, 'dist/lib/schema/onvif-types.d.ts'))) {
      console.log('      skipped: dist/ was built before the operation types existed (run npm run build)');
      this.skip();
    }
    const file = path.join(app, 'app.ts');
    writeFileSync(
      file,
      [
        `import { OnvifDevice, type OperationResult } from '${NAME}';`,
        `import { SimulatedDevice } from '${NAME}/simulator';`,
        'export async function run(): Promise<string> {',
        '  const sim = new SimulatedDevice({ discovery: false });',
        '  const device = new OnvifDevice({ address: sim.xaddr });',
        "  await device.call('SetHostname', { Name: 'cam' });",
        "  await device.call('SetHostname', { Nam: 'cam' });",
        "  const info: OperationResult<'GetDeviceInformation'> = await device.call('GetDeviceInformation');",
        '  return info.Model;',
        '}',
      ].join('\n'),
    );
    const program = ts.createProgram([file], {
      strict: true,
      noEmit: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.Node16,
      moduleResolution: ts.ModuleResolutionKind.Node16,
      types: ['node'],
      typeRoots: [path.join(REPO, 'node_modules/@types')],
    });
    const errors = ts.getPreEmitDiagnostics(program, program.getSourceFile(file)).map((d) => {
      const line = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line + 1 : 0;
      return `line ${line}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`;
    });
    assert.equal(errors.length, 1, errors.join('\n'));
    assert.match(errors[0], /^line 7: .*'Nam' does not exist in type '\{ Name: string; \}'/);
  });

  it("Node-RED's node files (package.json node-red.nodes, loaded by path) exist in the build and load", () => {
    for (const [type, file] of Object.entries(PKG['node-red'].nodes as Record<string, string>)) {
      const full = path.join(app, 'node_modules', NAME, file);
      assert.ok(existsSync(full), `${type}: ${file} is built`);
      // What Node-RED's loader does with the file (@node-red/registry lib/loader.js).
      const loaded = require(full);
      assert.equal(typeof (loaded.__esModule ? loaded.default : loaded), 'function', `${type}: ${file} exports the node's registration function`);
      assert.ok(existsSync(full.replace(/\.js$/, '.html')), `${type}: its editor HTML is next to it`);
    }
  });

  it('tsconfig.json builds lib/ and nodes/ without the maintainer tools; the test type-check covers tools/', () => {
    const files = (config: string) => {
      const parsed = ts.getParsedCommandLineOfConfigFile(path.join(REPO, config), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined });
      assert.ok(parsed, config);
      return parsed.fileNames.map((f) => path.relative(REPO, f).split(path.sep).join('/'));
    };
    const shipped = files('tsconfig.json');
    assert.deepEqual(shipped.filter((f) => f.startsWith('tools/') || f.includes('generate')), []);
    assert.ok(shipped.includes('lib/schema/onvif-types.ts'), 'the operation types are part of the library');
    assert.ok(files('test/tsconfig.json').includes('tools/schema/generate.ts'), 'npm run typecheck checks the generator');
  });
});
