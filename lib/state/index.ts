/**
 * Picks the StateStore adapter for the runtime mode (architecture.md "Runtime modes"):
 * `memory` for unit tests, `local` (in process, journalled under `.data/`) for `npm start`, `embedded` (dynalite under `.data/`), `dynamodb` in
 * the cloud or against any DynamoDB-compatible endpoint, `tablestore` on Alibaba Cloud. The
 * embedded and Tablestore stores are imported on demand (never re-exported here), so dynalite
 * and the tablestore SDK stay out of bundles that do not use them.
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
    backend: z.enum(['memory', 'local', 'dynamodb', 'embedded', 'tablestore']),
    tableName: z.string().min(3).max(255),
    region: z.string().min(1).optional(),
    endpoint: z.url().optional(),
    stateDir: z.string().min(1).optional(),
    /** Required for `tablestore`: the instance and the Alibaba credentials. */
    tablestore: z
      .object({
        endpoint: z.url(),
        instance: z.string().min(1),
        accessKeyId: z.string().min(1),
        accessKeySecret: z.string().min(1),
        securityToken: z.string().min(1).optional(),
      })
      .strict()
      .optional(),
  })
  .strict()
  .refine((o) => o.backend !== 'tablestore' || o.tablestore !== undefined, {
    path: ['tablestore'],
    message: 'is required for the tablestore backend',
  });

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
  const { backend, tableName, region, endpoint, stateDir, tablestore } = parsed.data;
  switch (backend) {
    case 'memory':
      return new MemoryStateStore();
    case 'dynamodb':
      return new DynamoStateStore({ tableName, region, endpoint });
    case 'local': {
      const { openLocalStore } = await import('./local.js');
      return openLocalStore(stateDir ?? DEFAULT_STATE_DIR);
    }
    case 'embedded': {
      // Loaded on demand: dynalite and LevelDB's native binary must not end up in Lambda/FC bundles.
      const { openEmbeddedStore } = await import('./embedded.js');
      return openEmbeddedStore({
        stateDir: stateDir ?? DEFAULT_STATE_DIR,
        tableName,
        ...(deps.logger ? { logger: deps.logger } : {}),
      });
    }
    case 'tablestore': {
      const { TablestoreStateStore } = await import('./tablestore.js');
      return new TablestoreStateStore({ ...tablestore!, tableName });
    }
  }
}
