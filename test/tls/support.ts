/** What the TLS specs share: the simulator they start and how they expect a refusal. */
import { strict as assert } from 'node:assert';
import { isOnvifError, type OnvifError } from '../../lib/errors';
import type { SimulatorOptions } from '../../lib/simulator';

export const ADMIN = { username: 'admin', password: 'Adm1n-secret' };
/** No multicast or periodic events, and key generation fast enough for a test. */
export const QUICK: SimulatorOptions = { ...ADMIN, discovery: false, processorUsageIntervalMs: 0, security: { keyGenerationDelayMs: 50 } };

/** The OnvifError `p` rejects with (fails the test if it resolves or rejects with something else). */
export async function rejects(p: Promise<unknown>): Promise<OnvifError> {
  try {
    await p;
  } catch (e) {
    assert.ok(isOnvifError(e), `an OnvifError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected a rejection');
}
