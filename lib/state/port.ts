/**
 * The StateStore port (architecture.md "Ports"): a handful of primitives that DynamoDB,
 * Tablestore and memory can all implement without transactions.
 *
 * - Items live in one table keyed by partition `pk` and sort key `sk` (layout: lib/state/keys.ts).
 * - Attribute values are JSON-compatible: string, number, boolean, null, arrays and plain objects.
 * - `expiresAt` (epoch **seconds**, the unit DynamoDB TTL wants) marks an expiring record. The store
 *   never hides an expired item: storage TTL is lazy cleanup, so every caller compares
 *   `expiresAt` with its clock in code (conditions below make that atomic).
 * - Conditional writes are the only concurrency tool. A write whose condition fails resolves to
 *   `{ ok: false, current }` with the item as it stood (undefined when absent); it never throws.
 */

export type StateValue =
  | string
  | number
  | boolean
  | null
  | StateValue[]
  | { [k: string]: StateValue };

export interface StateItem {
  pk: string;
  sk: string;
  /** Epoch seconds after which the record is dead. Checked in code, also used as storage TTL. */
  expiresAt?: number;
  [attribute: string]: StateValue | undefined;
}

/** A portable condition over the item currently stored under the key. */
export type Condition =
  | { kind: 'notExists' }
  | { kind: 'exists' }
  | { kind: 'equals'; name: string; value: string | number | boolean }
  | { kind: 'lessThan'; name: string; value: number }
  | { kind: 'or'; conditions: Condition[] }
  | { kind: 'and'; conditions: Condition[] };

export type WriteResult = { ok: true } | { ok: false; current: StateItem | undefined };

/**
 * Per-call options. `signal` carries the caller's remaining time (issue: deadlines reach the
 * store): an adapter aborts its request when it fires and rejects with a retryable
 * `state_deadline` error, so a hung store ends the attempt while a retry can still run.
 */
export interface CallOptions {
  signal?: AbortSignal;
}

export interface QueryOptions extends CallOptions {
  /** Only items whose `sk` starts with this prefix. */
  skPrefix?: string;
  /** At most this many items, in ascending `sk` order. */
  limit?: number;
}

export interface StateStore {
  get(pk: string, sk: string, options?: CallOptions): Promise<StateItem | undefined>;
  /** Writes the whole item (replacing any old one) if `condition` holds. */
  put(item: StateItem, condition?: Condition, options?: CallOptions): Promise<WriteResult>;
  /** Sets the given attributes (others kept; `undefined` removes one) if `condition` holds.
   * Without a condition an absent item is created. */
  update(
    pk: string,
    sk: string,
    set: Record<string, StateValue | undefined>,
    condition?: Condition,
    options?: CallOptions,
  ): Promise<WriteResult>;
  /** Deletes the item if `condition` holds (deleting an absent item with no condition is ok). */
  delete(
    pk: string,
    sk: string,
    condition?: Condition,
    options?: CallOptions,
  ): Promise<WriteResult>;
  /** Items of one partition in ascending `sk` order. */
  query(pk: string, options?: QueryOptions): Promise<StateItem[]>;
  /** Releases connections and timers. */
  close(): Promise<void>;
}

/** Condition helpers, so call sites read as the rule they implement. */
export const cond = {
  notExists: (): Condition => ({ kind: 'notExists' }),
  exists: (): Condition => ({ kind: 'exists' }),
  equals: (name: string, value: string | number | boolean): Condition => ({
    kind: 'equals',
    name,
    value,
  }),
  lessThan: (name: string, value: number): Condition => ({ kind: 'lessThan', name, value }),
  or: (...conditions: Condition[]): Condition => ({ kind: 'or', conditions }),
  and: (...conditions: Condition[]): Condition => ({ kind: 'and', conditions }),
  /** Absent, or present with `expiresAt` before `nowSeconds`: the usual "claim if free" rule. */
  absentOrExpired: (nowSeconds: number): Condition => ({
    kind: 'or',
    conditions: [{ kind: 'notExists' }, { kind: 'lessThan', name: 'expiresAt', value: nowSeconds }],
  }),
};

/** Epoch seconds for a clock reading in milliseconds. */
export const toEpochSeconds = (ms: number): number => Math.floor(ms / 1000);
