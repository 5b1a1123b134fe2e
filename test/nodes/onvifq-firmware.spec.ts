/**
 * onvifq-firmware in the Node-RED test helper against real simulated devices: one upgrade with its status
 * sequence, a dry run that sends nothing, a rolling fleet of three where one fails (stop and summary), bad input
 * refused before any device is contacted, and a redeploy that aborts before and after the upload started.
 */
import { strict as assert } from 'node:assert';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Node } from 'node-red';
import type { SinonSpy } from 'sinon';
import { SimulatedDevice, makeFirmware, type SimulatorOptions } from '../../lib/simulator';
import deviceNode from '../../nodes/onvifq-device/onvifq-device';
import firmwareNode from '../../nodes/onvifq-firmware/onvifq-firmware';
import { PASSWORD, USERNAME, type FlowNode, type TestFlows, helper, loggedTexts, nextInput, startHelperServer, statuses, stopHelperServer, waitFor, waitForStatus } from './support';

const NODES = [deviceNode, firmwareNode];
const MODEL = 'SimQ-1';

function flow(firmware: Record<string, unknown>): TestFlows {
  const nodes: FlowNode[] = [
    { id: 't', type: 'tab', label: 'firmware' },
    { id: 'dev', type: 'onvifq-device', name: 'Fleet admin', address: '', auth: 'auto', timeout: 5 },
    { id: 'fw', type: 'onvifq-firmware', z: 't', x: 100, y: 100, name: '', device: 'dev', source: 'msg', concurrency: 1, skipCurrent: true, stopOnFailure: true, dryRun: false, ...firmware, wires: [['each'], ['summary']] },
    { id: 'each', type: 'helper', z: 't', x: 100, y: 100 },
    { id: 'summary', type: 'helper', z: 't', x: 100, y: 100 },
    { id: 'catch', type: 'catch', z: 't', x: 100, y: 100, scope: ['fw'], uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper', z: 't', x: 100, y: 100 },
  ];
  return nodes;
}

/** The warnings a node gave so far (the helper spies on Node.prototype.warn). */
function warnings(node: Node): string[] {
  return (node.warn as unknown as SinonSpy).getCalls().filter((c) => c.thisValue === node).map((c) => String(c.args[0]));
}

/** Every warning the node gives from now on, also while it closes (unload restores the helper's spies first). */
function recordWarnings(node: Node): string[] {
  const seen: string[] = [];
  const warn = node.warn.bind(node);
  node.warn = (m: unknown) => {
    seen.push(String(m));
    warn(m);
  };
  return seen;
}

/** The statuses shown, one entry per step (repeats of a step collapsed: 'uploading 12 %', 'uploading 80 %' -> 'uploading'). */
function steps(texts: string[]): string[] {
  const out: string[] = [];
  for (const t of texts) {
    const step = t.replace(/^\d+\/\d+ /, '').replace(/ \d+ (%|s)$/, '').replace(/…$/, '');
    if (out[out.length - 1] !== step) out.push(step);
  }
  return out;
}

describe('onvifq-firmware node', function () {
  this.timeout(90000);
  const sims: SimulatedDevice[] = [];
  let dir: string;

  async function sim(options: SimulatorOptions = {}): Promise<SimulatedDevice> {
    const s = new SimulatedDevice({ username: USERNAME, password: PASSWORD, discovery: false, firmwareFlashMs: 300, firmwareDownTimeMs: 800, ...options });
    await s.start();
    sims.push(s);
    return s;
  }
  async function load(s: SimulatedDevice, firmware: Record<string, unknown> = {}): Promise<void> {
    const nodes = flow(firmware);
    nodes[1]!.address = s.xaddr;
    await helper.load(NODES, nodes, { dev: { username: USERNAME, password: PASSWORD } });
  }
  const started = (s: SimulatedDevice) => s.requests.filter((r) => r.operation === 'StartFirmwareUpgrade').length;
  const version = (s: SimulatedDevice) => s.state.deviceInformation.FirmwareVersion;

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onvifq-node-firmware-'));
    await startHelperServer();
  });
  afterEach(async () => {
    await stopHelperServer();
    await Promise.all(sims.splice(0).map((s) => s.stop()));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('upgrades one device from a file: status waiting -> uploading % -> flashing -> rebooting -> verifying -> v2.0.0, result and summary', async () => {
    const s = await sim({ firmwareUploadDelayMs: 1500 });
    const file = path.join(dir, 'simq-2.0.0.bin');
    fs.writeFileSync(file, makeFirmware({ model: MODEL, version: '2.0.0', payloadBytes: 4 * 1024 * 1024 }));
    await load(s, { expectVersion: '2.0.0' });
    const each = nextInput(helper.getNode('each'), 60000);
    const summary = nextInput(helper.getNode('summary'), 60000);
    helper.getNode('fw').receive({ payload: { file }, topic: 'upgrade' });
    const msg = await each;
    const result = msg.payload as Record<string, any>;
    assert.equal(result.outcome, 'upgraded');
    assert.equal(result.before.firmwareVersion, '1.0.0');
    assert.equal(result.after.firmwareVersion, '2.0.0');
    assert.equal(result.uploadBytes, fs.statSync(file).size);
    assert.equal(msg.topic, 'upgrade', 'other properties pass through');
    assert.equal((msg.device as { name: string }).name, 'Fleet admin');
    assert.equal(version(s), '2.0.0', 'the device runs the new firmware');
    const sum = (await summary).payload as Record<string, unknown>;
    assert.deepEqual(
      { total: sum.total, upgraded: sum.upgraded, skipped: sum.skipped, failed: sum.failed, notStarted: sum.notStarted, stopped: sum.stopped },
      { total: 1, upgraded: [s.xaddr], skipped: [], failed: [], notStarted: [], stopped: false },
    );
    assert.equal(msg.address, s.xaddr);

    const texts = statuses(helper.getNode('fw')).map((x) => String(x.text));
    const seen = steps(texts);
    const order = ['waiting', 'uploading', 'flashing', 'rebooting', 'verifying', 'v2.0.0'];
    let at = -1;
    for (const step of order) {
      const i = seen.indexOf(step, at + 1);
      assert.ok(i > at, `status '${step}' after the ones before it; saw ${texts.join(' | ')}`);
      at = i;
    }
    assert.ok(texts.some((t) => /^waiting \d s$/.test(t)), `the wait shows its seconds: ${texts.join(' | ')}`);
    assert.ok(texts.some((t) => /^uploading \d{1,2} %$/.test(t)), `the upload shows a percentage below 100: ${texts.join(' | ')}`);
    assert.equal(texts[texts.length - 1], 'v2.0.0');
    const everything = [...texts, ...warnings(helper.getNode('fw')), ...loggedTexts(), JSON.stringify(result)];
    assert.ok(everything.every((t) => !t.includes(PASSWORD)), 'the password appears nowhere');
  });

  it("the node's URL: the image is streamed from an http server on 127.0.0.1 to the device", async () => {
    const s = await sim();
    const image = makeFirmware({ model: MODEL, version: '2.0.0' });
    let served = 0;
    const server = http.createServer((req, res) => {
      served++;
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': String(image.length) });
      res.end(image);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/simq-2.0.0.bin`;
      await load(s, { source: 'url', url, expectVersion: '2.0.0' });
      const each = nextInput(helper.getNode('each'), 60000);
      helper.getNode('fw').receive({ payload: 1700000000000 });
      const result = (await each).payload as Record<string, any>;
      assert.equal(result.outcome, 'upgraded');
      assert.equal(result.uploadBytes, image.length);
      assert.ok(served >= 1, 'the image came from the URL');
      assert.equal(version(s), '2.0.0');
    } finally {
      server.close();
    }
  });

  it('dry run: tells what would happen and sends nothing', async () => {
    const s = await sim();
    await load(s, { dryRun: true, expectVersion: '2.0.0' });
    const each = nextInput(helper.getNode('each'));
    const summary = nextInput(helper.getNode('summary'));
    helper.getNode('fw').receive({ payload: makeFirmware({ model: MODEL, version: '2.0.0' }) });
    const result = (await each).payload as Record<string, any>;
    assert.equal(result.outcome, 'dry-run');
    assert.equal(result.action, 'upgrade');
    assert.equal(result.before.firmwareVersion, '1.0.0', 'it read the current version');
    assert.match(result.text, /Would upgrade/);
    assert.deepEqual(((await summary).payload as { dryRun: unknown[] }).dryRun, [{ address: s.xaddr, action: 'upgrade' }]);
    assert.equal(started(s), 0, 'no StartFirmwareUpgrade');
    assert.equal(version(s), '1.0.0');
    assert.equal(statuses(helper.getNode('fw')).pop()?.text, 'would upgrade');
  });

  it('a fleet of three where the second fails (wrong model): stops, reports it to Catch with kind, steps and before, and sums up', async () => {
    const a = await sim();
    const b = await sim({ deviceInformation: { Model: 'SimQ-2' } });
    const c = await sim();
    await load(a, { expectVersion: '2.0.0' });
    const each = nextInput(helper.getNode('each'), 60000);
    const caught = nextInput(helper.getNode('caught'), 60000);
    const summary = nextInput(helper.getNode('summary'), 60000);
    helper.getNode('fw').receive({ payload: makeFirmware({ model: MODEL, version: '2.0.0' }), address: [a.xaddr, b.xaddr, c.xaddr] });

    const first = await each;
    assert.equal(first.address, a.xaddr);
    assert.equal((first.payload as { outcome: string }).outcome, 'upgraded');
    const err = await caught;
    assert.equal(err.address, b.xaddr, 'the Catch message names the device');
    const e = err.error as { message: string; cause: Record<string, any> };
    assert.match(e.message, /reject|not valid|model/i, e.message);
    assert.ok(e.cause.kind, 'kind');
    assert.equal(e.cause.failure, 'rejected');
    assert.equal(e.cause.outcome, 'unchanged');
    assert.ok(Array.isArray(e.cause.steps) && e.cause.steps.length > 0, `steps: ${JSON.stringify(e.cause.steps)}`);
    assert.equal(e.cause.before?.firmwareVersion, '1.0.0', 'the state before');
    assert.equal(e.cause.before?.model, 'SimQ-2');
    const sum = (await summary).payload as Record<string, any>;
    assert.deepEqual(sum.upgraded, [a.xaddr]);
    assert.deepEqual(sum.failed.map((f: { address: string }) => f.address), [b.xaddr]);
    assert.deepEqual(sum.notStarted, [c.xaddr]);
    assert.equal(sum.stopped, true);
    assert.deepEqual([version(a), version(b), version(c)], ['2.0.0', '1.0.0', '1.0.0']);
    assert.equal(started(c), 0, 'the third device was never touched');
    const texts = statuses(helper.getNode('fw')).map((x) => String(x.text));
    assert.ok(texts.some((t) => /^1\/3 uploading/.test(t)), texts.join(' | '));
    assert.ok(texts.some((t) => /^2\/3 /.test(t)), texts.join(' | '));
    assert.equal(texts[texts.length - 1], '1 failed, 1 ok');
  });

  it('one device that refuses the image: the error goes to Catch (failure, outcome, steps, before), the status is red, the summary says it', async () => {
    const s = await sim({ deviceInformation: { Model: 'SimQ-9' } });
    await load(s, { expectVersion: '2.0.0' });
    const caught = nextInput(helper.getNode('caught'), 60000);
    const summary = nextInput(helper.getNode('summary'), 60000);
    helper.getNode('fw').receive({ payload: makeFirmware({ model: MODEL, version: '2.0.0' }) });
    const err = (await caught).error as { message: string; cause: Record<string, any> };
    assert.match(err.message, /Fleet admin/, 'names the config node');
    assert.equal(err.cause.failure, 'rejected');
    assert.equal(err.cause.outcome, 'unchanged', 'the device keeps its firmware');
    assert.equal(err.cause.before.firmwareVersion, '1.0.0');
    assert.ok(err.cause.steps.some((st: { phase: string }) => st.phase === 'uploading'), JSON.stringify(err.cause.steps));
    const sum = (await summary).payload as { failed: Array<{ address: string; failure: string }> };
    assert.deepEqual(sum.failed.map((f) => [f.address, f.failure]), [[s.xaddr, 'rejected']]);
    assert.deepEqual(statuses(helper.getNode('fw')).pop(), { fill: 'red', shape: 'dot', text: 'image rejected' });
    assert.equal(version(s), '1.0.0');
  });

  it("with 'skip devices already on the expected version' off, such a device is a failure and gets nothing", async () => {
    const s = await sim({ deviceInformation: { FirmwareVersion: '2.0.0' } });
    await load(s, { expectVersion: '2.0.0', skipCurrent: false });
    const caught = nextInput(helper.getNode('caught'));
    helper.getNode('fw').receive({ payload: makeFirmware({ model: MODEL, version: '2.0.0' }) });
    const err = (await caught).error as { message: string; cause: Record<string, any> };
    assert.match(err.message, /already runs 2\.0\.0/);
    assert.equal(err.cause.failure, 'already-current');
    assert.equal(started(s), 0);
  });

  it('a fleet skips devices already on the expected version', async () => {
    const a = await sim({ deviceInformation: { FirmwareVersion: '2.0.0' } });
    const b = await sim();
    await load(a, { expectVersion: '2.0.0', concurrency: 2 });
    const summary = nextInput(helper.getNode('summary'), 60000);
    helper.getNode('fw').receive({ payload: makeFirmware({ model: MODEL, version: '2.0.0' }), address: [a.xaddr, b.xaddr] });
    const sum = (await summary).payload as Record<string, any>;
    assert.deepEqual(sum.skipped, [a.xaddr]);
    assert.deepEqual(sum.upgraded, [b.xaddr]);
    assert.equal(started(a), 0);
  });

  describe('bad input is refused before any device is contacted', () => {
    const cases: Array<{ what: string; msg: () => Record<string, unknown>; settings?: Record<string, unknown>; says: RegExp }> = [
      { what: 'no image', msg: () => ({ payload: 1700000000000 }), says: /No firmware image: send a Buffer/ },
      { what: 'a missing file', msg: () => ({ payload: { file: path.join(dir, 'nope.bin') } }), says: /nope\.bin' \(msg\.payload\.file\) does not exist/ },
      { what: "the node's file missing", msg: () => ({ payload: '' }), settings: { source: 'file', file: '/nonexistent/fw.bin' }, says: /fw\.bin' \(the node's settings\) does not exist/ },
      { what: 'an unknown payload key', msg: () => ({ payload: { fiel: '/tmp/x.bin' } }), says: /msg\.payload has 'fiel', which onvifq-firmware does not know/ },
      { what: 'a text payload', msg: () => ({ payload: '/tmp/x.bin' }), says: /msg\.payload is a text/ },
      { what: 'a bad URL', msg: () => ({ payload: { url: 'ftp://example.org/x.bin' } }), says: /http\(s\) URL/ },
      { what: 'an address list with a number', msg: () => ({ payload: Buffer.from('x'), address: ['127.0.0.1', 7] }), says: /msg\.address\[1\] is not an address/ },
      { what: 'a device twice', msg: () => ({ payload: Buffer.from('x'), address: ['127.0.0.1:1', '127.0.0.1:1'] }), says: /twice/ },
      { what: 'an empty Buffer', msg: () => ({ payload: Buffer.alloc(0) }), says: /empty Buffer/ },
    ];
    for (const c of cases) {
      it(c.what, async () => {
        const s = await sim();
        await load(s, c.settings ?? {});
        const before = s.requests.length;
        const caught = nextInput(helper.getNode('caught'));
        helper.getNode('fw').receive(c.msg());
        const err = (await caught).error as { message: string; cause: { kind: string } };
        assert.match(err.message, c.says);
        assert.match(err.message, /Nothing was sent|Open the node/);
        assert.equal(err.cause.kind, 'invalid-input');
        assert.equal(s.requests.length, before, 'the device was not contacted');
        assert.equal(statuses(helper.getNode('fw')).pop()?.text, 'bad input');
      });
    }
  });

  it('a redeploy while waiting for the upload: aborts, says nothing happened, the device keeps its firmware', async () => {
    const s = await sim({ firmwareUploadDelayMs: 30000 });
    await load(s, { expectVersion: '2.0.0' });
    const fw = helper.getNode('fw');
    fw.receive({ payload: makeFirmware({ model: MODEL, version: '2.0.0' }) });
    await waitForStatus(fw, (st) => /^waiting/.test(String(st.text)), 'waiting', 30000);
    const warned = recordWarnings(fw);
    const stopped = Date.now();
    await helper.unload();
    assert.ok(Date.now() - stopped < 10000, 'the redeploy did not wait for the upload delay');
    assert.ok(warned.some((w) => /before the firmware image was uploaded .*nothing happened to the device/.test(w)), warned.join(' | '));
    assert.equal(version(s), '1.0.0');
  });

  it('a redeploy during an upload the device stopped reading: says the device keeps its firmware', async () => {
    const s = await sim();
    s.injectFirmwareOutcome({ kind: 'stall' });
    await load(s, { expectVersion: '2.0.0' });
    const fw = helper.getNode('fw');
    fw.receive({ payload: makeFirmware({ model: MODEL, version: '2.0.0', payloadBytes: 8 * 1024 * 1024 }) });
    await waitForStatus(fw, (st) => /^uploading/.test(String(st.text)), 'uploading', 30000);
    const warned = recordWarnings(fw);
    await helper.unload();
    assert.ok(warned.some((w) => /during the upload to .*before the device had the whole image: it keeps its firmware/.test(w)), warned.join(' | '));
    assert.equal(version(s), '1.0.0');
  });

  it('a redeploy after the upload started: warns that the device may still be flashing', async () => {
    const s = await sim({ firmwareFlashMs: 6000 });
    await load(s, { expectVersion: '2.0.0' });
    const fw = helper.getNode('fw');
    fw.receive({ payload: makeFirmware({ model: MODEL, version: '2.0.0' }) });
    await waitForStatus(fw, (st) => /^(flashing|rebooting)/.test(String(st.text)), 'flashing', 30000);
    const warned = recordWarnings(fw);
    await helper.unload();
    assert.ok(warned.some((w) => /after the upload had started: the device may still be flashing/.test(w)), warned.join(' | '));
    await waitFor('the device to finish flashing by itself', () => (version(s) === '2.0.0' ? true : undefined), 40000);
  });
});
