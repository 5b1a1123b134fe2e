/**
 * The operation types of lib/schema/onvif-types.ts (written by tools/schema/generate.ts) against what the codec
 * really does: answers of the simulator and of real firmware, decoded as `call` decodes them, must have the
 * type `OperationResult<name>` promises (required fields present, booleans/numbers/strings/arrays where the
 * types say so). The TypeScript compiler checks each answer, as JSON, against the generated types.
 */
import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import ts from 'typescript';
import { OnvifDevice } from '../../lib/device/onvif-device';
import type { OnvifError } from '../../lib/errors';
import type { OperationName } from '../../lib/schema/onvif-types';
import { decodeElement, findOperation } from '../../lib/schema';
import { SimulatedDevice } from '../../lib/simulator';
import { parseEnvelope } from '../../lib/soap/envelope';
import { REPO, SHARED, skipWith } from '../support/shared';

const ADMIN = { username: 'admin', password: 'Typed-ops-1' };
const REAL = path.join(SHARED, 'fixtures/real');

interface Answer {
  /** where it came from, for messages */
  label: string;
  operation: OperationName;
  value: unknown;
}

/**
 * Type-check `answers` against the generated result types with the project's compiler options.
 * `exact` also refuses keys the types do not name (object-literal excess checks), for answers that should carry none.
 * Returns one line per compiler error, naming the answer.
 */
