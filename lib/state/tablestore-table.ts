/**
 * Provisioning of the state table on Tablestore, for tests, the fake and local use. The Alibaba
 * deploy creates the table through ROS (`ALIYUN::OTS::Table`), so at runtime the adapter never
 * needs CreateTable rights; this helper is for everything else.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import TableStore from 'tablestore';
import { ChannelError } from '../errors.js';
import { maskSecrets } from '../log.js';
import { classifyError } from './tablestore-errors.js';

export interface TablestoreTableOptions {
  endpoint: string;
  instance: string;
  tableName: string;
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
  /**
   * Storage TTL in seconds (-1 = never, else at least 86,400). Cleanup only: expiry is checked
   * in code, Tablestore's TTL deletes late.
   */
  timeToLive?: number;
  /** How long to wait for the new table to answer (default 30 s). */
  timeoutMs?: number;
}

/** Creates the `pk`/`sk` table (STRING, STRING; one version) if missing and waits until it answers. */
export async function ensureTablestoreTable(options: TablestoreTableOptions): Promise<void> {
  const client = new TableStore.Client({
    accessKeyId: options.accessKeyId,
    secretAccessKey: options.accessKeySecret,
    ...(options.securityToken ? { stsToken: options.securityToken } : {}),
    endpoint: options.endpoint,
    instancename: options.instance,
    maxRetries: 0,
  });
  const fail = (step: string, err: unknown) => {
    const info = classifyError(err);
    return new ChannelError(
      'state_unavailable',
      `cannot ${step} Tablestore table ${options.tableName}: ${maskSecrets(`${info.code}: ${info.message}`)}`,
      { cause: err, retryable: info.kind !== 'final' },
    );
  };
  try {
    await client.createTable({
      tableMeta: {
        tableName: options.tableName,
        primaryKey: [
          { name: 'pk', type: 'STRING' },
          { name: 'sk', type: 'STRING' },
        ],
      },
      reservedThroughput: { capacityUnit: { read: 0, write: 0 } },
      tableOptions: { timeToLive: options.timeToLive ?? -1, maxVersions: 1 },
    } as never);
  } catch (err) {
    if (classifyError(err).code !== 'OTSObjectAlreadyExist') throw fail('create', err);
  }
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  for (;;) {
    try {
      await client.describeTable({ tableName: options.tableName });
      return;
    } catch (err) {
      const info = classifyError(err);
      if (info.kind !== 'throttled' || Date.now() > deadline) throw fail('describe', err);
      await sleep(200);
    }
  }
}
