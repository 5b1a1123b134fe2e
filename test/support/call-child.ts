/**
 * Make one SOAP call in a process of its own and print what it cost, as one JSON line:
 *   node --import tsx test/support/call-child.ts <url>
 * One process per call, so the peak RSS (process.resourceUsage().maxRSS) belongs to that call alone.
 */
import { SoapClient } from '../../lib/transport/client';
import { el } from '../../lib/xml/build';

export interface CallCost {
  ok: boolean;
  error?: string;
  peakRssGrowthMb: number;
}

async function main(): Promise<void> {
  const client = new SoapClient({ timeoutMs: 60_000 });
  const before = process.resourceUsage().maxRSS;
  const cost: CallCost = { ok: false, peakRssGrowthMb: 0 };
  try {
    await client.call(process.argv[2]!, el('urn:onvifq:test', 'Get'), { operation: 'Get' });
    cost.ok = true;
  } catch (e) {
    cost.error = (e as Error).message;
  } finally {
    client.close();
  }
  cost.peakRssGrowthMb = Math.round((process.resourceUsage().maxRSS - before) / 1024);
  process.stdout.write(`${JSON.stringify(cost)}\n`);
}

void main();
