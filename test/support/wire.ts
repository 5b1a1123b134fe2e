/** Counting what a client put on the wire, through the library's public wire trace (no counter in production code). */
import { subscribeWireTrace } from '../../lib';

/** HTTP requests sent while `run` ran (every attempt, including ones that failed before an answer). */
export async function requestsDuring<T>(run: () => Promise<T>): Promise<{ result: T; requests: number }> {
  let requests = 0;
  const stop = subscribeWireTrace((m) => {
    if (m.type === 'request') requests++;
  });
  try {
    return { result: await run(), requests };
  } finally {
    stop();
  }
}
