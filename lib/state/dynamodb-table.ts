/**
 * Table helpers for local and test use (dynalite, DynamoDB Local). Deployed tables come from the
 * deploy templates, which also switch on TTL: dynalite has no UpdateTimeToLive, so we never call it.
 */

import { setTimeout as sleep } from 'node:timers/promises';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceInUseException,
} from '@aws-sdk/client-dynamodb';
import { ChannelError } from '../errors.js';

/** A client for a local endpoint: fixed region and dummy credentials, so the SDK never looks
 * for real ones (no env, profile or instance-metadata lookups on a laptop). */
export function localDynamoClient(endpoint: string, region = 'us-east-1'): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
}

/** Creates the single `pk`/`sk` table (on-demand) if it is missing and waits until it is ACTIVE. */
export async function ensureTable(
  client: DynamoDBClient,
  tableName: string,
  options: { timeoutMs?: number; pollMs?: number } = {},
): Promise<void> {
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
      }),
    );
  } catch (err) {
    if (!(err instanceof ResourceInUseException)) throw tableError(tableName, 'create', err);
  }
  await waitUntilActive(client, tableName, options.timeoutMs ?? 60_000, options.pollMs ?? 50);
}

async function waitUntilActive(
  client: DynamoDBClient,
  tableName: string,
  timeoutMs: number,
  pollMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let status: string | undefined;
    try {
      const out = await client.send(new DescribeTableCommand({ TableName: tableName }));
      status = out.Table?.TableStatus;
    } catch (err) {
      throw tableError(tableName, 'describe', err);
    }
    if (status === 'ACTIVE') return;
    if (Date.now() > deadline) {
      throw new ChannelError(
        'state_unavailable',
        `table ${tableName} is still ${status ?? 'unknown'} after ${timeoutMs} ms`,
        { retryable: true },
      );
    }
    await sleep(pollMs);
  }
}

function tableError(tableName: string, step: string, err: unknown): ChannelError {
  const detail = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return new ChannelError('state_unavailable', `cannot ${step} table ${tableName}: ${detail}`, {
    cause: err,
    retryable: true,
  });
}
