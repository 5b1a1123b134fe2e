/** `npm start`'s script (examples/start-demo.js) as a child process, the way a user runs it. */
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT, adminRequest } from './node-red-process';

/** A node of the deployed flows, as the admin API returns it. */
export interface FlowNode {
  id: string;
  type: string;
  z?: string;
  name?: string;
  label?: string;
  topic?: string;
  operation?: string;
  address?: string;
  wires?: string[][];
  [key: string]: unknown;
}

export interface DemoRun {
  child: ChildProcess;
  /** Everything the demo printed so far (stdout and stderr). */
  output(): string;
  /** The editor's port, from the printed URL. */
  port: number;
  /** The simulator's port, from the printed device address. */
  simulatorPort: number;
  /** Ctrl-C, then wait for the exit; resolves with the exit code. */
  interrupt(): Promise<number | null>;
}

/** Start the demo in `demoDir` and wait until it prints the editor URL. */
export async function startDemo(demoDir: string, editorPort: number): Promise<DemoRun> {
  const child = spawn(process.execPath, [path.join(REPO_ROOT, 'examples', 'start-demo.js')], {
    cwd: REPO_ROOT,
    env: { ...process.env, ONVIFQ_DEMO_DIR: demoDir, ONVIFQ_DEMO_PORT: String(editorPort) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const printed = await new Promise<string>((resolve, reject) => {
    const check = () => {
      if (/Node-RED editor:\s+http:\/\/127\.0\.0\.1:\d+\//.test(output)) resolve(output);
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => reject(new Error(`the demo exited (${code}) before printing the editor URL:\n${output.slice(-2000)}`)));
    check();
  });
  const port = Number(printed.match(/Node-RED editor:\s+http:\/\/127\.0\.0\.1:(\d+)\//)![1]);
  const simulatorPort = Number(printed.match(/Simulated Profile Q device: http:\/\/127\.0\.0\.1:(\d+)\//)![1]);
  return {
    child,
    output: () => output,
    port,
    simulatorPort,
    async interrupt() {
      if (child.exitCode !== null) return child.exitCode;
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      child.kill('SIGINT');
      const code = await exited;
      await assert.rejects(adminRequest(port, 'GET', '/settings'), 'Node-RED no longer answers after Ctrl-C');
      return code;
    },
  };
}
