import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../lib/config/index.js';
import { ChannelError } from '../../lib/errors.js';
import type { EmbeddedStateStore } from '../../lib/state/embedded.js';
import { createStateStore, DynamoStateStore, MemoryStateStore } from '../../lib/state/index.js';
import { stateStoreOptions } from '../../lib/state/options.js';
import { startTestDynalite } from '../support/dynalite.js';

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('createStateStore', () => {
  it('memory backend', async () => {
    const store = await createStateStore({ backend: 'memory', tableName: 'channel-state' });
    expect(store).toBeInstanceOf(MemoryStateStore);
    await store.close();
  });

  it('dynamodb backend against an endpoint', async () => {
    // The factory uses the SDK's default credential chain; give it dummy ones from the env.
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'test');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test');
    const db = await startTestDynalite({ tableName: 'factory-table' });
    const store = await createStateStore({
      backend: 'dynamodb',
      tableName: 'factory-table',
      region: 'us-east-1',
      endpoint: db.endpoint,
    });
    try {
      expect(store).toBeInstanceOf(DynamoStateStore);
      await db.store.put({ pk: 'seen', sk: 'by-factory' });
      expect(await store.get('seen', 'by-factory')).toEqual({ pk: 'seen', sk: 'by-factory' });
    } finally {
      await store.close();
      await db.close();
    }
  });

  it('embedded backend under stateDir', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'state-factory-'));
    const store = (await createStateStore({
      backend: 'embedded',
      tableName: 'channel-state',
      stateDir,
    })) as EmbeddedStateStore;
    try {
      expect(store.owned).toBe(true);
      await store.put({ pk: 'p', sk: 's', v: 1 });
      expect(await store.get('p', 's')).toEqual({ pk: 'p', sk: 's', v: 1 });
    } finally {
      await store.close();
      await rm(stateDir, { recursive: true, force: true });
    }
  });

  it('opens the store the parsed configuration names (one mapping for runtime and CLI)', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'state-factory-'));
    const config = loadConfig({ STATE_BACKEND: 'embedded', STATE_DIR: stateDir });
    const store = (await createStateStore(
      stateStoreOptions(config.settings),
    )) as EmbeddedStateStore;
    try {
      expect(store.owned).toBe(true);
      await store.put({ pk: 'p', sk: 's' });
      expect(await store.get('p', 's')).toEqual({ pk: 'p', sk: 's' });
    } finally {
      await store.close();
      await rm(stateDir, { recursive: true, force: true });
    }
  });

  it('rejects unknown keys and bad values, naming the key', async () => {
    const bad = [
      { backend: 'redis', tableName: 'channel-state' },
      { backend: 'memory', tableName: 'x' },
      { backend: 'memory', tableName: 'channel-state', tabelName: 'typo' },
      { backend: 'dynamodb', tableName: 'channel-state', endpoint: 'not a url' },
      { backend: 'tablestore', tableName: 'channel_state' },
    ];
    for (const options of bad) {
      const err = await createStateStore(options as never).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ChannelError);
      expect((err as ChannelError).code).toBe('invalid_state_options');
    }
    const typo = await createStateStore({
      backend: 'memory',
      tableName: 'channel-state',
      tabelName: 'typo',
    } as never).catch((e: ChannelError) => e.message);
    expect(typo).toContain('tabelName');
  });
});
