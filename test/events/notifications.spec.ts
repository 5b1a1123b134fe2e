import { strict as assert } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { canonicalTopic, parseNotifications, readEventTypes, topicMatches, type OnvifEvent } from '../../lib/events';
import { parseEnvelope } from '../../lib/soap/envelope';
import { parseXml } from '../../lib/xml/parse';
import { SHARED, skipWith } from '../support/shared';

const REAL = path.join(SHARED, 'fixtures/real');

/** What a test expects of one event, written by hand from reading the capture. */
type Expected = [topic: string, operation: OnvifEvent['operation'], source: Record<string, unknown>, data: Record<string, unknown>, time: string, key?: Record<string, unknown>];

function skipWithoutShared(ctx: Mocha.Context): void {
  if (!existsSync(REAL)) skipWith(ctx, `skipped: ${REAL} not found (the team's real device captures)`);
}

function pulled(file: string, types?: ReturnType<typeof readEventTypes>): OnvifEvent[] {
  const env = parseEnvelope(readFileSync(path.join(REAL, 'PullMessagesResponse', file)));
  assert.equal(env.content?.local, 'PullMessagesResponse');
  return parseNotifications(env.content!, types);
}

function fragment(file: string): OnvifEvent[] {
  // The fragments are bare NotificationMessages, several per file and without namespace declarations.
  return parseNotifications(parseXml(`<wrapper>${readFileSync(path.join(REAL, 'NotificationMessage-fragment', file), 'utf8')}</wrapper>`));
}

function check(events: OnvifEvent[], expected: Expected[]): void {
  assert.deepEqual(
    events.map((e) => ({ topic: e.topic, operation: e.operation, source: e.source, key: e.key, data: e.data, time: e.time })),
    expected.map(([topic, operation, source, data, time, key]) => ({ topic, operation, source, key: key ?? {}, data, time })),
  );
}

const MOTION = 'tns1:RuleEngine/CellMotionDetector/Motion';
const MOTION_ALARM = 'tns1:VideoSource/MotionAlarm';
const cell = (v: string, rule = v) => ({ VideoSourceConfigurationToken: v, VideoAnalyticsConfigurationToken: v, Rule: rule });

