/**
 * State stores for benchmarks and chaos runs: the in-memory store, an in-memory dynalite
 * (DynamoDB's API over HTTP, what `npm start` and AWS talk to) with its table created, or the
 * fake Tablestore (Alibaba's table, through the real tablestore SDK) with its table created.
 */
import { startDynalite } from '../lib/state/dynalite-server.js';
import { DynamoStateStore, ensureTable, localDynamoClient } from '../lib/state/dynamodb.js';
import { MemoryStateStore } from '../lib/state/memory.js';
import type { StateStore } from '../lib/state/port.js';
import { ensureTablestoreTable, TablestoreStateStore } from '../lib/state/tablestore.js';
import { startFakeTablestore } from '../lib/tablestore-fake/index.js';

export type StoreKind = 'memory' | 'dynalite' | 'tablestore';

async function openFakeTablestore(): Promise<{ store: StateStore; close(): Promise<void> }> {
  const credentials = {
    accessKeyId: 'bench-id',
    accessKeySecret: 'bench-secret',
    instance: 'bench',
  };
  const fake = await startFakeTablestore(credentials);
  const options = { ...credentials, endpoint: fake.endpoint, tableName: 'bench_state' };
  try {
    await ensureTablestoreTable(options);
  } catch (err) {
    await fake.close();
    throw err;
  }
  const store = new TablestoreStateStore(options);
  return {
    store,
    async close() {
      await store.close();
      await fake.close();
    },
  };
}

/** Opens a store of `kind`; `close()` also stops the dynalite server. */
export async function openBenchStore(
  kind: StoreKind,
): Promise<{ store: StateStore; close(): Promise<void> }> {
  if (kind === 'memory') {
    const store = new MemoryStateStore();
    return { store, close: () => store.close() };
  }
  if (kind === 'tablestore') return openFakeTablestore();
  const server = await startDynalite();
  const client = localDynamoClient(server.endpoint);
  try {
    await ensureTable(client, 'bench-state');
  } catch (err) {
    client.destroy();
    await server.close();
    throw err;
  }
  const store = new DynamoStateStore({ tableName: 'bench-state', client });
  return {
    store,
    async close() {
      await store.close();
      client.destroy();
      await server.close();
    },
  };
}
