/** What the TLS specs share: the simulator they start and how they expect a refusal. */
import type { SimulatorOptions } from '../../lib/simulator';

export const ADMIN = { username: 'admin', password: 'Adm1n-secret' };
/** No multicast or periodic events, and key generation fast enough for a test. */
export const QUICK: SimulatorOptions = { ...ADMIN, discovery: false, processorUsageIntervalMs: 0, security: { keyGenerationDelayMs: 50 } };

/** The OnvifError a promise rejects with (test/support/rejection.ts). */
export { rejection as rejects } from '../support/rejection';