describe('events: every real PullMessagesResponse turns into the expected events', function () {
  beforeEach(function () {
    skipWithoutShared(this);
  });

  it('Amcrest/Lorex (Dahua family): Initialized burst, invalid LastReboot date kept as written, motion changes', () => {
    const t0 = '2026-03-21T17:05:40Z';
    check(pulled('amcrest-lorex-dahua-cell_motion_camera-1.xml'), [
      [MOTION, 'Initialized', cell('00000'), { IsMotion: false }, t0],
      [MOTION_ALARM, 'Initialized', { Source: '00000' }, { State: false }, t0],
      ['tns1:VideoSource/GlobalSceneChange/AnalyticsService', 'Initialized', { Source: '00000' }, { State: false }, t0],
      ['tns1:Monitoring/ProcessorUsage', 'Initialized', { Token: '000' }, { Value: 0.29 }, t0],
      ['tns1:Monitoring/OperatingTime/LastReboot', 'Initialized', {}, { Status: '10-05-2025T22:41:27Z' }, t0],
      ['tns1:Monitoring/OperatingTime/LastReset', 'Initialized', {}, { Status: '1970-01-01T00:00:00Z' }, t0],
      ['tns1:Monitoring/OperatingTime/LastClockSynchronization', 'Initialized', {}, { Status: '1970-01-01T00:00:00Z' }, t0],
    ]);
    check(pulled('amcrest-lorex-dahua-cell_motion_camera-2.xml'), [
      [MOTION, 'Changed', cell('00000'), { IsMotion: true }, '2026-03-21T17:08:10Z'],
      [MOTION_ALARM, 'Changed', { Source: '00000' }, { State: true }, '2026-03-21T17:08:10Z'],
    ]);
    check(pulled('amcrest-lorex-dahua-unvr_cell_motion_1_45-1.xml'), [
      ['tns1:Monitoring/OperatingTime/LastClockSynchronization', 'Changed', {}, { Status: '1970-01-26T18:51:16Z' }, '2026-03-21T18:51:16Z'],
    ]);
    check(pulled('amcrest-lorex-dahua-unvr_cell_motion_1_45-2.xml'), [
      [MOTION, 'Changed', cell('000'), { IsMotion: false }, '2026-03-21T19:51:54Z'],
      [MOTION_ALARM, 'Changed', { Source: '000' }, { State: false }, '2026-03-21T19:51:54Z'],
      [MOTION, 'Changed', cell('000'), { IsMotion: true }, '2026-03-21T19:51:56Z'],
      [MOTION_ALARM, 'Changed', { Source: '000' }, { State: true }, '2026-03-21T19:51:56Z'],
    ]);
  });

  it('Dahua DH-SD4A425DB: empty answer, a degenerate message skipped, tab-indented messages', () => {
    check(pulled('dahua-DH-SD4A425DB-HNY-1.xml'), []);
    check(pulled('dahua-DH-SD4A425DB-HNY-2.xml'), []);
    check(pulled('dahua-DH-SD4A425DB-HNY-3.xml'), [
      [MOTION, 'Changed', { VideoSourceConfigurationToken: 'VideoSourceToken', VideoAnalyticsConfigurationToken: 'VideoAnalyticsToken', Rule: 'MyMotionDetectorRule' }, { IsMotion: true }, '2017-12-31T16:01:21Z'],
    ]);
    check(pulled('dahua-DH-SD4A425DB-HNY-4.xml'), [[MOTION_ALARM, 'Changed', { Source: 'VideoSourceMain' }, { State: true }, '2017-12-31T16:01:21Z']]);
  });

  it('Hikvision: idle answers, a split Initialized burst, relay states as words, Key ObjectId', () => {
    check(pulled('hikvision-DS-2CD2012-I-1.xml'), []);
    check(pulled('hikvision-DS-2DF7276-AEL-1.xml'), []);
    const t = '2026-02-19T08:57:52Z';
    check(pulled('hikvision-compatible-unstated-model-1.xml'), [
      [MOTION, 'Initialized', cell('00000'), { IsMotion: false }, t],
      [MOTION_ALARM, 'Initialized', { Source: '00000' }, { State: false }, t],
    ]);
    check(pulled('hikvision-compatible-unstated-model-2.xml'), [
      ['tns1:VideoSource/GlobalSceneChange/AnalyticsService', 'Initialized', { Source: '00000' }, { State: false }, t],
      ['tns1:Device/Trigger/DigitalInput', 'Initialized', { InputToken: '00000' }, { LogicalState: false }, t],
      ['tns1:Device/Trigger/DigitalInput', 'Initialized', { InputToken: '00100' }, { LogicalState: false }, t],
      ['tns1:Device/Trigger/Relay', 'Initialized', { RelayToken: '00000' }, { LogicalState: 'inactive' }, t],
      ['tns1:Monitoring/ProcessorUsage', 'Initialized', { Token: '000' }, { Value: 0.86 }, t],
    ]);
    const t3 = '2026-02-19T08:57:53Z';
    check(pulled('hikvision-compatible-unstated-model-3.xml'), [
      ['tns1:Monitoring/OperatingTime/LastReboot', 'Initialized', {}, { Status: '2026-02-19T04:49:04Z' }, t3],
      ['tns1:Monitoring/OperatingTime/LastReset', 'Initialized', {}, { Status: '1970-01-01T00:00:00Z' }, t3],
      ['tns1:Monitoring/OperatingTime/LastClockSynchronization', 'Initialized', {}, { Status: '1970-01-01T00:00:00Z' }, t3],
    ]);
    check(pulled('hikvision-compatible-unstated-model-4.xml'), []);
    check(pulled('hikvision-compatible-unstated-model-5.xml'), [
      ['tns1:RuleEngine/FieldDetector/ObjectsInside', 'Changed', cell('00000', 'Vehicle'), { IsInside: true }, '2026-02-19T09:01:55Z', { ObjectId: '3379' }],
    ]);
    const th = '2025-04-18T20:34:05Z';
    const tokens = { VideoSourceConfigurationToken: 'VideoSourceToken', VideoAnalyticsConfigurationToken: 'VideoAnalyticsToken' };
    check(pulled('hikvision-unstated-model-1.xml'), [
      [MOTION_ALARM, 'Initialized', { Source: 'VideoSource_1' }, { State: false }, th],
      [MOTION, 'Initialized', { ...tokens, Rule: 'MyMotionDetectorRule' }, { IsMotion: false }, th],
      ['tns1:RuleEngine/TamperDetector/Tamper', 'Initialized', { ...tokens, Rule: 'MyTamperDetectorRule' }, { IsTamper: false }, th],
      ['tns1:VideoSource/ImageTooDark/ImagingService', 'Initialized', { Source: 'VideoSourceToken' }, { State: false }, th],
      ['tns1:RuleEngine/FieldDetector/ObjectsInside', 'Initialized', { ...tokens, Rule: 'MyFieldDetector1' }, { IsInside: false }, th, { ObjectId: '0' }],
      ['tns1:Monitoring/OperatingTime/LastReset', 'Initialized', {}, { Status: '2025-04-17T15:31:49Z' }, th],
      ['tns1:Monitoring/OperatingTime/LastReboot', 'Initialized', {}, { Status: '2025-04-17T15:31:49Z' }, th],
      ['tns1:Monitoring/OperatingTime/LastClockSynchronization', 'Initialized', {}, { Status: '2025-04-17T15:31:49Z' }, th],
    ]);
  });

  const pelcoExpected = (link: unknown): Expected[] => [
    ['tns1:Monitoring/ProcessorUsage', 'Initialized', { Token: 'cpu' }, { Value: 0.44 }, '2018-02-27T18:27:56.070891Z'],
    ['tns1:Monitoring/LinkStatus', 'Initialized', { Token: 'eth0' }, { Link: link }, '2018-02-27T18:27:56.070891Z'],
    ['tns1:Monitoring/OperatingTime/LastReboot', 'Initialized', {}, { Status: '2018-02-24T16:27:48Z' }, '2018-02-27T18:27:56.070891Z'],
    ['tns1:Monitoring/OperatingTime/LastReset', 'Initialized', {}, { Status: '1970-01-01T00:00:18Z' }, '2018-02-27T18:27:56.070891Z'],
    ['tns1:Monitoring/OperatingTime/LastClockSynchronization', 'Initialized', {}, { Status: '2018-02-27T17:05:11Z' }, '2018-02-27T18:27:56.070891Z'],
    [MOTION, 'Initialized', {}, { Value: true }, '2018-02-27T18:27:56.071810Z'],
    ['tns1:RecordingHistory/Recording/State', 'Initialized', { RecordingToken: '0' }, { IsRecording: false }, '2018-02-27T18:27:56.073447Z'],
    ['tns1:RecordingHistory/Track/State', 'Initialized', { RecordingToken: '0', Track: 'VIDEO001' }, { IsDataPresent: false }, '2018-02-27T18:27:56.073662Z'],
    ['tns1:RecordingHistory/Track/State', 'Initialized', { RecordingToken: '0', Track: 'AUDIO001' }, { IsDataPresent: false }, '2018-02-27T18:27:56.073889Z'],
    ['tns1:RecordingHistory/Track/State', 'Initialized', { RecordingToken: '0', Track: 'META001' }, { IsDataPresent: false }, '2018-02-27T18:27:56.074147Z'],
  ];

  it('Pelco: Concrete dialect, topics with trailing whitespace, Value="True", an ElementItem kept as an object', () => {
    check(pulled('pelco-D6230L-1.xml'), pelcoExpected({ AutoNegotiation: 'true', Speed: '100', Duplex: 'Full' }));
  });

  it("Pelco with its own GetEventProperties: the ElementItem typed as the device declares it", () => {
    const props = parseEnvelope(readFileSync(path.join(REAL, 'GetEventPropertiesResponse/pelco-D6230L-1.xml')));
    const types = readEventTypes(props.content!);
    assert.deepEqual(types.get('Monitoring/LinkStatus')?.get('Link'), { ns: 'http://www.onvif.org/ver10/schema', local: 'NetworkInterfaceConnectionSetting', element: true });
    check(pulled('pelco-D6230L-1.xml', types), pelcoExpected({ AutoNegotiation: true, Speed: 100, Duplex: 'Full' }));
  });

  it('Reolink: AI detector topics', () => {
    const t = '2026-04-08T14:35:49Z';
    check(pulled('reolink-bullet-unstated-model-1.xml'), [
      [MOTION, 'Initialized', cell('000'), { IsMotion: false }, t],
      ['tns1:RuleEngine/MyRuleDetector/FaceDetect', 'Initialized', { Source: '000' }, { State: false }, t],
      ['tns1:RuleEngine/MyRuleDetector/PeopleDetect', 'Initialized', { Source: '000' }, { State: false }, t],
      ['tns1:RuleEngine/MyRuleDetector/VehicleDetect', 'Initialized', { Source: '000' }, { State: false }, t],
      ['tns1:RuleEngine/MyRuleDetector/DogCatDetect', 'Initialized', { Source: '000' }, { State: false }, t],
      [MOTION_ALARM, 'Initialized', { Source: '000' }, { State: false }, t],
    ]);
  });

  it('TRENDnet: ProcessorUsage as a whole number', () => {
    check(pulled('trendnet-TV-IP320PI-1.xml'), [['tns1:Monitoring/ProcessorUsage', 'Changed', { Token: 'Processor_Usage' }, { Value: 75 }, '2018-02-27T18:36:53Z']]);
  });

  it('notification fragments: a vendor segment inside an ONVIF path, FALSE in capitals, UtcTime without a zone', () => {
    const t = '2023-06-01T02:34:23Z';
    check(fragment('unstated-sub_pull_session-1.xml'), [
      ['tns1:VideoAnalytics/tnshik:MotionAlarm', 'Initialized', { Source: 'vstoken_ch0001' }, { State: false }, t],
      ['tns1:UserAlarm/VideoCover', 'Initialized', { VideoSourceToken: 'vstoken_ch0001' }, { State: false }, t],
      ['tns1:RuleEngine/TamperDetector/Tamper', 'Initialized', { VideoSourceToken: 'vstoken_ch0001' }, { State: false }, t],
    ]);
    check(fragment('reolink-Video-Doorbell-PoE-1.xml'), [
      [MOTION, 'Initialized', { VideoSourceConfigurationToken: '000' }, { IsMotion: false }, '2024-03-12T00:45:48Z'],
      ['tns1:RuleEngine/MyRuleDetector/VehicleDetect', 'Initialized', { Source: 'VideoSourceToken' }, { State: false }, '2024-03-12T00:45:48Z'],
      ['tns1:RuleEngine/MyRuleDetector/DogCatDetect', 'Initialized', { Source: 'VideoSourceToken' }, { State: false }, '2024-03-12T00:45:48Z'],
    ]);
    check(fragment('reolink-Video-Doorbell-WiFi-1.xml'), [['tns1:RuleEngine/MyRuleDetector/Visitor', 'Changed', { Source: '000' }, { State: true }, '2022-11-01T11:59:43Z']]);
  });

  it('every GetEventPropertiesResponse yields item types for its topics', () => {
    const dir = path.join(REAL, 'GetEventPropertiesResponse');
    for (const f of ['axis-Q6045-E-1.xml', 'hikvision-DS-2CD2012-I-1.xml', 'pelco-D6230L-1.xml', 'trendnet-TV-IP320PI-1.xml']) {
      const types = readEventTypes(parseEnvelope(readFileSync(path.join(dir, f))).content!);
      assert.ok(types.size >= 5, `${f}: ${types.size} topics with descriptions`);
    }
    const hik = readEventTypes(parseEnvelope(readFileSync(path.join(dir, 'hikvision-DS-2CD2012-I-1.xml'))).content!);
    assert.deepEqual(hik.get('RuleEngine/CellMotionDetector/Motion')?.get('IsMotion'), { ns: 'http://www.w3.org/2001/XMLSchema', local: 'boolean', element: false });
  });
});

