/** onvifq-configure against the real simulator, in the Node-RED test helper. */
import { strict as assert } from 'node:assert';
import type { SinonSpy } from 'sinon';
import deviceNode from '../../nodes/onvifq-device/onvifq-device';
import configureNode from '../../nodes/onvifq-configure/onvifq-configure';
import type { DeviceConfigNode } from '../../nodes/shared/device-config';
import {
  PASSWORD, USERNAME, type TestFlows, helper, nextInput, nothingWithin, useSimulatorAndHelper, waitForStatus,
} from './support';

const NODES = [deviceNode, configureNode];

function flow(xaddr: string, operation: string): TestFlows {
  return [
    { id: 'dev', type: 'onvifq-device', name: 'Porch', address: xaddr, auth: 'auto', timeout: 5 },
    { id: 't', type: 'tab', label: 'test' },
    { id: 'cfg', type: 'onvifq-configure', z: 't', x: 100, y: 100, name: '', device: 'dev', operation, wires: [['out']] },
    { id: 'out', type: 'helper', z: 't', x: 100, y: 100 },
    { id: 'catch', type: 'catch', z: 't', x: 100, y: 100, scope: ['cfg'], uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper', z: 't', x: 100, y: 100 },
  ];
}

const CREDS = { dev: { username: USERNAME, password: PASSWORD } };

describe('onvifq-configure', function () {
  this.timeout(20000);
  const env = useSimulatorAndHelper();

  async function run(operation: string, msg: Record<string, unknown>): Promise<Record<string, unknown>> {
    await helper.load(NODES, flow(env.sim.xaddr, operation), CREDS);
    const out = helper.getNode('out');
    const got = nextInput(out);
    helper.getNode('cfg').receive(msg);
    return got;
  }

  it('loads with its config node and shows the Profile Q state in green', async () => {
    await helper.load(NODES, flow(env.sim.xaddr, 'GetDeviceInformation'), CREDS);
    const cfg = helper.getNode('cfg');
    assert.ok(cfg, 'configure node created');
    const dev = helper.getNode('dev') as DeviceConfigNode;
    assert.equal(dev.label, 'Porch');
    const s = await waitForStatus(cfg, (st) => st.fill === 'green', 'green');
    assert.equal(s.text, 'Operational');
    assert.ok(s.text!.length < 20);
  });

  it('GetDeviceInformation: the device identity as plain JSON, plus msg.device', async () => {
    const msg = await run('GetDeviceInformation', { payload: 1700000000000 });
    const info = env.sim.state.deviceInformation;
    const payload = msg.payload as Record<string, unknown>;
    assert.equal(payload.Manufacturer, info.Manufacturer);
    assert.equal(payload.Model, info.Model);
    assert.equal(payload.FirmwareVersion, info.FirmwareVersion);
    assert.equal(payload.HardwareId, info.HardwareId);
    assert.deepEqual(msg.device, { name: 'Porch', xaddr: env.sim.xaddr, endpoint: env.sim.endpoint });
  });

  it('GetSystemDateAndTime: the device clock with a UTC time close to ours', async () => {
    const msg = await run('GetSystemDateAndTime', {});
    const sdt = (msg.payload as any).SystemDateAndTime;
    assert.ok(sdt, `payload: ${JSON.stringify(msg.payload)}`);
    assert.ok(['Manual', 'NTP'].includes(sdt.DateTimeType));
    assert.equal(typeof sdt.DaylightSavings, 'boolean');
    const utc = sdt.UTCDateTime;
    const ms = typeof utc === 'string' ? Date.parse(utc) : Date.UTC(utc.Date.Year, utc.Date.Month - 1, utc.Date.Day, utc.Time.Hour, utc.Time.Minute, utc.Time.Second);
    assert.ok(Math.abs(ms - Date.now() - env.sim.state.time.offsetMs) < 5000, `device UTC ${JSON.stringify(utc)}`);
  });

  it('GetServices: every service as an array entry, with capabilities by default', async () => {
    const msg = await run('GetServices', {});
    const services = (msg.payload as any).Service;
    assert.ok(Array.isArray(services) && services.length >= 1, JSON.stringify(msg.payload));
    const device = services.find((s: any) => s.Namespace === 'http://www.onvif.org/ver10/device/wsdl');
    assert.ok(device, 'device service listed');
    assert.equal(device.XAddr, env.sim.xaddr);
    assert.equal(typeof device.Version.Major, 'number');
    assert.ok(device.Capabilities, 'IncludeCapability defaults to true');
  });

  it('GetServices: parameters from msg.payload (IncludeCapability false)', async () => {
    const msg = await run('GetServices', { payload: { IncludeCapability: false } });
    const services = (msg.payload as any).Service as any[];
    assert.ok(services.length >= 1);
    assert.ok(services.every((s) => s.Capabilities === undefined), JSON.stringify(services[0]));
  });

  it('GetCapabilities: the device section with its address', async () => {
    const msg = await run('GetCapabilities', {});
    const caps = (msg.payload as any).Capabilities;
    assert.ok(caps?.Device, JSON.stringify(msg.payload));
    assert.equal(caps.Device.XAddr, env.sim.xaddr);
  });

  it('GetScopes: scopes as an array, including the Profile Q state', async () => {
    const msg = await run('GetScopes', {});
    const scopes = (msg.payload as any).Scopes;
    assert.ok(Array.isArray(scopes), JSON.stringify(msg.payload));
    const items = scopes.map((s: any) => s.ScopeItem);
    assert.ok(items.includes('onvif://www.onvif.org/Profile/Q/Operational'), items.join(', '));
  });

  it('passes other msg properties through untouched', async () => {
    const ctx = { req: { id: 7, list: [1, 2, 3] } };
    const msg = await run('GetDeviceInformation', { topic: 'keep-me', correlation: 'abc-123', ctx, payload: {} });
    assert.equal(msg.topic, 'keep-me');
    assert.equal(msg.correlation, 'abc-123');
    assert.deepEqual(msg.ctx, ctx);
    assert.equal((msg.payload as any).Model, env.sim.state.deviceInformation.Model);
  });

  it('takes the operation from msg.topic when set to "from msg"', async () => {
    const msg = await run('msg', { topic: 'GetScopes' });
    assert.ok(Array.isArray((msg.payload as any).Scopes));
    assert.equal(msg.topic, 'GetScopes');
  });

  it('prefers msg.operation over msg.topic', async () => {
    const msg = await run('msg', { topic: 'GetScopes', operation: 'GetDeviceInformation' });
    assert.equal((msg.payload as any).Model, env.sim.state.deviceInformation.Model);
    assert.equal(msg.operation, 'GetDeviceInformation');
  });

  for (const [title, operation, msg, expected] of [
    ['an unknown operation from msg.topic', 'msg', { topic: 'FormatHardDisk' }, /Unknown operation 'FormatHardDisk' in msg\.topic/],
    ['no operation in the msg', 'msg', { payload: {} }, /No operation given/],
    ['a string payload', 'GetServices', { payload: 'IncludeCapability' }, /msg\.payload is a string/],
    ['an array payload', 'GetScopes', { payload: [1, 2] }, /msg\.payload is an array/],
  ] as const) {
    it(`rejects ${title} before anything is sent, through a Catch node`, async () => {
      await helper.load(NODES, flow(env.sim.xaddr, operation), CREDS);
      const cfg = helper.getNode('cfg');
      await waitForStatus(cfg, (s) => s.fill === 'green', 'connected');
      const requestsBefore = env.sim.stats.httpRequests;
      const caught = nextInput(helper.getNode('caught'));
      const silent = nothingWithin(helper.getNode('out'), 400);
      cfg.receive({ ...msg, _marker: 'bad' });
      const err = (await caught) as { error: { message: string; source: { id: string } }; _marker: string };
      assert.match(err.error.message, expected);
      assert.equal(err.error.source.id, 'cfg');
      assert.equal(err._marker, 'bad', 'the failing msg reaches the Catch node');
      assert.equal(await silent, true, 'nothing sent on');
      assert.equal(env.sim.stats.httpRequests, requestsBefore, 'nothing sent to the device');
    });
  }

  it('rejects parameters the operation does not have, before anything is sent', async () => {
    await helper.load(NODES, flow(env.sim.xaddr, 'GetScopes'), CREDS);
    await waitForStatus(helper.getNode('cfg'), (s) => s.fill === 'green', 'connected');
    const requestsBefore = env.sim.stats.httpRequests;
    const caught = nextInput(helper.getNode('caught'));
    const silent = nothingWithin(helper.getNode('out'), 400);
    helper.getNode('cfg').receive({ payload: { NoSuchParameter: 1 } });
    const err = (await caught) as { error: { message: string; cause?: { kind: string } } };
    assert.match(err.error.message, /^msg\.payload does not fit GetScopes: .*NoSuchParameter.*Nothing was sent/);
    assert.equal(err.error.cause?.kind, 'invalid-input');
    assert.equal(await silent, true);
    assert.equal(env.sim.stats.httpRequests, requestsBefore, 'nothing sent to the device');
  });

  it('a device fault reaches the Catch node with its code, subcodes and reason', async () => {
    await helper.load(NODES, flow(env.sim.xaddr, 'GetCapabilities'), CREDS);
    const caught = nextInput(helper.getNode('caught'));
    // A category the simulated device does not have: it answers with a SOAP fault (Core: ter:NoSuchService).
    helper.getNode('cfg').receive({ payload: { Category: 'PTZ' } });
    const err = (await caught) as { error: { message: string; code?: string; cause?: Record<string, unknown> } };
    assert.equal(err.error.cause?.kind, 'fault', JSON.stringify(err.error));
    assert.match(String(err.error.code), /^env:(Sender|Receiver)$/);
    assert.ok(Array.isArray(err.error.cause?.subcodes) && (err.error.cause!.subcodes as string[]).length > 0);
    assert.equal(err.error.cause?.operation, 'GetCapabilities');
    assert.match(err.error.message, /Porch/);
    // The Error handed to done() carries the fields directly too (node.error listeners, other runtimes).
    const cfg = helper.getNode('cfg');
    const call = (cfg.error as unknown as SinonSpy).getCalls().find((c) => c.thisValue === cfg);
    const raised = call?.args[0] as Error & { kind?: string; code?: string; subcodes?: string[]; reason?: string; httpStatus?: number };
    assert.ok(raised instanceof Error);
    assert.equal(raised.kind, 'fault');
    assert.equal(raised.code, err.error.code);
    assert.deepEqual(raised.subcodes, err.error.cause?.subcodes);
    assert.equal(typeof raised.reason, 'string');
    assert.equal(typeof raised.httpStatus, 'number');
  });
});
