/**
 * A throwaway fake Tablestore for tests (lib/tablestore-fake): listens on 127.0.0.1 (any free
 * port), creates the table with ensureTablestoreTable, and opens TablestoreStateStores on it
 * through the real `tablestore` SDK. Always `await close()`.
 */
import TableStore from 'tablestore';
import {
  ensureTablestoreTable,
  TablestoreStateStore,
  type TablestoreStateStoreOptions,
} from '../../lib/state/tablestore.js';
import { type FakeTablestore, startFakeTablestore } from '../../lib/tablestore-fake/index.js';

export const TEST_ACCESS_KEY_ID = 'LTAI-test-key-id';
export const TEST_ACCESS_KEY_SECRET = 'test-secret-never-logged-7f3a';
export const TEST_INSTANCE = 'testinst';

export interface TestTablestore {
  fake: FakeTablestore;
  endpoint: string;
  /** A raw SDK client with the right credentials, for assertions below the port. */
  client: TableStore.Client;
  /** Creates the table if needed and opens a store on it (closed by close()). */
  openStore(
    options?: { tableName?: string } & Partial<TablestoreStateStoreOptions>,
  ): Promise<TablestoreStateStore>;
  close(): Promise<void>;
}

/** Starts a fake Tablestore instance. */
export async function startTestTablestore(): Promise<TestTablestore> {
  const fake = await startFakeTablestore({
    accessKeyId: TEST_ACCESS_KEY_ID,
    accessKeySecret: TEST_ACCESS_KEY_SECRET,
    instance: TEST_INSTANCE,
  });
  const base = {
    endpoint: fake.endpoint,
    instance: TEST_INSTANCE,
    accessKeyId: TEST_ACCESS_KEY_ID,
    accessKeySecret: TEST_ACCESS_KEY_SECRET,
  };
  const stores: TablestoreStateStore[] = [];
  return {
    fake,
    endpoint: fake.endpoint,
    client: new TableStore.Client({
      accessKeyId: TEST_ACCESS_KEY_ID,
      secretAccessKey: TEST_ACCESS_KEY_SECRET,
      endpoint: fake.endpoint,
      instancename: TEST_INSTANCE,
      maxRetries: 0,
    }),
    openStore: async (options = {}) => {
      const tableName = options.tableName ?? 'state_test';
      await ensureTablestoreTable({ ...base, tableName });
      const store = new TablestoreStateStore({ ...base, ...options, tableName });
      stores.push(store);
      return store;
    },
    close: async () => {
      await Promise.all(stores.map((s) => s.close()));
      await fake.close();
    },
  };
}
