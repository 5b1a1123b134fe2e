import { strict as assert } from 'node:assert';
import { PresenceRegistry, type DiscoveredDevice } from '../../lib';

/** A device as a probe or a Hello reports it; `at` is when. */
function found(uuid: string, at: string, name = 'cam'): DiscoveredDevice {
  return {
    endpoint: `urn:uuid:${uuid}`, xaddrs: [`http://192.0.2.${uuid.length}/onvif/device_service`], types: ['tds:Device'], scopes: [],
    profiles: ['Q'], profileQState: 'Operational', name, firstSeen: at, lastSeen: at, from: '192.0.2.1:3702',
  };
}

describe('discovery: presence across runs (PresenceRegistry)', () => {
  it('keeps the first-seen time of a device across probes', () => {
    const presence = new PresenceRegistry(2);
    presence.remember(found('a', '2026-01-01T10:00:00.000Z'));
    const later = presence.remember(found('a', '2026-01-01T11:00:00.000Z', 'renamed'));
    assert.equal(later.firstSeen, '2026-01-01T10:00:00.000Z');
    assert.equal(later.lastSeen, '2026-01-01T11:00:00.000Z');
    assert.equal(later.name, 'renamed');
  });

  it('online once, offline after the allowed missed probes or a Bye, online again when it answers', () => {
    const presence = new PresenceRegistry(2);
    assert.equal(presence.seen(found('a', 't1'), 'hello')?.state, 'online');
    assert.equal(presence.seen(found('a', 't2'), 'probe'), undefined, 'already online: no change');
    presence.seen(found('b', 't2'), 'probe');
    assert.equal(presence.onlineCount, 2);

    assert.deepEqual(presence.probeMissed(new Set(['urn:uuid:b'])), [], 'one miss is not enough');
    const offline = presence.probeMissed(new Set(['urn:uuid:b']));
    assert.deepEqual(offline.map((c) => [c.state, c.device.endpoint, c.reason]), [['offline', 'urn:uuid:a', 'missed']]);
    assert.equal(presence.onlineCount, 1);

    const back = presence.seen(found('a', 't5'), 'probe');
    assert.deepEqual([back?.state, back?.reason, back?.device.firstSeen], ['online', 'probe', 't1']);

    const bye = presence.bye({ ...found('b', 't6'), name: undefined, xaddrs: [] });
    assert.deepEqual([bye?.state, bye?.reason, bye?.device.name, bye?.device.lastSeen], ['offline', 'bye', 'cam', 't6'], 'what was known, with the Bye time');
    assert.equal(presence.bye(found('never-seen', 't7')), undefined, 'a Bye from a stranger is no news');
  });
});
