/**
 * StateStore on Alibaba Cloud Tablestore (OTS) through the official `tablestore` SDK. One table,
 * primary key `pk`, `sk` (both STRING); attributes stored as typed columns
 * (tablestore-codec.ts); conditions evaluated by Tablestore in the write itself
 * (tablestore-conditions.ts). Expiry stays in code (`expiresAt`): Tablestore's TTL is per table,
 * at least a day and lazy, so the table's TTL is cleanup only (issue 10).
 *
 * SDK traps handled here (deploy-stack.md, Alibaba "Tablestore"):
 * - its retry compares the wrong field and sleeps up to 3 s, so it is switched off
 *   (`maxRetries: 0`, which the SDK applies process-wide) and this adapter retries throttling
 *   itself, bounded, with jittered backoff (tablestore-errors.ts says what is retried);
 * - its requests cannot be aborted: a call races the caller's signal and rejects with
 *   `state_deadline` when it fires (the late answer is dropped), and each HTTP request has a
 *   socket timeout;
 * - a failed condition is HTTP 403 `OTSConditionCheckFail` and carries no row: the adapter
 *   reads the row back to report `current`.
 */
import { Agent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import TableStore from 'tablestore';
import { ChannelError } from '../errors.js';
import { maskSecrets } from '../log.js';
import { deadlineError } from './deadline.js';
import type {
  CallOptions,
  Condition,
  QueryOptions,
  StateItem,
  StateStore,
  StateValue,
  WriteResult,
} from './port.js';
import { itemColumns, rowToItem, updateColumns } from './tablestore-codec.js';
import { compileCondition } from './tablestore-conditions.js';
import { classifyError, type OtsErrorInfo } from './tablestore-errors.js';
import { checkCondition, checkKey, checkLimit, checkSize, copyItem, copyUpdate } from './values.js';

export { ensureTablestoreTable } from './tablestore-table.js';

/** Tablestore's limit on a string primary key column (stricter than DynamoDB's 2 KB for pk). */
export const MAX_TABLESTORE_KEY_BYTES = 1024;
/** An update at least this large reads the row first to enforce the portable item size. */
const LARGE_UPDATE_BYTES = 64 * 1024;

export interface TablestoreStateStoreOptions {
  /** Instance endpoint, e.g. https://myinst.cn-hangzhou.ots.aliyuncs.com. */
  endpoint: string;
  instance: string;
  tableName: string;
  accessKeyId: string;
  accessKeySecret: string;
  /** STS token (Function Compute sets one for a role). */
  securityToken?: string;
  /** Rows per GetRange page (default: Tablestore's own 5,000 / 4 MB pages). */
  queryPageSize?: number;
  /** Socket timeout of one request (default 5 s). */
  requestTimeoutMs?: number;
  /** Adapter retry of throttled calls: attempts in all (default 4), backoff base and cap. */
  retry?: { attempts?: number; baseMs?: number; maxMs?: number };
}

export const DEFAULT_TABLESTORE_TIMEOUT_MS = 5_000;

type Outcome<T> = { ok: true; value: T } | { ok: false };
type Key = Array<Record<string, unknown>>;

/** The Tablestore adapter of the StateStore port. */
export class TablestoreStateStore implements StateStore {
  readonly tableName: string;
  readonly #client: TableStore.Client;
  readonly #agent: Agent;
  readonly #pageSize: number | undefined;
  readonly #attempts: number;
  readonly #baseMs: number;
  readonly #maxMs: number;
  #closed = false;

  constructor(options: TablestoreStateStoreOptions) {
    if (!options.tableName) throw new ChannelError('invalid_state_input', 'tableName is required');
    this.tableName = options.tableName;
    const https = options.endpoint.startsWith('https:');
    this.#agent = https ? new HttpsAgent({ keepAlive: true }) : new Agent({ keepAlive: true });
    this.#client = new TableStore.Client({
      accessKeyId: options.accessKeyId,
      secretAccessKey: options.accessKeySecret,
      ...(options.securityToken ? { stsToken: options.securityToken } : {}),
      endpoint: options.endpoint,
      instancename: options.instance,
      maxRetries: 0,
      httpOptions: {
        timeout: options.requestTimeoutMs ?? DEFAULT_TABLESTORE_TIMEOUT_MS,
        agent: this.#agent,
      } as never,
    });
    this.#pageSize = options.queryPageSize;
    this.#attempts = Math.max(1, options.retry?.attempts ?? 4);
    this.#baseMs = options.retry?.baseMs ?? 25;
    this.#maxMs = options.retry?.maxMs ?? 400;
  }

  async get(pk: string, sk: string, options?: CallOptions): Promise<StateItem | undefined> {
    checkTablestoreKey(pk, sk);
    return this.#read(pk, sk, options?.signal);
  }

  async put(item: StateItem, condition?: Condition, options?: CallOptions): Promise<WriteResult> {
    const stored = copyItem(item);
    checkTablestoreKey(stored.pk, stored.sk);
    return this.#write('PutRow', stored.pk, stored.sk, condition, options?.signal, (c) =>
      this.#client.putRow({
        tableName: this.tableName,
        condition: c,
        primaryKey: primaryKey(stored.pk, stored.sk),
        attributeColumns: itemColumns(stored),
        returnContent: { returnType: TableStore.ReturnType.NONE },
      } as never),
    );
  }

  async update(
    pk: string,
    sk: string,
    set: Record<string, StateValue | undefined>,
    condition?: Condition,
    options?: CallOptions,
  ): Promise<WriteResult> {
    checkTablestoreKey(pk, sk);
    const changes = copyUpdate(set);
    if (Buffer.byteLength(JSON.stringify(changes)) >= LARGE_UPDATE_BYTES) {
      // Tablestore itself takes far larger rows; this keeps the portable 400 KB item limit for
      // updates that can reach it (smaller ones can only creep towards it, see the report).
      const current = await this.#read(pk, sk, options?.signal);
      const merged: StateItem = { ...(current ?? { pk, sk }) };
      for (const [name, value] of Object.entries(changes)) {
        if (value === undefined) delete merged[name];
        else merged[name] = value;
      }
      checkSize(merged);
    }
    return this.#write('UpdateRow', pk, sk, condition, options?.signal, (c) =>
      this.#client.updateRow({
        tableName: this.tableName,
        condition: c,
        primaryKey: primaryKey(pk, sk),
        updateOfAttributeColumns: updateColumns(changes),
        returnContent: { returnType: TableStore.ReturnType.NONE },
      } as never),
    );
  }

  async delete(
    pk: string,
    sk: string,
    condition?: Condition,
    options?: CallOptions,
  ): Promise<WriteResult> {
    checkTablestoreKey(pk, sk);
    return this.#write('DeleteRow', pk, sk, condition, options?.signal, (c) =>
      this.#client.deleteRow({
        tableName: this.tableName,
        condition: c,
        primaryKey: primaryKey(pk, sk),
      } as never),
    );
  }

  async query(pk: string, options: QueryOptions = {}): Promise<StateItem[]> {
    checkTablestoreKey(pk, 'query');
    checkLimit(options.limit);
    const prefix = options.skPrefix ?? '';
    const upper = prefix ? prefixUpperBound(prefix) : undefined;
    const end: Key = [{ pk }, { sk: upper ?? TableStore.INF_MAX }];
    let start: Key = [{ pk }, { sk: prefix || TableStore.INF_MIN }];
    const items: StateItem[] = [];
    for (;;) {
      const remaining = options.limit === undefined ? undefined : options.limit - items.length;
      const pageLimit = minDefined(remaining, this.#pageSize);
      const outcome = await this.#call('GetRange', 'read', options.signal, () =>
        this.#client.getRange({
          tableName: this.tableName,
          direction: TableStore.Direction.FORWARD,
          inclusiveStartPrimaryKey: start,
          exclusiveEndPrimaryKey: end,
          maxVersions: 1,
          ...(pageLimit === undefined ? {} : { limit: pageLimit }),
        } as never),
      );
      if (!outcome.ok) throw this.#unexpectedCondition('GetRange');
      const page = outcome.value as {
        rows?: unknown[];
        nextStartPrimaryKey?: Array<{ name: string; value: unknown }> | null;
      };
      for (const row of page.rows ?? []) {
        const item = rowToItem(row as never);
        if (item) items.push(item);
      }
      const next = page.nextStartPrimaryKey;
      if (!next || next.length === 0) break;
      if (options.limit !== undefined && items.length >= options.limit) break;
      start = next.map((c) => ({ [c.name]: c.value }));
    }
    return options.limit === undefined ? items : items.slice(0, options.limit);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#agent.destroy();
  }

  async #read(pk: string, sk: string, signal: AbortSignal | undefined) {
    const outcome = await this.#call('GetRow', 'read', signal, () =>
      this.#client.getRow({
        tableName: this.tableName,
        primaryKey: primaryKey(pk, sk),
        maxVersions: 1,
      } as never),
    );
    if (!outcome.ok) throw this.#unexpectedCondition('GetRow');
    return rowToItem((outcome.value as { row?: never }).row);
  }

  /** A conditional write; a failed condition reads the row to report `current`. */
  async #write(
    operation: string,
    pk: string,
    sk: string,
    condition: Condition | undefined,
    signal: AbortSignal | undefined,
    send: (condition: TableStore.Condition) => Promise<unknown>,
  ): Promise<WriteResult> {
    if (condition) checkCondition(condition);
    const compiled = compileCondition(condition);
    this.#checkOpen();
    if (compiled.unsatisfiable) return { ok: false, current: await this.#read(pk, sk, signal) };
    const outcome = await this.#call(operation, 'write', signal, () => send(compiled.condition));
    if (outcome.ok) return { ok: true };
    return { ok: false, current: await this.#read(pk, sk, signal) };
  }

  /** One SDK call with the adapter's retry, the caller's deadline and error mapping. */
  async #call<T>(
    operation: string,
    kind: 'read' | 'write',
    signal: AbortSignal | undefined,
    call: () => Promise<T>,
  ): Promise<Outcome<T>> {
    for (let attempt = 1; ; attempt++) {
      this.#checkOpen();
      if (signal?.aborted)
        throw deadlineError(`Tablestore ${operation}`, this.tableName, signal.reason);
      try {
        return { ok: true, value: await raceSignal(call(), signal, operation, this.tableName) };
      } catch (err) {
        if (err instanceof ChannelError) throw err;
        const info = classifyError(err);
        if (info.kind === 'condition') return { ok: false };
        const retry = info.kind === 'throttled' || (info.kind === 'uncertain' && kind === 'read');
        if (!retry || attempt >= this.#attempts) throw this.#error(operation, kind, info, err);
        const cap = Math.min(this.#maxMs, this.#baseMs * 2 ** (attempt - 1));
        // Full jitter: concurrent callers throttled together do not retry together.
        await sleep(Math.random() * cap, undefined, signal ? { signal } : {}).catch(() => {
          throw deadlineError(`Tablestore ${operation}`, this.tableName, signal?.reason);
        });
      }
    }
  }

  #checkOpen(): void {
    if (this.#closed) throw new ChannelError('state_unavailable', 'state store is closed');
  }

  #unexpectedCondition(operation: string): ChannelError {
    return new ChannelError(
      'state_unavailable',
      `Tablestore ${operation} on table ${this.tableName} answered a condition failure to a read`,
      { retryable: true },
    );
  }

  /** Wraps an SDK failure; the message names the operation and table, never a credential. */
  #error(
    operation: string,
    kind: 'read' | 'write',
    info: OtsErrorInfo,
    err: unknown,
  ): ChannelError {
    const where = `Tablestore ${operation} on table ${this.tableName}`;
    const detail = maskSecrets(`${info.code}: ${info.message}`);
    if (
      info.code === 'OTSRequestBodyTooLarge' ||
      (info.code === 'OTSParameterInvalid' && /exceeds the MaxLength/i.test(info.message))
    ) {
      // Tablestore's own size limits (2 MB per value, 4 MB per request): retrying cannot help.
      return new ChannelError(
        'state_item_too_large',
        `${where} was refused as too large: ${detail}`,
        {
          cause: err,
        },
      );
    }
    if (info.code === 'OTSParameterInvalid') {
      return new ChannelError('invalid_state_input', `${where} was refused: ${detail}`, {
        cause: err,
      });
    }
    if (info.code === 'OTSAuthFailed' || info.code === 'OTSNoPermissionAccess') {
      return new ChannelError('state_unavailable', `${where} was not authorized: ${detail}`, {
        cause: err,
        retryable: false,
      });
    }
    const unknownOutcome =
      kind === 'write' && info.kind === 'uncertain'
        ? ' (the write may or may not have happened)'
        : '';
    return new ChannelError('state_unavailable', `${where} failed${unknownOutcome}: ${detail}`, {
      cause: err,
      retryable: true,
    });
  }
}

