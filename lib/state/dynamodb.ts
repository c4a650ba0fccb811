/**
 * StateStore on DynamoDB (and on dynalite, which speaks the same wire protocol): one table,
 * partition key `pk` (S), sort key `sk` (S), TTL attribute `expiresAt` (N, epoch seconds).
 *
 * A failed condition resolves to `{ ok: false, current }`. We ask DynamoDB for the old item with
 * `ReturnValuesOnConditionCheckFailure: ALL_OLD` (no second read). dynalite 4 ignores that
 * parameter, so when the exception carries no item we read it with a consistent get instead
 * (on DynamoDB that only happens when the item was absent). Verified in test/state/dynamodb.test.ts.
 */
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { ChannelError } from '../errors.js';
import { maskSecrets } from '../log.js';
import { deadlineError } from './deadline.js';
import {
  compileCondition,
  compileUpdate,
  ExpressionContext,
  marshallValue,
} from './expressions.js';
import type {
  CallOptions,
  Condition,
  QueryOptions,
  StateItem,
  StateStore,
  StateValue,
  WriteResult,
} from './port.js';
import { checkCondition, checkKey, checkLimit, copyItem, copyUpdate } from './values.js';

export { ensureTable, localDynamoClient } from './dynamodb-table.js';

export interface DynamoStateStoreOptions {
  tableName: string;
  region?: string;
  endpoint?: string;
  /** A ready client (its owner closes it); otherwise one is created and destroyed on close(). */
  client?: DynamoDBClient;
  /** Items per Query page (default: DynamoDB's own 1 MB pages). Small values exercise paging in tests. */
  queryPageSize?: number;
  /** Bound of one HTTP request (default 5 s) and of opening its connection (default 2 s). */
  requestTimeoutMs?: number;
  connectionTimeoutMs?: number;
}

/** DynamoDB answers in milliseconds; a request still open after this is a hung store. */
export const DEFAULT_STORE_REQUEST_TIMEOUT_MS = 5_000;
export const DEFAULT_STORE_CONNECTION_TIMEOUT_MS = 2_000;

type Key = Record<string, AttributeValue>;

/** The DynamoDB adapter of the StateStore port. */
export class DynamoStateStore implements StateStore {
  readonly tableName: string;
  readonly #client: DynamoDBClient;
  readonly #ownsClient: boolean;
  readonly #pageSize: number | undefined;
  #closed = false;

  constructor(options: DynamoStateStoreOptions) {
    if (!options.tableName) throw new ChannelError('invalid_state_input', 'tableName is required');
    this.tableName = options.tableName;
    this.#ownsClient = !options.client;
    this.#client =
      options.client ??
      new DynamoDBClient({
        ...(options.region ? { region: options.region } : {}),
        ...(options.endpoint ? { endpoint: options.endpoint } : {}),
        // Without these the SDK waits forever on a store that accepts and never answers.
        requestHandler: {
          requestTimeout: options.requestTimeoutMs ?? DEFAULT_STORE_REQUEST_TIMEOUT_MS,
          connectionTimeout: options.connectionTimeoutMs ?? DEFAULT_STORE_CONNECTION_TIMEOUT_MS,
        },
      });
    this.#pageSize = options.queryPageSize;
  }

  async get(pk: string, sk: string, options?: CallOptions): Promise<StateItem | undefined> {
    checkKey(pk, sk);
    return this.#read(key(pk, sk), options?.signal);
  }

  async put(item: StateItem, condition?: Condition, options?: CallOptions): Promise<WriteResult> {
    const stored = copyItem(item);
    const ctx = new ExpressionContext();
    const expression = this.#conditionExpression(condition, ctx);
    const command = new PutItemCommand({
      TableName: this.tableName,
      Item: marshall(stored, { removeUndefinedValues: true }),
      ...(expression ? { ConditionExpression: expression, ...ctx.fields() } : {}),
      ...(expression ? { ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const } : {}),
    });
    return this.#write('PutItem', key(stored.pk, stored.sk), command, options?.signal);
  }

  async update(
    pk: string,
    sk: string,
    set: Record<string, StateValue | undefined>,
    condition?: Condition,
    options?: CallOptions,
  ): Promise<WriteResult> {
    checkKey(pk, sk);
    const changes = copyUpdate(set);
    const ctx = new ExpressionContext();
    const condExpression = this.#conditionExpression(condition, ctx);
    const updateExpression = compileUpdate(changes, ctx);
    const command = new UpdateItemCommand({
      TableName: this.tableName,
      Key: key(pk, sk),
      ...(updateExpression ? { UpdateExpression: updateExpression } : {}),
      ...(condExpression ? { ConditionExpression: condExpression } : {}),
      ...(condExpression ? { ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const } : {}),
      ...ctx.fields(),
    });
    return this.#write('UpdateItem', key(pk, sk), command, options?.signal);
  }

