/**
 * A StateStore decorator that counts the operations passing through it, so tests and
 * benchmarks can show what one message costs in store round trips (each one is a billed
 * request on DynamoDB or Tablestore). Behaviour is the inner store's, unchanged; a call is
 * counted when it is made, whether it then succeeds, fails its condition or throws.
 *
 * `rounds()` counts sequential round trips: an operation that starts while no other is in
 * flight opens a new round; operations started while one runs share its round. For one message
 * at a time that is the length of its critical path through the store.
 */
import type { StateStore } from './port.js';

/** The counted primitives of the port (`close` is not an operation on data). */
export type StoreOperation = 'get' | 'put' | 'update' | 'delete' | 'query';

/** A store that counts its calls; `total()` sums them and `reset()` zeroes them. */
export interface CountingStateStore extends StateStore {
  readonly counts: Record<StoreOperation, number>;
  total(): number;
  /** Sequential round trips since the last reset (see the module comment). */
  rounds(): number;
  reset(): void;
}

function zeroCounts(): Record<StoreOperation, number> {
  return { get: 0, put: 0, update: 0, delete: 0, query: 0 };
}

/** Wraps `inner`; closing the wrapper closes `inner`. */
export function countingStore(inner: StateStore): CountingStateStore {
  const counts = zeroCounts();
  let inflight = 0;
  let rounds = 0;
  const counted = <T>(operation: StoreOperation, call: () => Promise<T>): Promise<T> => {
    counts[operation] += 1;
    if (inflight === 0) rounds += 1;
    inflight += 1;
    return call().finally(() => {
      inflight -= 1;
    });
  };
  return {
    counts,
    total: () => Object.values(counts).reduce((sum, n) => sum + n, 0),
    rounds: () => rounds,
    reset() {
      Object.assign(counts, zeroCounts());
      rounds = 0;
    },
    get: (pk, sk, options) => counted('get', () => inner.get(pk, sk, options)),
    put: (item, condition, options) => counted('put', () => inner.put(item, condition, options)),
    update: (pk, sk, set, condition, options) =>
      counted('update', () => inner.update(pk, sk, set, condition, options)),
    delete: (pk, sk, condition, options) =>
      counted('delete', () => inner.delete(pk, sk, condition, options)),
    query: (pk, options) => counted('query', () => inner.query(pk, options)),
    close: () => inner.close(),
  };
}
