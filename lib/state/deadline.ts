/**
 * Deadlines reach the store (issue "every message ends exactly once"): every store call of a
 * message carries the handler's remaining time as an abort signal. An adapter passes it to its
 * client (the request is aborted, not just abandoned) and turns the abort into one retryable
 * error, `state_deadline`, that names the operation and the table; a store outage then ends the
 * attempt in time for a retry, never after its deadline.
 */
import { ChannelError } from '../errors.js';
import type { CallOptions, StateStore } from './port.js';

/** The code of that error. */
export const STATE_DEADLINE = 'state_deadline';

/** The error every adapter raises when the caller's signal fired before the store answered. */
export function deadlineError(operation: string, table: string, cause?: unknown): ChannelError {
  return new ChannelError(
    STATE_DEADLINE,
    `${operation} on table ${table} did not finish before the handler's deadline`,
    { retryable: true, ...(cause === undefined ? {} : { cause }) },
  );
}

/** Throws `state_deadline` when the signal has already fired. */
export function checkDeadline(options: CallOptions | undefined, operation: string, table: string) {
  if (options?.signal?.aborted) throw deadlineError(operation, table, options.signal.reason);
}

/**
 * A view of `inner` whose every call carries `signal` and also settles when it fires, even if
 * the adapter cannot abort its request (the late answer is then ignored). Callers that already
 * pass their own options keep them.
 */
export function storeWithDeadline(
  inner: StateStore,
  signal: AbortSignal,
  table = 'state',
): StateStore {
  // One listener for the whole view (not one per call): every call races this promise.
  const ABORTED = Symbol('aborted');
  const aborted = new Promise<typeof ABORTED>((resolve) => {
    if (signal.aborted) resolve(ABORTED);
    else signal.addEventListener('abort', () => resolve(ABORTED), { once: true });
  });
  const bounded = async <T>(
    operation: string,
    call: (o: CallOptions) => Promise<T>,
  ): Promise<T> => {
    if (signal.aborted) throw deadlineError(operation, table, signal.reason);
    const result = await Promise.race([call({ signal }), aborted]);
    if (result === ABORTED) throw deadlineError(operation, table, signal.reason);
    return result as T;
  };
  return {
    get: (pk, sk, o) => bounded('get', (d) => inner.get(pk, sk, o ?? d)),
    put: (item, condition, o) => bounded('put', (d) => inner.put(item, condition, o ?? d)),
    update: (pk, sk, set, condition, o) =>
      bounded('update', (d) => inner.update(pk, sk, set, condition, o ?? d)),
    delete: (pk, sk, condition, o) =>
      bounded('delete', (d) => inner.delete(pk, sk, condition, o ?? d)),
    query: (pk, options) =>
      bounded('query', (d) => inner.query(pk, { ...options, signal: options?.signal ?? d.signal })),
    close: () => inner.close(),
  };
}
