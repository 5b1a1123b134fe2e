import { strict as assert } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { reachableSubscriptionUrl, readLeaseTimes } from '../../lib/events';
import { parseEnvelope } from '../../lib/soap/envelope';
import { text, child } from '../../lib/xml/query';
import { SHARED, skipWith } from '../support/shared';

const REAL = path.join(SHARED, 'fixtures/real');

describe('events: subscription references and leases from real captures', function () {
  beforeEach(function () {
    if (!existsSync(REAL)) skipWith(this, `skipped: ${REAL} not found (the team's real device captures)`);
  });
  const content = (dir: string, f: string) => parseEnvelope(readFileSync(path.join(REAL, dir, f))).content!;

  it('lease = TerminationTime − CurrentTime in the device clock (wsnt: in Create/Renew, tev: in PullMessages)', () => {
    // Hikvision 60 s, Dahua family 2 min, Axis one month, Pelco 90 s with microseconds, DH-SD4A425DB with its clock in 2017.
    assert.equal(readLeaseTimes(content('CreatePullPointSubscriptionResponse', 'hikvision-DS-2CD2012-I-1.xml')).remainingMs, 60_000);
    assert.equal(readLeaseTimes(content('CreatePullPointSubscriptionResponse', 'reolink-bullet-unstated-model-1.xml')).remainingMs, 120_000);
    assert.equal(readLeaseTimes(content('CreatePullPointSubscriptionResponse', 'axis-Q6045-E-1.xml')).remainingMs, 28 * 24 * 3600_000);
    assert.equal(readLeaseTimes(content('CreatePullPointSubscriptionResponse', 'pelco-D6230L-1.xml')).remainingMs, 90_000);
    const dahua = readLeaseTimes(content('CreatePullPointSubscriptionResponse', 'dahua-DH-SD4A425DB-HNY-1.xml'));
    assert.deepEqual(dahua, { currentTime: '2017-12-31T16:00:12Z', terminationTime: '2017-12-31T16:02:12Z', remainingMs: 120_000 });
    assert.equal(readLeaseTimes(content('RenewResponse', 'hikvision-compatible-unstated-model-1.xml')).remainingMs, 120_000);
    assert.equal(readLeaseTimes(content('PullMessagesResponse', 'amcrest-lorex-dahua-cell_motion_camera-2.xml')).remainingMs, 63_000);
    // 18:29:26.135423 − 18:27:56.135641 = 89.999782 s, 90 000 ms to the millisecond.
    assert.equal(readLeaseTimes(content('PullMessagesResponse', 'pelco-D6230L-1.xml')).remainingMs, 90_000);
  });

  it('every reported subscription address becomes one we can reach, keeping port, path and query', () => {
    const configured = new URL('http://127.0.0.1:8080/onvif/device_service');
    const events = 'http://127.0.0.1:8080/onvif/event_service';
    const addressOf = (f: string) => text(child(content('CreatePullPointSubscriptionResponse', f), 'SubscriptionReference'), 'Address')!;
    const cases: Array<[string, string]> = [
      ['amcrest-lorex-dahua-cell_motion_camera-1.xml', 'http://127.0.0.1/onvif/Subscription?Idx=0'],
      ['axis-Q6045-E-1.xml', 'http://127.0.0.1/onvif/services'],
      ['dahua-DH-SD4A425DB-HNY-1.xml', 'http://127.0.0.1/onvif/Events/pullSubmanager'],
      ['hikvision-DS-2CD2012-I-1.xml', 'http://127.0.0.1/onvif/Events/PullSubManager_2018-02-27T18:34:42Z_1'],
      ['pelco-D6230L-1.xml', 'http://127.0.0.1/onvif/eventing_service?id=urn:uuid:90c6d153-d40a-ce00-565f-26bed81b5b83'],
      ['reolink-bullet-unstated-model-1.xml', 'http://127.0.0.1:8000/onvif/PullSubManager?Idx=90264311'],
    ];
    for (const [f, want] of cases) assert.equal(reachableSubscriptionUrl(addressOf(f), events, configured), want, f);
    // Same origin as the device says it has (port forwarding): the configured host and port.
    assert.equal(reachableSubscriptionUrl('http://192.168.1.200:8000/onvif/PullSubManager?Idx=1', events, configured, 'http://192.168.1.200:8000'), 'http://127.0.0.1:8080/onvif/PullSubManager?Idx=1');
    assert.equal(reachableSubscriptionUrl('/onvif/sub?Idx=3', events, configured), 'http://127.0.0.1:8080/onvif/sub?Idx=3');
    assert.equal(reachableSubscriptionUrl('', events, configured), events);
    assert.equal(reachableSubscriptionUrl('http://www.w3.org/2005/08/addressing/anonymous', events, configured), events);
  });
});