function primaryKey(pk: string, sk: string): Key {
  return [{ pk }, { sk }];
}

/** The port's key rules plus Tablestore's 1 KB limit on a string primary key column. */
function checkTablestoreKey(pk: string, sk: string): void {
  checkKey(pk, sk);
  if (Buffer.byteLength(pk) > MAX_TABLESTORE_KEY_BYTES) {
    throw new ChannelError(
      'invalid_state_input',
      `state key pk exceeds Tablestore's ${MAX_TABLESTORE_KEY_BYTES} bytes`,
    );
  }
}

/**
 * The least string above every string starting with `prefix`, in UTF-8 byte order (which is
 * code point order): the prefix with its last code point incremented (dropping trailing
 * U+10FFFF). undefined = no such bound (scan to INF_MAX).
 */
export function prefixUpperBound(prefix: string): string | undefined {
  const points = [...prefix].map((c) => c.codePointAt(0)!);
  while (points.length > 0) {
    const last = points.pop()!;
    if (last >= 0x10ffff) continue;
    const next = last + 1 === 0xd800 ? 0xe000 : last + 1;
    return String.fromCodePoint(...points, next);
  }
  return undefined;
}

function raceSignal<T>(
  promise: Promise<T>,
  signal: AbortSignal | undefined,
  operation: string,
  table: string,
): Promise<T> {
  if (!signal) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      promise.catch(() => undefined); // the late answer is dropped
      reject(deadlineError(`Tablestore ${operation}`, table, signal.reason));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

function minDefined(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.min(a, b);
}