function typeErrors(answers: Answer[], exact: boolean): string[] {
  const dir = mkdtempSync(path.join(tmpdir(), 'onvifq-typed-'));
  try {
    const file = path.join(dir, 'answers.ts');
    const typesModule = path.join(REPO, 'lib/schema/onvif-types').split(path.sep).join('/');
    const lines = [
      `import type { OperationResult } from ${JSON.stringify(typesModule)};`,
      // exact: the JSON is a fresh literal of the declared type; otherwise it only has to satisfy it (extra keys pass).
      exact ? 'function answer<T>(v: T): T { return v; }' : 'function answer<T>() { return <V extends T>(v: V): V => v; }',
      ...answers.map((a, i) => `/* ${i}: ${a.label} */ answer<OperationResult<${JSON.stringify(a.operation)}>>${exact ? '' : '()'}(${JSON.stringify(a.value)});`),
    ];
    writeFileSync(file, lines.join('\n'));
    const options: ts.CompilerOptions = { strict: true, noEmit: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.Node16, moduleResolution: ts.ModuleResolutionKind.Node16, types: [], skipLibCheck: true };
    const program = ts.createProgram([file], options);
    const source = program.getSourceFile(file)!;
    return [...program.getSemanticDiagnostics(source), ...program.getSyntacticDiagnostics(source)].map((d) => {
      const line = d.start === undefined ? -1 : source.getLineAndCharacterOfPosition(d.start).line;
      const index = line >= 2 ? line - 2 : -1;
      return `${answers[index]?.label ?? 'answers.ts'}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('typed operations (lib/schema/onvif-types.ts)', () => {
  let sim: SimulatedDevice;
  let device: OnvifDevice;

  before(async () => {
    sim = new SimulatedDevice({ ...ADMIN, discovery: false });
    await sim.start();
    device = new OnvifDevice({ address: sim.xaddr, ...ADMIN });
  });

  after(async () => {
    await device?.close();
    await sim?.stop();
  });

  it('call() results have the declared shape: Model is a string, User a list, flags booleans, times ISO strings', async () => {
    const info = await device.call('GetDeviceInformation');
    const model: string = info.Model;
    assert.equal(model, 'SimQ-1');
    for (const key of ['Manufacturer', 'Model', 'FirmwareVersion', 'SerialNumber', 'HardwareId'] as const) assert.equal(typeof info[key], 'string', key);

    const users = (await device.call('GetUsers')).User;
    assert.ok(Array.isArray(users));
    assert.deepEqual(
      users.map((u) => [u.Username, u.UserLevel]),
      [['admin', 'Administrator']],
    );

    const clock = (await device.call('GetSystemDateAndTime')).SystemDateAndTime;
    assert.equal(typeof clock.DaylightSavings, 'boolean');
    assert.match(clock.UTCDateTime ?? '', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);

    const services = (await device.call('GetServices', { IncludeCapability: false })).Service;
    assert.ok(services.every((s) => typeof s.XAddr === 'string' && typeof s.Version.Major === 'number'));
  });

  it('the types refuse a misspelt field at compile time; the library refuses it at run time too', async () => {
    await device.call('SetHostname', { Name: 'typed-cam' });
    assert.equal((await device.call('GetHostname')).HostnameInformation.Name, 'typed-cam');
    // @ts-expect-error 'Nam' is not a field of SetHostname (the compiler says: did you mean 'Name'?)
    await assert.rejects(device.call('SetHostname', { Nam: 'x' }), (e: OnvifError) => e.kind === 'invalid-input' && /Nam/.test(e.message));
    // @ts-expect-error 'Root' is not a tt:UserLevel
    await assert.rejects(device.call('CreateUsers', { User: [{ Username: 'x', Password: 'Fine-pass1', UserLevel: 'Root' }] }), (e: OnvifError) => e.kind === 'invalid-input');
    const info = await device.call('GetDeviceInformation');
    // @ts-expect-error the result has Model, not Modle
    assert.equal(info.Modle, undefined);
  });

  it('names outside the map stay untyped: qualified names and string variables compile with any params', async () => {
    const events = await device.call('tev:GetServiceCapabilities', {});
    assert.equal(typeof events.Capabilities.MaxPullPoints, 'number');
    const name: string = 'GetHostname';
    assert.equal(typeof (await device.call(name, {})).HostnameInformation.FromDHCP, 'boolean');
  });

  it('simulator answers of 16 operations type-check against their generated result types, no key left over', async function () {
    this.timeout(60_000);
    const calls: Array<[OperationName, Record<string, unknown>?]> = [
      ['GetDeviceInformation'],
      ['GetUsers'],
      ['GetHostname'],
      ['GetSystemDateAndTime'],
      ['GetServices', { IncludeCapability: true }],
      ['GetServiceCapabilities'],
      ['GetCapabilities', { Category: ['All'] }],
      ['GetScopes'],
      ['GetNTP'],
      ['GetDNS'],
      ['GetNetworkInterfaces'],
      ['GetNetworkProtocols'],
      ['GetNetworkDefaultGateway'],
      ['GetDiscoveryMode'],
      ['GetSystemUris'],
      ['GetEventProperties'],
    ];
    const answers: Answer[] = [];
    for (const [operation, params] of calls) answers.push({ label: operation, operation, value: await device.call(operation as string, params) });
    assert.deepEqual(typeErrors(answers, true), []);
  });

  it('the check catches a wrong answer: a missing required field, a number as text, a list as one object', function () {
    this.timeout(60_000);
    const wrong: Answer[] = [
      { label: 'no Model', operation: 'GetDeviceInformation', value: { Manufacturer: 'm', FirmwareVersion: 'f', SerialNumber: 's', HardwareId: 'h' } },
      { label: 'Major as text', operation: 'GetServices', value: { Service: [{ Namespace: 'n', XAddr: 'x', Version: { Major: '2', Minor: 0 } }] } },
      { label: 'User not a list', operation: 'GetUsers', value: { User: { Username: 'a', UserLevel: 'User' } } },
    ];
    for (const exact of [true, false]) {
      const errors = typeErrors(wrong, exact);
      assert.equal(errors.length, 3, errors.join('\n'));
      assert.match(errors[0], /^no Model: .*Model/s);
      assert.match(errors[1], /^Major as text: .*string.*number/s);
      assert.match(errors[2], /^User not a list: /);
    }
  });

  it('real firmware answers (shared/fixtures/real) decode to their generated result types', function () {
    if (!existsSync(REAL)) skipWith(this, `skipped: ${REAL} not found (the team's shared real captures)`);
    this.timeout(60_000);
    const answers: Answer[] = [];
    for (const folder of readdirSync(REAL)) {
      const operation = /^(\w+)Response(-device)?$/.exec(folder)?.[1];
      if (!operation || !isOperationName(operation)) continue; // not an answer, or one the bare name does not type (tev:GetServiceCapabilities)
      for (const file of readdirSync(path.join(REAL, folder)).filter((f) => f.endsWith('.xml'))) {
        const env = parseEnvelope(readFileSync(path.join(REAL, folder, file)));
        if (!env.content || env.fault) continue;
        answers.push({ label: `${folder}/${file}`, operation, value: decodeElement(env.content) });
      }
    }
    assert.ok(answers.length >= 50, `only ${answers.length} real answers found`);
    const errors = typeErrors(answers, false);
    assert.deepEqual(errors, [], `${errors.length} of ${answers.length} real answers differ from their types`);
  });
});

/** Every bare name findOperation knows is a key of the map (generated the same way). */
function isOperationName(name: string): name is OperationName {
  return findOperation(name) !== undefined;
}
