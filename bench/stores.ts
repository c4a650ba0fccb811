/**
 * State stores for benchmarks and chaos runs: the in-memory store, or an in-memory dynalite
 * (DynamoDB's API over HTTP, what `npm start` and AWS talk to) with its table created.
 */
import { startDynalite } from '../lib/state/dynalite-server.js';
import { DynamoStateStore, ensureTable, localDynamoClient } from '../lib/state/dynamodb.js';
import { MemoryStateStore } from '../lib/state/memory.js';
import type { StateStore } from '../lib/state/port.js';

export type StoreKind = 'memory' | 'dynalite';

/** Opens a store of `kind`; `close()` also stops the dynalite server. */
export async function openBenchStore(
  kind: StoreKind,
): Promise<{ store: StateStore; close(): Promise<void> }> {
  if (kind === 'memory') {
    const store = new MemoryStateStore();
    return { store, close: () => store.close() };
  }
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
