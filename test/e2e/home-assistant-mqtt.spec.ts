/**
 * End to end: examples/home-assistant-mqtt.json as shipped, in a real Node-RED on the built package, against a
 * simulated device and a real MQTT broker (mosquitto on 127.0.0.1). The test plays Home Assistant: it
 * subscribes to the discovery prefix, checks every discovery message against Home Assistant's discovery fields,
 * follows the states, and presses the buttons by publishing to their command topics.
 * Only what a user changes is changed: the broker's port, the device's address and credentials.
 */
import { strict as assert } from 'node:assert';
import fs from 'node:fs';
import path from 'node:path';
import { SimulatedDevice } from '../../lib/simulator';
import { MqttClient, Mosquitto, mosquittoUnavailable, type MqttMessage } from '../support/mqtt';
import { skipWith } from '../support/shared';
import { COMPONENTS, discoveryProblems } from './home-assistant-discovery';
import { NodeRedProcess, PACKAGE_NAME, REPO_ROOT, assertBuilt, type CommsClient } from './node-red-process';

const USERNAME = 'admin';
const PASSWORD = 'E2e-H0me-Ass1st';
const MOTION = 'tns1:RuleEngine/CellMotionDetector/Motion';
const SCENE_CHANGE = 'tns1:VideoSource/GlobalSceneChange/ImagingService';

type FlowNode = Record<string, any> & { id: string; type: string };

/** The README's "Home Assistant" section, up to the next heading: what a user follows. */
function readmeHomeAssistant(): string {
  const readme = fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('## Home Assistant\n');
  assert.ok(start >= 0, 'README has a "## Home Assistant" section');
  const end = readme.indexOf('\n#', start + 3);
  return readme.slice(start, end < 0 ? undefined : end).replace(/\s+/g, ' ');
}

/** One capture of `re` in the README's Home Assistant section, or a failure that quotes what was looked for. */
function readmeSays(re: RegExp): string {
  const m = re.exec(readmeHomeAssistant());
  assert.ok(m?.[1], `the README's Home Assistant section no longer says ${re}`);
  return m[1];
}

/** The README's Topics list, each alternative (`a|b`) spelled out; `<uuid>` is the device's, other placeholders a level. */
function readmeTopics(uuid: string): Array<{ documented: string; re: RegExp }> {
  const list = readmeSays(/Topics: (.*?)\.(?: |$)/);
  const topics = [...list.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
  assert.ok(topics.length > 0, `no topics in "${list}"`);
  const out: Array<{ documented: string; re: RegExp }> = [];
  for (const documented of topics) {
    let spelled = [''];
    for (const [i, level] of documented.split('/').entries()) {
      const options = level === '<uuid>' ? [uuid] : /^<\w+>$/.test(level) ? ['[a-z_]+'] : level.split('|').map((o) => o.replace(/[.*+?^${}()[\]\\]/g, '\\$&'));
      spelled = spelled.flatMap((t) => options.map((o) => (i === 0 ? o : `${t}/${o}`)));
    }
    out.push(...spelled.map((t) => ({ documented, re: new RegExp(`^${t}$`) })));
  }
  return out;
}

describe('README: the Home Assistant section names what the example has', function () {
  const flow: FlowNode[] = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'examples', 'home-assistant-mqtt.json'), 'utf8'));

  it('the example to import exists under the package\'s examples', function () {
    const [pkg, name] = readmeSays(/Import → Examples → (\S+ → [\w-]+)/).split(' → ');
    assert.equal(pkg, PACKAGE_NAME);
    assert.ok(fs.existsSync(path.join(REPO_ROOT, 'examples', `${name}.json`)), `examples/${name}.json`);
  });

  it('the config nodes it says to set exist by those names; the device is the demo\'s, as in every example', function () {
    const broker = readmeSays(/Set the broker in the \*([^*]+)\* config node/);
    assert.deepEqual(flow.filter((n) => n.type === 'mqtt-broker').map((n) => n.name), [broker]);
    const device = readmeSays(/the device in \*([^*]+)\*/);
    const devices = flow.filter((n) => n.type === 'onvifq-device');
    assert.deepEqual(devices.map((n) => n.name), [device]);
    // The demo runs configure-read-operations.json: importing this example into it lands on the same config node.
    const demo = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'examples', 'configure-read-operations.json'), 'utf8')) as FlowNode[];
    const demoDevice = demo.find((n) => n.type === 'onvifq-device')!;
    assert.deepEqual([devices[0]!.id, devices[0]!.name], [demoDevice.id, 'Simulated device']);
    const group = readmeSays(/copy the \*([^*]+)\* group/);
    assert.ok(flow.some((n) => n.type === 'group' && (n.name === group || n.name.startsWith(`${group}:`))), `a group named "${group}"`);
  });
});

