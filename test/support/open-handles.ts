/**
 * Root hooks, loaded by .mocharc.json for every run. Mocha runs without `exit`, so whatever a test leaves open
 * (a server, a socket, a timer, a child process) keeps the process alive after the last test. Instead of a CI
 * job that hangs, this prints what is still open a few seconds after the last test and ends the run as failed.
 *
 * `ONVIFQ_OPEN_HANDLES=stacks` also records where each handle and timer was created (slower; for finding one).
 */
import { createHook } from 'node:async_hooks';

// Long enough for sockets and child processes that are already closing; anything open longer is a leak.
const GRACE_MS = 2000;
const origins = new Map<number, string>();

if (process.env.ONVIFQ_OPEN_HANDLES === 'stacks') {
  createHook({
    init(id, type) {
      if (type === 'PROMISE' || type === 'TickObject' || type === 'Immediate' || type.startsWith('FS')) return;
      const stack = (new Error().stack ?? '').split('\n').slice(2).filter((l) => !l.includes('node:internal') && !l.includes('async_hooks')).slice(0, 6);
      origins.set(id, `${type}\n${stack.join('\n')}`);
    },
    destroy(id) {
      origins.delete(id);
    },
  }).enable();
}

/** One line per open handle, with what identifies it (addresses, pid, ...). */
function describeHandles(): string[] {
  const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
  return handles.map((h) => {
    const name = (h as object)?.constructor?.name ?? typeof h;
    const any = h as Record<string, any>;
    if (any === process.stdout || any === process.stderr || any === process.stdin) return `${name} (stdio)`;
    if (typeof any.address === 'function') {
      try {
        const a = any.address();
        const remote = any.remoteAddress ? ` → ${any.remoteAddress}:${any.remotePort}` : '';
        return `${name} ${a ? `${a.address}:${a.port}` : ''}${remote}`;
      } catch {
        return name;
      }
    }
    if (typeof any.pid === 'number') return `${name} pid ${any.pid} ${any.spawnfile ?? ''} ${(any.spawnargs ?? []).slice(1, 4).join(' ')}`;
    return name;
  });
}

export const mochaHooks = {
  afterAll(): void {
    const lastTestAt = Date.now();
    const watchdog = setTimeout(() => {
      const resources = process.getActiveResourcesInfo();
      const lines = [
        `The test process is still running ${Date.now() - lastTestAt} ms after the last test: something a test opened was not closed.`,
        `Open resources: ${resources.join(', ')}`,
        ...describeHandles().map((h) => `  handle: ${h}`),
        ...(origins.size ? [...origins.values()].map((o) => `  created at: ${o.replace(/\n/g, '\n    ')}`) : ['  (run with ONVIFQ_OPEN_HANDLES=stacks to see where each was created)']),
      ];
      process.stderr.write(`${lines.join('\n')}\n`);
      // Mocha sets the exit code in its own 'exit' listener (0 when every test passed); this one runs after it.
      process.on('exit', () => (process.exitCode = 1));
      process.exit(1);
    }, GRACE_MS);
    // The watchdog itself must not keep the process alive: it only fires when something else does.
    watchdog.unref();
  },
};