describe('events: canonical topics and typed values', () => {
  it('ONVIF topics get tns1: whatever prefix the device declared; vendor namespaces get their usual prefix', () => {
    const xml = `<r xmlns:wsnt="http://docs.oasis-open.org/wsn/b-2" xmlns:tt="http://www.onvif.org/ver10/schema">
      <wsnt:NotificationMessage><wsnt:Topic xmlns:ns0="http://www.onvif.org/ver10/topics" xmlns:ax="http://www.axis.com/2009/event/topics">ns0:Device/ax:IO/Port</wsnt:Topic>
        <wsnt:Message><tt:Message UtcTime="2024-05-01T10:00:00.123456Z"><tt:Source><tt:SimpleItem Name="port" Value="1"/></tt:Source><tt:Data><tt:SimpleItem Name="state" Value="1"/></tt:Data></tt:Message></wsnt:Message></wsnt:NotificationMessage>
      <wsnt:NotificationMessage><wsnt:Topic xmlns:hk="http://www.hikvision.com/2011/event/topics">hk:MotionAlarm</wsnt:Topic>
        <wsnt:Message><tt:Message UtcTime="garbage"><tt:Data><tt:SimpleItem Name="State" Value="TRUE"/></tt:Data></tt:Message></wsnt:Message></wsnt:NotificationMessage>
      <wsnt:NotificationMessage><wsnt:Topic/><wsnt:Message/></wsnt:NotificationMessage>
    </r>`;
    const received = new Date('2024-05-01T12:00:00Z');
    const [a, b, ...rest] = parseNotifications(parseXml(xml), undefined, received);
    assert.equal(rest.length, 0, 'the degenerate message is skipped');
    assert.equal(a!.topic, 'tns1:Device/tnsaxis:IO/Port');
    assert.equal(a!.time, '2024-05-01T10:00:00.123456Z');
    assert.deepEqual(a!.source, { port: '1' });
    assert.deepEqual(a!.data, { state: 1 }, 'without declared types a plain number is a number');
    assert.equal(b!.topic, 'tnshik:MotionAlarm');
    assert.deepEqual(b!.data, { State: true });
    assert.equal(b!.time, received.toISOString());
    assert.equal(b!.rawTime, 'garbage');
  });

  it('declared xs:boolean reads 1/0, yes/no as booleans', () => {
    const xml = `<r xmlns:wsnt="http://docs.oasis-open.org/wsn/b-2" xmlns:tt="http://www.onvif.org/ver10/schema" xmlns:tns1="http://www.onvif.org/ver10/topics">
      <wsnt:NotificationMessage><wsnt:Topic>tns1:Device/Trigger/DigitalInput</wsnt:Topic>
        <wsnt:Message><tt:Message UtcTime="2024-05-01T10:00:00Z" PropertyOperation="Changed"><tt:Source><tt:SimpleItem Name="InputToken" Value="1"/></tt:Source><tt:Data><tt:SimpleItem Name="LogicalState" Value="1"/></tt:Data></tt:Message></wsnt:Message></wsnt:NotificationMessage>
    </r>`;
    const types = new Map([['Device/Trigger/DigitalInput', new Map([
      ['InputToken', { ns: 'http://www.onvif.org/ver10/schema', local: 'ReferenceToken', element: false }],
      ['LogicalState', { ns: 'http://www.w3.org/2001/XMLSchema', local: 'boolean', element: false }],
    ])]]);
    const [e] = parseNotifications(parseXml(xml), types);
    assert.deepEqual(e!.source, { InputToken: '1' });
    assert.deepEqual(e!.data, { LogicalState: true });
    assert.equal(e!.operation, 'Changed');
  });

  it('items and topic parts named like Object.prototype members (__proto__, constructor, toString, ...) stay plain data', () => {
    // The device chooses item names and namespace URIs; none of them may reach the object's prototype.
    const names = ['__proto__', 'constructor', 'toString', 'valueOf', 'hasOwnProperty'];
    const simple = (v: string) => names.map((n) => `<tt:SimpleItem Name="${n}" Value="${v}"/>`).join('');
    const xml = `<r xmlns:wsnt="http://docs.oasis-open.org/wsn/b-2" xmlns:tt="http://www.onvif.org/ver10/schema">
      <wsnt:NotificationMessage><wsnt:Topic xmlns:tns1="http://www.onvif.org/ver10/topics" xmlns:odd="constructor">tns1:constructor/__proto__/odd:toString</wsnt:Topic>
        <wsnt:Message><tt:Message UtcTime="2024-05-01T10:00:00Z"><tt:Source>${simple('s')}</tt:Source><tt:Key>${simple('k')}</tt:Key>
          <tt:Data><tt:ElementItem Name="__proto__"><tt:Polygon><tt:Point x="1" y="2"/></tt:Polygon></tt:ElementItem>
            <tt:ElementItem Name="constructor"><tt:Layout>a</tt:Layout></tt:ElementItem>
            <tt:SimpleItem Name="toString" Value="true"/><tt:SimpleItem Name="valueOf" Value="7"/><tt:SimpleItem Name="hasOwnProperty" Value="x"/></tt:Data>
        </tt:Message></wsnt:Message></wsnt:NotificationMessage>
    </r>`;
    const [e] = parseNotifications(parseXml(xml));
    assert.equal(e!.topic, 'tns1:constructor/__proto__/odd:toString', 'a namespace URI "constructor" has no usual prefix');
    const expectedIds = (v: string) => JSON.parse(`{${names.map((n) => `"${n}":"${v}"`).join(',')}}`) as Record<string, unknown>;
    const data = JSON.parse('{"__proto__":{"Point":{"x":"1","y":"2"}},"constructor":"a","toString":true,"valueOf":7,"hasOwnProperty":"x"}') as Record<string, unknown>;
    for (const [group, expected] of [[e!.source, expectedIds('s')], [e!.key, expectedIds('k')], [e!.data, data]] as const) {
      assert.equal(Object.getPrototypeOf(group), Object.prototype, 'a plain object');
      assert.deepEqual(Object.keys(group), names, 'every item is an own property');
      assert.deepEqual(JSON.parse(JSON.stringify(group)), expected);
    }
  });

  it('canonicalTopic drops whitespace and keeps unprefixed segments', () => {
    assert.equal(canonicalTopic('  tns1:Monitoring/ProcessorUsage\n   '), 'tns1:Monitoring/ProcessorUsage');
  });
});

