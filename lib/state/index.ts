/**
 * Picks the StateStore adapter for the runtime mode (architecture.md "Runtime modes"):
 * `memory` for unit tests, `embedded` (dynalite under `.data/`) for `npm start`, `dynamodb` in
 * the cloud or against any DynamoDB-compatible endpoint. The embedded store is imported from
 * `./embedded.js` directly (or through this factory), never re-exported here.
 */
import { z } from 'zod';
import { ChannelError } from '../errors.js';
import type { Logger } from '../log.js';
import { DynamoStateStore } from './dynamodb.js';
import { MemoryStateStore } from './memory.js';
import type { StateStore } from './port.js';

export { DynamoStateStore, ensureTable, localDynamoClient } from './dynamodb.js';
export type { ItemKey, PartitionQuery } from './keys.js';
export { isExpired, keys, PAIRING_SLOTS, SK_PREFIX } from './keys.js';
export { MemoryStateStore } from './memory.js';
export * from './port.js';

/** Where `npm start` keeps its state unless told otherwise. */
export const DEFAULT_STATE_DIR = '.data';

const optionsSchema = z
  .object({
    backend: z.enum(['memory', 'dynamodb', 'embedded']),
    tableName: z.string().min(3).max(255),
    region: z.string().min(1).optional(),
    endpoint: z.url().optional(),
    stateDir: z.string().min(1).optional(),
  })
  .strict();

export type StateStoreOptions = z.infer<typeof optionsSchema>;

/** Opens the configured store. Bad options throw `invalid_state_options` naming the key. */
export async function createStateStore(
  options: StateStoreOptions,
  deps: { logger?: Logger } = {},
): Promise<StateStore> {
  const parsed = optionsSchema.safeParse(options);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new ChannelError('invalid_state_options', `state store options: ${issues.join('; ')}`);
  }
  const { backend, tableName, region, endpoint, stateDir } = parsed.data;
  switch (backend) {
    case 'memory':
      return new MemoryStateStore();
    case 'dynamodb':
      return new DynamoStateStore({ tableName, region, endpoint });
    case 'embedded': {
      // Loaded on demand: dynalite and LevelDB's native binary must not end up in Lambda/FC bundles.
      const { openEmbeddedStore } = await import('./embedded.js');
      return openEmbeddedStore({
        stateDir: stateDir ?? DEFAULT_STATE_DIR,
        tableName,
        ...(deps.logger ? { logger: deps.logger } : {}),
      });
    }
  }
}
