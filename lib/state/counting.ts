/**
 * A StateStore decorator that counts the operations passing through it, so tests and
 * benchmarks can show what one message costs in store round trips (each one is a billed
 * request on DynamoDB or Tablestore). Behaviour is the inner store's, unchanged; a call is
 * counted when it is made, whether it then succeeds, fails its condition or throws.
 */
import type { StateStore } from './port.js';

/** The counted primitives of the port (`close` is not an operation on data). */
export type StoreOperation = 'get' | 'put' | 'update' | 'delete' | 'query';

/** A store that counts its calls; `total()` sums them and `reset()` zeroes them. */
export interface CountingStateStore extends StateStore {
  readonly counts: Record<StoreOperation, number>;
  total(): number;
  reset(): void;
}

function zeroCounts(): Record<StoreOperation, number> {
  return { get: 0, put: 0, update: 0, delete: 0, query: 0 };
}

/** Wraps `inner`; closing the wrapper closes `inner`. */
export function countingStore(inner: StateStore): CountingStateStore {
  const counts = zeroCounts();
  return {
    counts,
    total: () => Object.values(counts).reduce((sum, n) => sum + n, 0),
    reset() {
      Object.assign(counts, zeroCounts());
    },
    get(pk, sk, options) {
      counts.get += 1;
      return inner.get(pk, sk, options);
    },
    put(item, condition, options) {
      counts.put += 1;
      return inner.put(item, condition, options);
    },
    update(pk, sk, set, condition, options) {
      counts.update += 1;
      return inner.update(pk, sk, set, condition, options);
    },
    delete(pk, sk, condition, options) {
      counts.delete += 1;
      return inner.delete(pk, sk, condition, options);
    },
    query(pk, options) {
      counts.query += 1;
      return inner.query(pk, options);
    },
    close: () => inner.close(),
  };
}
