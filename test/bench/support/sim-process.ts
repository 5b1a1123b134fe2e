import { fork, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import type { SimulatorOptions } from '../../../lib/simulator';
import type { ChildCommand } from './sim-child';

/** The benchmarks' device side in a child process (sim-child.ts), driven by commands that resolve with its answer. */
export class SimProcess {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (m: { id?: number; result?: unknown; error?: string }) => {
      const w = m.id === undefined ? undefined : this.waiting.get(m.id);
      if (!w) return;
      this.waiting.delete(m.id!);
      if (m.error !== undefined) w.reject(new Error(`simulator process: ${m.error}`));
      else w.resolve(m.result);
    });
    child.on('exit', (code) => {
      for (const w of this.waiting.values()) w.reject(new Error(`simulator process exited (${code})`));
      this.waiting.clear();
    });
  }

  static start(): Promise<SimProcess> {
    const child = fork(path.join(__dirname, 'sim-child.ts'), [], { execArgv: ['--import', 'tsx', ...(process.env.ONVIFQ_BENCH_SIM_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.ONVIFQ_BENCH_SIM_PROF] : [])], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    return new Promise((resolve, reject) => {
      child.once('message', () => resolve(new SimProcess(child)));
      child.once('exit', (code) => reject(new Error(`simulator process exited before it was ready (${code})`)));
    });
  }

  send<T>(command: ChildCommand): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.send({ id, ...command });
    });
  }

  /** Fresh simulated devices (the previous ones are stopped first); their device-service addresses. */
  startSimulators(count: number, options: SimulatorOptions): Promise<string[]> {
    return this.send<string[]>({ cmd: 'start', count, options });
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.disconnect();
    await exited;
  }
}

/** The monotonic clock in ms, shared by every process on the machine (sim-child.ts stamps events with it). */
export const monotonicMs = (): number => Number(process.hrtime.bigint()) / 1e6;
