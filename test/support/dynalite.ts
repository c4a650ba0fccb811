/**
 * A throwaway in-memory dynalite for tests: listens on 127.0.0.1 (any free port), creates the
 * table, and hands back a DynamoStateStore on it. Always `await close()` (in afterAll/afterEach).
 *
 *   const db = await startTestDynalite();
 *   await db.store.put({ pk: 'a', sk: 'b' });
 *   await db.close();
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { startDynalite } from '../../lib/state/dynalite-server.js';
import {
  DynamoStateStore,
  type DynamoStateStoreOptions,
  ensureTable,
  localDynamoClient,
} from '../../lib/state/dynamodb.js';

export interface TestDynalite {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  tableName: string;
  /** A raw SDK client on the endpoint, for assertions below the port. */
  client: DynamoDBClient;
  /** A store on `tableName`. */
  store: DynamoStateStore;
  /** Another store on this dynalite (e.g. a fresh table, or tiny query pages); closed by close(). */
  openStore(
    options?: { tableName?: string } & Pick<DynamoStateStoreOptions, 'queryPageSize'>,
  ): Promise<DynamoStateStore>;
  /** Closes every store, the client and the server. */
  close(): Promise<void>;
}

/** Starts dynalite in memory with table `tableName` (default `state-test`) ready. */
export async function startTestDynalite(
  options: { tableName?: string } = {},
): Promise<TestDynalite> {
  const server = await startDynalite();
  const client = localDynamoClient(server.endpoint);
  const stores: DynamoStateStore[] = [];
  const tableName = options.tableName ?? 'state-test';
  const openStore: TestDynalite['openStore'] = async (opts = {}) => {
    const name = opts.tableName ?? tableName;
    await ensureTable(client, name);
    const store = new DynamoStateStore({
      tableName: name,
      client,
      ...(opts.queryPageSize ? { queryPageSize: opts.queryPageSize } : {}),
    });
    stores.push(store);
    return store;
  };
  try {
    const store = await openStore();
    return {
      endpoint: server.endpoint,
      tableName,
      client,
      store,
      openStore,
      close: async () => {
        await Promise.all(stores.map((s) => s.close()));
        client.destroy();
        await server.close();
      },
    };
  } catch (err) {
    client.destroy();
    await server.close();
    throw err;
  }
}
