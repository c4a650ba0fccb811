/**
 * In-process StateStore with DynamoDB's semantics for the port: items are copied in and out
 * (callers never share objects with the store), a conditional write checks and writes in one
 * synchronous step (so it is atomic under Node's event loop), and queries return items in
 * ascending UTF-8 byte order of `sk`, as DynamoDB does. For unit tests and single-process use.
 */
import { ChannelError } from '../errors.js';
import { evaluateCondition } from './conditions.js';
import { checkDeadline } from './deadline.js';
import type {
  CallOptions,
  Condition,
  QueryOptions,
  StateItem,
  StateStore,
  StateValue,
  WriteResult,
} from './port.js';
import {
  checkCondition,
  checkKey,
  checkLimit,
  checkSize,
  compareSortKeys,
  copyItem,
  copyUpdate,
} from './values.js';

/** A StateStore held in a Map; contents vanish with the process. */
export class MemoryStateStore implements StateStore {
  readonly #partitions = new Map<string, Map<string, StateItem>>();
  readonly #onWrite: ((pk: string, sk: string, item: StateItem | undefined) => void) | undefined;
  #closed = false;

  /**
   * `onWrite` sees every applied change (the new item, or undefined for a delete) in the same
   * synchronous step as the change: the local store's journal (local.ts) hangs on it.
   */
  constructor(
    options: { onWrite?: (pk: string, sk: string, item: StateItem | undefined) => void } = {},
  ) {
    this.#onWrite = options.onWrite;
  }

  /** Every stored item (shared, not copied: for snapshots that serialise at once). */
  *items(): IterableIterator<StateItem> {
    for (const partition of this.#partitions.values()) yield* partition.values();
  }

  async get(pk: string, sk: string, options?: CallOptions): Promise<StateItem | undefined> {
    this.#checkOpen();
    checkDeadline(options, 'get', 'memory');
    checkKey(pk, sk);
    return cloneOut(this.#read(pk, sk));
  }

  async put(item: StateItem, condition?: Condition, options?: CallOptions): Promise<WriteResult> {
    this.#checkOpen();
    checkDeadline(options, 'put', 'memory');
    const stored = copyItem(item);
    if (condition) checkCondition(condition);
    return this.#conditionally(stored.pk, stored.sk, condition, () => stored);
  }

  async update(
    pk: string,
    sk: string,
    set: Record<string, StateValue | undefined>,
    condition?: Condition,
    options?: CallOptions,
  ): Promise<WriteResult> {
    this.#checkOpen();
    checkDeadline(options, 'update', 'memory');
    checkKey(pk, sk);
    const changes = copyUpdate(set);
    if (condition) checkCondition(condition);
    return this.#conditionally(pk, sk, condition, (old) => {
      // Like DynamoDB's UpdateItem, an update of an absent item creates it (keys + set values).
      const next: StateItem = old ? structuredClone(old) : { pk, sk };
      for (const [name, value] of Object.entries(changes)) {
        if (value === undefined) delete next[name];
        else next[name] = value;
      }
      checkSize(next);
      return next;
    });
  }

  async delete(
    pk: string,
    sk: string,
    condition?: Condition,
    options?: CallOptions,
  ): Promise<WriteResult> {
    this.#checkOpen();
    checkDeadline(options, 'delete', 'memory');
    checkKey(pk, sk);
    if (condition) checkCondition(condition);
    return this.#conditionally(pk, sk, condition, () => undefined);
  }

  async query(pk: string, options: QueryOptions = {}): Promise<StateItem[]> {
    this.#checkOpen();
    checkDeadline(options, 'query', 'memory');
    checkKey(pk, 'query');
    checkLimit(options.limit);
    const prefix = options.skPrefix ?? '';
    const matches = [...(this.#partitions.get(pk)?.values() ?? [])]
      .filter((item) => item.sk.startsWith(prefix))
      .sort((a, b) => compareSortKeys(a.sk, b.sk));
    const limited = options.limit === undefined ? matches : matches.slice(0, options.limit);
    return limited.map((item) => structuredClone(item));
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  /** Checks the condition and applies the change in one synchronous step (no await between). */
  #conditionally(
    pk: string,
    sk: string,
    condition: Condition | undefined,
    next: (old: StateItem | undefined) => StateItem | undefined,
  ): WriteResult {
    const old = this.#read(pk, sk);
    if (condition && !evaluateCondition(condition, old))
      return { ok: false, current: cloneOut(old) };
    const item = next(old);
    const partition = this.#partitions.get(pk);
    if (item) {
      if (partition) partition.set(sk, item);
      else this.#partitions.set(pk, new Map([[sk, item]]));
    } else if (partition) {
      partition.delete(sk);
      if (partition.size === 0) this.#partitions.delete(pk);
    }
    this.#onWrite?.(pk, sk, item);
    return { ok: true };
  }

  #read(pk: string, sk: string): StateItem | undefined {
    return this.#partitions.get(pk)?.get(sk);
  }

  #checkOpen(): void {
    if (this.#closed) throw new ChannelError('state_unavailable', 'state store is closed');
  }
}

function cloneOut(item: StateItem | undefined): StateItem | undefined {
  return item === undefined ? undefined : structuredClone(item);
}
