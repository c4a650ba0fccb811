import { connect } from 'node:net';
import { DynamoDBClient, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChannelError } from '../../lib/errors.js';
import { DynamoStateStore, ensureTable } from '../../lib/state/dynamodb.js';
import { cond } from '../../lib/state/port.js';
import { startTestDynalite, type TestDynalite } from '../support/dynalite.js';
import { describeStateStoreContract } from './contract.js';

let db: TestDynalite;
let tables = 0;

beforeAll(async () => {
  db = await startTestDynalite();
});
afterAll(async () => {
  await db?.close();
});

describeStateStoreContract('DynamoStateStore on dynalite', async () => {
  const tableName = `contract-${++tables}`;
  const store = await db.openStore({ tableName });
  const pagedStore = await db.openStore({ tableName, queryPageSize: 3 });
  return { store, pagedStore };
});

describe('DynamoStateStore specifics', () => {
  it('dynalite ignores ReturnValuesOnConditionCheckFailure, so the store reads the item back', async () => {
    const key = { pk: { S: 'rv' }, sk: { S: 'x' } };
    await db.client.send(
      new PutItemCommand({ TableName: db.tableName, Item: { ...key, n: { N: '1' } } }),
    );
    const err = await db.client
      .send(
        new PutItemCommand({
          TableName: db.tableName,
          Item: key,
          ConditionExpression: 'attribute_not_exists(pk)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      )
      .then(
        () => ({ name: 'no error', Item: undefined }),
        (e: unknown) => e as { name: string; Item?: unknown },
      );
    expect(err.name).toBe('ConditionalCheckFailedException');
    expect(err.Item).toBeUndefined();
    // The port still reports the item as it stood.
    expect(await db.store.put({ pk: 'rv', sk: 'x' }, cond.notExists())).toEqual({
      ok: false,
      current: { pk: 'rv', sk: 'x', n: 1 },
    });
  });

  it('ensureTable is idempotent', async () => {
    await ensureTable(db.client, db.tableName);
    await ensureTable(db.client, db.tableName);
    await db.store.put({ pk: 'still', sk: 'there' });
    expect(await db.store.get('still', 'there')).toEqual({ pk: 'still', sk: 'there' });
  });

  it('a missing table surfaces as retryable state_unavailable with the cause', async () => {
    const store = new DynamoStateStore({ tableName: 'no-such-table', client: db.client });
    const err = await store.get('p', 's').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChannelError);
    expect(err).toMatchObject({ code: 'state_unavailable', retryable: true });
    expect((err as Error).message).toContain('no-such-table');
    expect((err as Error).cause).toMatchObject({ name: 'ResourceNotFoundException' });
    await store.close();
  });

  it('an unreachable endpoint surfaces as state_unavailable without credentials in the message', async () => {
    const secret = 'SECRET-never-in-errors-1234';
    const client = new DynamoDBClient({
      endpoint: 'http://127.0.0.1:9', // discard port: connection refused
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: secret },
      maxAttempts: 1,
    });
    const store = new DynamoStateStore({ tableName: 'any-table', client });
    const err = await store.put({ pk: 'p', sk: 's' }, cond.notExists()).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'state_unavailable', retryable: true });
    expect((err as Error).message).toContain('PutItem');
    expect((err as Error).message).not.toContain(secret);
    expect((err as Error).message).not.toContain('AKIDEXAMPLE');
    client.destroy();
  });

  it('really pages: a query over 1 MB needs more than one DynamoDB response', async () => {
    const store = await db.openStore({ tableName: 'paging' });
    const big = 'y'.repeat(100_000);
    for (let i = 0; i < 12; i++)
      await store.put({ pk: 'big', sk: `s${String(i).padStart(2, '0')}`, big });
    const first = await db.client.send(
      new QueryCommand({
        TableName: 'paging',
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': { S: 'big' } },
      }),
    );
    expect(first.LastEvaluatedKey).toBeDefined();
    expect(first.Items!.length).toBeLessThan(12);
    expect(await store.query('big')).toHaveLength(12);
  });

  it('survives a client that disconnects in the middle of a request', async () => {
    const { hostname, port } = new URL(db.endpoint);
    await new Promise<void>((resolve, reject) => {
      const socket = connect(Number(port), hostname, () => {
        socket.write(
          'POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: 1000\r\n\r\n{"a":',
          () => setTimeout(() => socket.destroy(), 20),
        );
      });
      socket.on('close', () => resolve());
      socket.on('error', reject);
    });
    await db.store.put({ pk: 'alive', sk: 'after-abort' });
    expect(await db.store.get('alive', 'after-abort')).toEqual({ pk: 'alive', sk: 'after-abort' });
  });
});
