/**
 * The local store behind `npm start` (architecture.md "Runtime modes"): dynalite persisting to
 * `<stateDir>/dynalite`, reachable by other processes through `<stateDir>/endpoint.json`
 * (discovery and ownership: embedded-connect.ts).
 *
 * Ownership can move. If `npm start` began while a short CLI command (`dingtalk-channel pairing
 * list`) owned the store, it is a guest; when that CLI exits, the guest's next request is refused,
 * and the guest re-runs discovery — becoming the owner — and sends the request again. Only a
 * refused connection is retried (the request never reached dynalite, so the retry cannot apply a
 * conditional write twice); any other failure surfaces as `state_unavailable`.
 */

import {
  acquireEmbedded,
  type EmbeddedConnection,
  type EmbeddedStoreOptions,
} from './embedded-connect.js';
import type {
  Condition,
  QueryOptions,
  StateItem,
  StateStore,
  StateValue,
  WriteResult,
} from './port.js';

export type { EmbeddedStoreOptions } from './embedded-connect.js';

/** A StateStore on the embedded dynalite; `owned` says whether this process runs dynalite now. */
export class EmbeddedStateStore implements StateStore {
  readonly #options: EmbeddedStoreOptions;
  #connection: EmbeddedConnection;
  #reconnecting: Promise<EmbeddedConnection> | undefined;
  #closing: Promise<void> | undefined;

  constructor(connection: EmbeddedConnection, options: EmbeddedStoreOptions) {
    this.#connection = connection;
    this.#options = options;
  }

  /** `http://127.0.0.1:<port>` of the dynalite in use. */
  get endpoint(): string {
    return this.#connection.endpoint;
  }

  /** True when this process runs dynalite (and removes endpoint.json on close). */
  get owned(): boolean {
    return this.#connection.owned;
  }

  get(pk: string, sk: string): Promise<StateItem | undefined> {
    return this.#run((s) => s.get(pk, sk));
  }

  put(item: StateItem, condition?: Condition): Promise<WriteResult> {
    return this.#run((s) => s.put(item, condition));
  }

  update(
    pk: string,
    sk: string,
    set: Record<string, StateValue | undefined>,
    condition?: Condition,
  ): Promise<WriteResult> {
    return this.#run((s) => s.update(pk, sk, set, condition));
  }

  delete(pk: string, sk: string, condition?: Condition): Promise<WriteResult> {
    return this.#run((s) => s.delete(pk, sk, condition));
  }

  query(pk: string, options?: QueryOptions): Promise<StateItem[]> {
    return this.#run((s) => s.query(pk, options));
  }

  /** Deletes items whose `expiresAt` has passed (dynalite has no TTL); returns how many went. */
  sweepExpired(nowSeconds?: number): Promise<number> {
    return this.#connection.sweep(nowSeconds);
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      const pending = this.#reconnecting?.catch(() => undefined);
      await pending;
      await this.#connection.close();
    })();
    return this.#closing;
  }

  async #run<T>(operation: (store: StateStore) => Promise<T>): Promise<T> {
    const connection = this.#connection;
    try {
      return await operation(connection.store);
    } catch (err) {
      if (connection.owned || this.#closing || !ownerGone(err)) throw err;
      return operation((await this.#reconnect(connection)).store);
    }
  }

  /** One reconnect at a time; callers that failed on the same old connection share it. */
  #reconnect(old: EmbeddedConnection): Promise<EmbeddedConnection> {
    if (this.#connection !== old) return Promise.resolve(this.#connection);
    this.#reconnecting ??= (async () => {
      this.#options.logger?.warn('state.embedded.owner_gone', { endpoint: old.endpoint });
      try {
        // If this fails, the old connection stays in place and the next request tries again.
        this.#connection = await acquireEmbedded(this.#options);
      } finally {
        this.#reconnecting = undefined;
      }
      await old.close();
      return this.#connection;
    })();
    return this.#reconnecting;
  }
}

/** Opens the local store: connects to the process that owns it, or becomes the owner. */
export async function openEmbeddedStore(
  options: EmbeddedStoreOptions,
): Promise<EmbeddedStateStore> {
  return new EmbeddedStateStore(await acquireEmbedded(options), options);
}

/** The owner stopped listening: the connection was refused, so the request was never handled. */
function ownerGone(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; depth++) {
    if ((e as { code?: unknown }).code === 'ECONNREFUSED') return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}