  async delete(
    pk: string,
    sk: string,
    condition?: Condition,
    options?: CallOptions,
  ): Promise<WriteResult> {
    checkKey(pk, sk);
    const ctx = new ExpressionContext();
    const expression = this.#conditionExpression(condition, ctx);
    const command = new DeleteItemCommand({
      TableName: this.tableName,
      Key: key(pk, sk),
      ...(expression ? { ConditionExpression: expression, ...ctx.fields() } : {}),
      ...(expression ? { ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const } : {}),
    });
    return this.#write('DeleteItem', key(pk, sk), command, options?.signal);
  }

  async query(pk: string, options: QueryOptions = {}): Promise<StateItem[]> {
    checkKey(pk, 'query');
    checkLimit(options.limit);
    const ctx = new ExpressionContext();
    let keyCondition = `${ctx.name('pk')} = ${ctx.value(pk)}`;
    if (options.skPrefix) {
      keyCondition += ` AND begins_with(${ctx.name('sk')}, ${ctx.value(options.skPrefix)})`;
    }
    const items: StateItem[] = [];
    let startKey: Key | undefined;
    do {
      const remaining = options.limit === undefined ? undefined : options.limit - items.length;
      const pageLimit = minDefined(remaining, this.#pageSize);
      const page = await this.#send('Query', options.signal, (abortSignal) =>
        this.#client.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: keyCondition,
            ConsistentRead: true,
            ...ctx.fields(),
            ...(pageLimit === undefined ? {} : { Limit: pageLimit }),
            ...(startKey ? { ExclusiveStartKey: startKey } : {}),
          }),
          { abortSignal },
        ),
      );
      for (const raw of page.Items ?? []) items.push(unmarshall(raw) as StateItem);
      startKey = page.LastEvaluatedKey;
    } while (startKey && (options.limit === undefined || items.length < options.limit));
    return items;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#ownsClient) this.#client.destroy();
  }

  #conditionExpression(
    condition: Condition | undefined,
    ctx: ExpressionContext,
  ): string | undefined {
    if (!condition) return undefined;
    checkCondition(condition);
    return compileCondition(condition, ctx);
  }

  async #read(itemKey: Key, signal: AbortSignal | undefined): Promise<StateItem | undefined> {
    const out = await this.#send('GetItem', signal, (abortSignal) =>
      this.#client.send(
        new GetItemCommand({ TableName: this.tableName, Key: itemKey, ConsistentRead: true }),
        { abortSignal },
      ),
    );
    return out.Item ? (unmarshall(out.Item) as StateItem) : undefined;
  }

  /** Runs a conditional write; a failed condition becomes `{ ok: false, current }`. */
  async #write(
    operation: string,
    itemKey: Key,
    command: PutItemCommand | UpdateItemCommand | DeleteItemCommand,
    signal: AbortSignal | undefined,
  ): Promise<WriteResult> {
    try {
      this.#checkOpen();
      if (signal?.aborted) throw deadlineError(`DynamoDB ${operation}`, this.tableName);
      await this.#client.send(command as PutItemCommand, { abortSignal: signal });
      return { ok: true };
    } catch (err) {
      if (!isConditionFailure(err)) throw this.#unavailable(operation, err, signal);
      const returned = (err as { Item?: Key }).Item;
      const current = returned
        ? (unmarshall(returned) as StateItem)
        : await this.#read(itemKey, signal);
      return { ok: false, current };
    }
  }

  async #send<T>(
    operation: string,
    signal: AbortSignal | undefined,
    call: (abortSignal: AbortSignal | undefined) => Promise<T>,
  ): Promise<T> {
    try {
      this.#checkOpen();
      if (signal?.aborted) throw deadlineError(`DynamoDB ${operation}`, this.tableName);
      return await call(signal);
    } catch (err) {
      throw this.#unavailable(operation, err, signal);
    }
  }

  #checkOpen(): void {
    if (this.#closed) throw new ChannelError('state_unavailable', 'state store is closed');
  }

  /** Wraps an SDK failure (DynamoDB error messages carry no credentials; registered secrets are masked anyway). */
  #unavailable(operation: string, err: unknown, signal?: AbortSignal): ChannelError {
    if (err instanceof ChannelError) return err;
    if (signal?.aborted) return deadlineError(`DynamoDB ${operation}`, this.tableName, err);
    if (isSizeRejection(err)) {
      return new ChannelError(
        'state_item_too_large',
        `DynamoDB ${operation}: item exceeds 400 KB`,
        {
          cause: err,
        },
      );
    }
    const detail = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    return new ChannelError(
      'state_unavailable',
      `DynamoDB ${operation} on table ${this.tableName} failed: ${maskSecrets(detail).slice(0, 300)}`,
      { cause: err, retryable: true },
    );
  }
}

function key(pk: string, sk: string): Key {
  return { pk: marshallValue(pk), sk: marshallValue(sk) };
}

function isConditionFailure(err: unknown): boolean {
  return (
    err instanceof ConditionalCheckFailedException ||
    (err as { name?: unknown } | null)?.name === 'ConditionalCheckFailedException'
  );
}

/** DynamoDB refuses items over 400 KB with a ValidationException; retrying cannot help. */
function isSizeRejection(err: unknown): boolean {
  return (
    err instanceof Error && err.name === 'ValidationException' && /item size/i.test(err.message)
  );
}

function minDefined(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.min(a, b);
}
