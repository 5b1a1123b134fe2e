import { strict as assert } from 'node:assert';
import { isOnvifError, type OnvifError } from '../../lib/errors';

/**
 * The error `p` rejects with, checked by `is` (an OnvifError unless told otherwise); fails the test when `p`
 * resolves, or rejects with something else.
 */
export async function rejection<E = OnvifError>(
  p: Promise<unknown>,
  is: (e: unknown) => e is E = isOnvifError as (e: unknown) => e is E,
  what = 'an OnvifError',
): Promise<E> {
  try {
    await p;
  } catch (e) {
    assert.ok(is(e), `expected ${what}, got ${String(e)}`);
    return e;
  }
  assert.fail(`expected ${what}, but it succeeded`);
}
