import { strict as assert } from 'node:assert';
import { backoffDelay } from '../../lib/util/backoff';
import { seededRandom } from '../support/manual-clock';

describe('backoffDelay: the one retry policy (DeviceLink reconnects, EventHub recreates)', () => {
  it('doubles from 1 s to 60 s by default, each delay 0–20 % longer than nominal (seeded jitter)', () => {
    const random = seededRandom(42);
    const delays = Array.from({ length: 10 }, (_, i) => backoffDelay(i + 1, {}, random));
    const nominal = [1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000, 60_000, 60_000];
    delays.forEach((d, i) => assert.ok(d >= nominal[i]! && d <= nominal[i]! * 1.2, `attempt ${i + 1}: ${d} ms, nominal ${nominal[i]}`));
    // The same seed gives the same sequence.
    const again = seededRandom(42);
    assert.deepEqual(Array.from({ length: 10 }, (_, i) => backoffDelay(i + 1, {}, again)), delays);
    assert.deepEqual(delays, [1120, 2179, 4682, 9072, 16559, 35370, 63279, 67497, 70386, 65668]);
  });

  it('no jitter at the bottom of the range, 20 % at the top, and the options bound it', () => {
    assert.deepEqual([1, 2, 3, 4, 5].map((n) => backoffDelay(n, { initialMs: 25, maxMs: 200 }, () => 0)), [25, 50, 100, 200, 200]);
    assert.deepEqual([1, 2, 3, 4, 5].map((n) => backoffDelay(n, { initialMs: 25, maxMs: 200 }, () => 0.999_999)), [30, 60, 120, 240, 240]);
  });

  it('stays finite for any attempt count', () => {
    assert.equal(backoffDelay(10_000, {}, () => 0), 60_000);
    assert.equal(backoffDelay(0, { initialMs: 500 }, () => 0), 500);
  });
});
