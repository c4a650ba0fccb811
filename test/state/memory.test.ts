import { MemoryStateStore } from '../../lib/state/memory.js';
import { describeStateStoreContract } from './contract.js';

describeStateStoreContract('MemoryStateStore', async () => {
  const store = new MemoryStateStore();
  return { store, pagedStore: store };
});