describe('events: topicMatches (ConcreteSet on canonical topics)', () => {
  const T = 'tns1:RuleEngine/CellMotionDetector/Motion';
  it('Concrete: exactly that topic', () => {
    assert.equal(topicMatches(T, T), true);
    assert.equal(topicMatches(T, 'tns1:RuleEngine/CellMotionDetector'), false);
    assert.equal(topicMatches('tns1:RuleEngine/CellMotionDetector', T), false);
    assert.equal(topicMatches(T, 'tns1:RuleEngine/CellMotionDetector/Motion2'), false);
  });
  it('//. : the topic and everything below it', () => {
    assert.equal(topicMatches(T, 'tns1:RuleEngine//.'), true);
    assert.equal(topicMatches('tns1:RuleEngine', 'tns1:RuleEngine//.'), true);
    assert.equal(topicMatches('tns1:RuleEngineX/Foo', 'tns1:RuleEngine//.'), false);
    assert.equal(topicMatches('tns1:Monitoring/ProcessorUsage', 'tns1:RuleEngine//.'), false);
  });
  it('| : any alternative; empty: everything; prefixes matter', () => {
    const f = 'tns1:Monitoring//. | tns1:Device/Trigger/DigitalInput';
    assert.equal(topicMatches('tns1:Monitoring/OperatingTime/LastReboot', f), true);
    assert.equal(topicMatches('tns1:Device/Trigger/DigitalInput', f), true);
    assert.equal(topicMatches('tns1:Device/Trigger/Relay', f), false);
    assert.equal(topicMatches(T, ''), true);
    assert.equal(topicMatches('tnsaxis:CameraApplicationPlatform/VMD/Camera1ProfileANY', 'tns1:CameraApplicationPlatform//.'), false);
    assert.equal(topicMatches('tnsaxis:CameraApplicationPlatform/VMD/Camera1ProfileANY', 'tnsaxis:CameraApplicationPlatform//.'), true);
    assert.equal(topicMatches('tns1:VideoAnalytics/tnshik:MotionAlarm', 'tns1:VideoAnalytics/MotionAlarm'), true, 'an unprefixed filter segment matches by local name');
  });
});
