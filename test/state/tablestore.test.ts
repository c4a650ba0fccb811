import { afterAll, beforeAll } from 'vitest';
import { startTestTablestore, type TestTablestore } from '../support/tablestore.js';
import { describeStateStoreContract } from './contract.js';

let ts: TestTablestore;
let tables = 0;

beforeAll(async () => {
  ts = await startTestTablestore();
});
afterAll(async () => {
  await ts?.close();
});

// The same contract as memory and DynamoDB, through the real SDK against the fake Tablestore.
describeStateStoreContract('TablestoreStateStore on the fake Tablestore', async () => {
  const tableName = `contract_${++tables}`;
  const store = await ts.openStore({ tableName });
  const pagedStore = await ts.openStore({ tableName, queryPageSize: 3 });
  return { store, pagedStore };
});
