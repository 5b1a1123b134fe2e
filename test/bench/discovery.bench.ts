/**
 * Benchmark: 250 simulated devices, one probe — found / total, time to the first and to the last device.
 * Multicast must stay inside a network namespace (the host's 239.255.255.250 route leaves the machine), so
 * this creates one, runs test/discovery/scenarios/probe-many.ts there, and prints its figures.
 *
 *   npm run bench -- --only discovery [--devices 250 --window 3000]
 */
import { arg } from './args';
import { TSX, createNamespace, deleteNamespace, lastJson, namespaceUnavailable, runInNamespace } from '../discovery/support';
import * as path from 'node:path';

interface Figures {
  source: string; total: number; found: number; emitted: number; unique: number; firstMs?: number; lastMs?: number; missing: string[]; receiveBufferBytes?: number; kernelDrops?: number;
}

export async function benchDiscovery(): Promise<void> {
  const why = namespaceUnavailable();
  if (why) {
    console.log(`discovery bench not run: ${why.replace(/^skipped: /, '')}`);
    return;
  }
  const devices = arg('devices', 250);
  const windowMs = arg('window', 3000);
  const ns = createNamespace('bench');
  try {
    const scenario = path.join(__dirname, '../discovery/scenarios/probe-many.ts');
    const r = await runInNamespace(ns, [TSX, scenario, '--devices', String(devices), '--source', 'sim', '--timeout', String(windowMs)], { timeoutMs: 180_000 });
    if (r.code !== 0) {
      console.log(`discovery bench failed to run: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
      return;
    }
    const f = lastJson<Figures>(r.stdout);
    console.log(`${f.total} simulated devices, one probe (window ${windowMs} ms, replies delayed 0-500 ms each, as WS-Discovery asks)`);
    console.log(`  found ${f.found} / ${f.total}${f.emitted !== f.unique ? `, ${f.emitted - f.unique} duplicates` : ', none twice'}`);
    console.log(`  first device after ${f.firstMs} ms, last after ${f.lastMs} ms`);
    console.log(`  receive buffer granted ${f.receiveBufferBytes} bytes; ${f.kernelDrops ?? '?'} datagrams dropped by the kernel`);
    if (f.missing.length) console.log(`  missing: ${f.missing.slice(0, 5).join(' ')}${f.missing.length > 5 ? ' ...' : ''}`);
  } finally {
    deleteNamespace(ns);
  }
}
