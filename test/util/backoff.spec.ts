import { strict as assert } from 'node:assert';
import { backoffDelay } from '../../lib/util/backoff';
import { seededRandom } from '../support/manual-clock';

describe('backoffDelay: the one retry policy (DeviceLink reconnects, EventHub recreates)', () => {
  it('doubles from 1 s to 60 s by default, each delay 0–20 % longer than nominal but never past the cap (seeded jitter)', () => {
    const random = seededRandom(42);
    const delays = Array.from({ length: 10 }, (_, i) => backoffDelay(i + 1, {}, random));
    const nominal = [1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000, 60_000, 60_000];
    delays.forEach((d, i) => {
      const [low, high] = [nominal[i]!, Math.min(60_000, nominal[i]! * 1.2)];
      assert.ok(d >= low && d <= high, `attempt ${i + 1}: ${d} ms, nominal ${nominal[i]}`);
    });
    // The same seed gives the same sequence.
    const again = seededRandom(42);
    assert.deepEqual(Array.from({ length: 10 }, (_, i) => backoffDelay(i + 1, {}, again)), delays);
    assert.deepEqual(delays, [1120, 2179, 4682, 9072, 16559, 35370, 60000, 60000, 60000, 60000]);
  });

  it('the cap (maxMs) is the longest wait, whatever the jitter: a status countdown never shows more', () => {
    assert.deepEqual([1, 2, 3, 4, 5].map((n) => backoffDelay(n, { initialMs: 25, maxMs: 200 }, () => 0)), [25, 50, 100, 200, 200]);
    assert.deepEqual([1, 2, 3, 4, 5].map((n) => backoffDelay(n, { initialMs: 25, maxMs: 200 }, () => 0.999_999)), [30, 60, 120, 200, 200]);
    // Just below the cap: lengthened, but not past it.
    assert.equal(backoffDelay(4, { initialMs: 25, maxMs: 210 }, () => 0.999_999), 210);
    const random = seededRandom(7);
    for (let attempt = 1; attempt <= 200; attempt++) assert.ok(backoffDelay(attempt, { maxMs: 30_000 }, random) <= 30_000);
  });

  it('stays finite for any attempt count', () => {
    assert.equal(backoffDelay(10_000, {}, () => 0), 60_000);
    assert.equal(backoffDelay(0, { initialMs: 500 }, () => 0), 500);
  });
});