describe('Home Assistant discovery check', function () {
  it('rejects what Home Assistant rejects (unknown key, missing topic, wrong device class, device without ids)', function () {
    const good = { name: 'Motion', unique_id: 'x_motion', state_topic: 'a/b', device_class: 'motion', device: { identifiers: ['x'] } };
    assert.deepEqual(discoveryProblems('homeassistant/binary_sensor/x/motion/config', JSON.stringify(good)), []);
    const bad: Array<[string, Record<string, unknown>]> = [
      ['binary_sensor', { ...good, stat_topic: 'a/b' }],
      ['binary_sensor', { ...good, state_topic: undefined }],
      ['button', { name: 'Reboot', unique_id: 'x_reboot', command_topic: 'a/b', device_class: 'motion' }],
      ['sensor', { ...good, device_class: undefined, entity_category: 'config' }],
      ['binary_sensor', { ...good, device: { name: 'no ids' } }],
    ];
    for (const [component, config] of bad) {
      assert.notDeepEqual(discoveryProblems(`homeassistant/${component}/x/y/config`, JSON.stringify(config)), [], JSON.stringify(config));
    }
  });
});

describe('e2e: examples/home-assistant-mqtt.json with a real MQTT broker', function () {
  this.timeout(120000);
  const broker = new Mosquitto();
  let sim: SimulatedDevice;
  let red: NodeRedProcess;
  let ha: MqttClient;
  let comms: CommsClient;
  /** Discovery messages by topic, as Home Assistant keeps them. */
  const configs = new Map<string, any>();
  let base = '';
  /** The example's device config node name: the device's name in Home Assistant. */
  let deviceName = '';

  before(async function () {
    const why = mosquittoUnavailable();
    if (why) skipWith(this, why);
    assertBuilt();
    await broker.start();
    sim = new SimulatedDevice({ username: USERNAME, password: PASSWORD, discovery: false, rebootDowntimeMs: 3000 });
    await sim.start();
    red = new NodeRedProcess();
    await red.start();
    comms = await red.comms();
    // Home Assistant subscribes to its discovery prefix; the states it learns from the discovery messages.
    ha = new MqttClient(broker.port);
    await ha.connect();
    await ha.subscribe('homeassistant/#');
    await ha.subscribe('onvifq/#');

    const flow: FlowNode[] = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'examples', 'home-assistant-mqtt.json'), 'utf8'));
    const brokerNode = flow.find((n) => n.type === 'mqtt-broker')!;
    brokerNode.broker = '127.0.0.1';
    brokerNode.port = String(broker.port);
    const device = flow.find((n) => n.type === 'onvifq-device')!;
    device.address = sim.xaddr;
    deviceName = device.name;
    device.credentials = { username: USERNAME, password: PASSWORD };
    await red.deploy(flow);
  });

  after(async function () {
    ha?.close();
    await red?.stop();
    await sim?.stop();
    await broker.stop();
  });

  it('announces the device by MQTT discovery: five entities, every payload one Home Assistant accepts', async function () {
    const uuid = sim.endpoint.replace(/^urn:uuid:/, '');
    const expected = ['binary_sensor/motion', 'binary_sensor/tamper', 'sensor/processor_usage', 'button/reboot', 'button/sync_time'];
    for (const e of expected) {
      const [component, object] = e.split('/');
      const topic = `homeassistant/${component}/${uuid}/${object}/config`;
      const m = await ha.waitFor(`discovery of ${e}`, (x) => x.topic === topic);
      assert.deepEqual(discoveryProblems(m.topic, m.payload), []);
      configs.set(e, JSON.parse(m.payload));
    }
    const all = ha.messages.filter((x) => x.topic.startsWith('homeassistant/') && x.topic.endsWith('/config'));
    for (const m of all) assert.deepEqual(discoveryProblems(m.topic, m.payload), [], 'every discovery message');
    assert.deepEqual(Object.keys(COMPONENTS).sort(), ['binary_sensor', 'button', 'sensor']);

    // One device entry, from the inventory: identified by the endpoint UUID.
    const info = sim.state.deviceInformation as unknown as Record<string, string>;
    for (const [e, config] of configs) {
      assert.deepEqual(config.device.identifiers, [sim.endpoint], `${e} device identifiers`);
      assert.equal(config.device.manufacturer, info.Manufacturer, `${e} manufacturer`);
      assert.equal(config.device.model, info.Model);
      assert.equal(config.device.sw_version, info.FirmwareVersion);
      assert.equal(config.device.serial_number, info.SerialNumber);
      assert.equal(config.device.name, deviceName);
      assert.equal(config.unique_id, `${uuid}_${e.split('/')[1]}`);
    }
    assert.equal(configs.get('binary_sensor/motion').device_class, 'motion');
    assert.equal(configs.get('binary_sensor/tamper').device_class, 'tamper');
    assert.equal(configs.get('sensor/processor_usage').unit_of_measurement, '%');
    assert.equal(configs.get('button/reboot').device_class, 'restart');
    base = configs.get('binary_sensor/motion').state_topic.replace(/\/motion$/, '');

    // Retained: a Home Assistant that starts later gets the same messages from the broker.
    const later = new MqttClient(broker.port);
    try {
      await later.connect();
      await later.subscribe('homeassistant/#');
      for (const e of expected) {
        const [component, object] = e.split('/');
        const topic = `homeassistant/${component}/${uuid}/${object}/config`;
        const m = await later.waitFor(`retained ${topic}`, (x) => x.topic === topic);
        assert.ok(m.retain, `${topic} is retained`);
      }
    } finally {
      later.close();
    }
  });

  it('names the entities as the README lists them', function () {
    const listed = readmeSays(/(binary sensors \*.*?\* and \*[^*]+\*)/);
    const names = [...listed.matchAll(/\*([^*]+)\*/g)].map((m) => m[1]!);
    assert.deepEqual([...configs.values()].map((c) => c.name).sort(), names.sort(), `README: ${listed}`);
  });

  it('is available while the device and Node-RED are: both availability topics say online', async function () {
    const availability = configs.get('binary_sensor/motion').availability as Array<{ topic: string }>;
    assert.equal(availability.length, 2);
    for (const a of availability) await ha.waitFor(`online on ${a.topic}`, (m) => m.topic === a.topic && m.payload === 'online');
  });

  it('reports the processor usage from the device\'s monitoring event', async function () {
    const usage = await ha.waitFor('a processor usage state', (m) => m.topic === configs.get('sensor/processor_usage').state_topic);
    const value = Number(usage.payload);
    assert.ok(Number.isFinite(value) && value >= 0 && value <= 100, `processor usage "${usage.payload}"`);
  });

  it('turns the motion binary sensor on and off with the device\'s motion events', async function () {
    const topic = configs.get('binary_sensor/motion').state_topic;
    const { payload_on: on, payload_off: off } = configs.get('binary_sensor/motion');
    // The state at subscription (the device reports no motion) comes first.
    await ha.waitFor('the initial motion state', (m) => m.topic === topic && m.payload === off);
    const from = ha.messages.length;
    sim.raiseEvent(MOTION, { data: { IsMotion: 'true' } });
    await ha.waitFor('motion ON', (m) => m.topic === topic && m.payload === on, 30000, from);
    const next = ha.messages.length;
    sim.raiseEvent(MOTION, { data: { IsMotion: 'false' } });
    await ha.waitFor('motion OFF', (m) => m.topic === topic && m.payload === off, 30000, next);
  });

  it('turns the tamper binary sensor on when the device reports a global scene change', async function () {
    const { state_topic: topic, payload_on: on } = configs.get('binary_sensor/tamper');
    const from = ha.messages.length;
    sim.raiseEvent(SCENE_CHANGE, { source: { Source: 'VideoSource0' }, data: { State: 'true' } });
    await ha.waitFor('tamper ON', (m) => m.topic === topic && m.payload === on, 30000, from);
  });

  it('Sync time: a press sets the device clock', async function () {
    const { command_topic: topic, payload_press: press } = configs.get('button/sync_time');
    sim.clearRequests();
    ha.publish(topic, press ?? 'PRESS');
    const until = Date.now() + 30000;
    while (!sim.requests.some((r) => r.operation === 'SetSystemDateAndTime')) {
      assert.ok(Date.now() < until, `no SetSystemDateAndTime after the press; the device saw ${sim.requests.map((r) => r.operation).join(', ')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  });

  it('Reboot: a press reboots the device, which goes unavailable and comes back', async function () {
    const { command_topic: topic, payload_press: press } = configs.get('button/reboot');
    const availability = `${base}/availability`;
    const from = ha.messages.length;
    let timer: NodeJS.Timeout | undefined;
    const rebooted = new Promise<void>((resolve, reject) => {
      sim.once('reboot', () => resolve());
      timer = setTimeout(() => reject(new Error(`the simulator did not reboot:\n${red.output.slice(-1500)}`)), 30000);
    });
    ha.publish(topic, press ?? 'PRESS');
    await rebooted.finally(() => clearTimeout(timer));
    const statuses = () => comms.events.filter((e) => e.topic.startsWith('status/')).slice(-15).map((e) => `${e.topic} ${e.data?.text}`).join('\n');
    const offline = await ha.waitFor('offline while the device reboots', (m) => m.topic === availability && m.payload === 'offline', 60000, from)
      .catch((e: Error) => assert.fail(`${e.message}\nnode statuses:\n${statuses()}`));
    await ha.waitFor('online again', (m: MqttMessage) => m.topic === availability && m.payload === 'online', 60000, ha.messages.indexOf(offline) + 1);
  });

  it('uses the topics the README documents, every one of them and no other', function () {
    const uuid = sim.endpoint.replace(/^urn:uuid:/, '');
    const documented = readmeTopics(uuid);
    // What Home Assistant and the test saw: the flow's publications and the button presses (published here).
    const seen = [...new Set(ha.messages.map((m) => m.topic))];
    for (const c of configs.values()) if (c.command_topic) seen.push(c.command_topic);
    const undocumented = seen.filter((t) => !documented.some((d) => d.re.test(t)));
    assert.deepEqual(undocumented, [], 'topics the flow used that the README does not list');
    const unused = documented.filter((d) => !seen.some((t) => d.re.test(t))).map((d) => `${d.documented} (${d.re.source})`);
    assert.deepEqual(unused, [], `topics the README lists that the flow never used; it used ${seen.join(', ')}`);
  });
});
