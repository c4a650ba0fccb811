/**
 * The local store (lib/state/local.ts): the same contract as every adapter, for the owner and
 * for a second opener that reaches it over loopback; durable across a reopen (the journal),
 * compaction that sweeps long-expired records, and the owner commands of another process
 * answered by the running owner.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { manualClock } from '../../lib/clock.js';
import { startPairing } from '../../lib/policy/index.js';
import { LOCAL_ENDPOINT_FILE, openLocalStore } from '../../lib/state/local.js';
import { cond, type StateStore } from '../../lib/state/port.js';
import { runBin } from '../cli/support.js';
import { describeStateStoreContract } from './contract.js';

const dirs: string[] = [];
const opened: StateStore[] = [];
function freshDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'state-local-'));
  dirs.push(dir);
  return dir;
}
async function open(dir: string): Promise<StateStore> {
  const store = await openLocalStore(dir);
  opened.push(store);
  return store;
}

describeStateStoreContract('local store (owner)', async () => {
  const store = await open(freshDir());
  return { store, pagedStore: store };
});

describeStateStoreContract('local store (second process, over loopback)', async () => {
  const dir = freshDir();
  await open(dir); // the owner
  const remote = await openLocalStore(dir);
  opened.push(remote);
  return { store: remote, pagedStore: remote };
});

afterEach(async () => {
  for (const store of opened.splice(0).reverse()) await store.close().catch(() => undefined);
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('local store durability', () => {
  it('keeps every acknowledged write across a reopen, deletions and removals included', async () => {
    const dir = freshDir();
    const first = await openLocalStore(dir);
    await first.put({ pk: 'p', sk: 'a', n: 1, tags: ['钉钉', '😀'] });
    await first.put({ pk: 'p', sk: 'b', n: 2 });
    await first.update('p', 'a', { n: 3, gone: undefined, extra: { deep: true } });
    await first.delete('p', 'b');
    expect((await first.put({ pk: 'p', sk: 'a' }, cond.notExists())).ok).toBe(false);
    await first.close();
    const again = await open(dir);
    expect(await again.query('p')).toEqual([
      { pk: 'p', sk: 'a', n: 3, tags: ['钉钉', '😀'], extra: { deep: true } },
    ]);
    expect(statSync(join(dir, 'state.jsonl')).mode & 0o077).toBe(0);
  });

  it('survives a torn last line (a crash mid-append) and compacts long-expired records away', async () => {
    const dir = freshDir();
    const first = await openLocalStore(dir);
    const longAgo = Math.floor(Date.now() / 1000) - 3 * 24 * 3600;
    await first.put({ pk: 'old', sk: 'x', expiresAt: longAgo });
    await first.put({ pk: 'new', sk: 'y', expiresAt: longAgo + 10 * 24 * 3600 });
    for (let i = 0; i < 5; i++) await first.update('new', 'y', { i });
    await first.close();
    const journal = join(dir, 'state.jsonl');
    const { appendFileSync } = await import('node:fs');
    appendFileSync(journal, '{"p":"torn","s":"z","i":{"pk":"to');
    const again = await open(dir);
    expect(await again.get('old', 'x')).toBeUndefined();
    expect(await again.get('new', 'y')).toMatchObject({ i: 4 });
    expect(await again.get('torn', 'z')).toBeUndefined();
    // Compacted at open: one line per live item.
    expect(readFileSync(journal, 'utf8').trim().split('\n')).toHaveLength(1);
  });
});

describe('local store ownership', () => {
  it('a second opener is served by the owner, and takes over once the owner closed', async () => {
    const dir = freshDir();
    const owner = await openLocalStore(dir);
    const endpoint = JSON.parse(readFileSync(join(dir, LOCAL_ENDPOINT_FILE), 'utf8'));
    expect(endpoint.pid).toBe(process.pid);
    expect(statSync(join(dir, LOCAL_ENDPOINT_FILE)).mode & 0o077).toBe(0);
    const client = await openLocalStore(dir);
    await client.put({ pk: 'shared', sk: '1', by: 'client' });
    expect(await owner.get('shared', '1')).toMatchObject({ by: 'client' });
    await client.close();
    await owner.close();
    const next = await open(dir);
    expect(await next.get('shared', '1')).toMatchObject({ by: 'client' });
  });

  it('refuses a caller without the token', async () => {
    const dir = freshDir();
    await open(dir);
    const { url } = JSON.parse(readFileSync(join(dir, LOCAL_ENDPOINT_FILE), 'utf8'));
    const res = await fetch(`${url}/state`, {
      method: 'POST',
      body: JSON.stringify({ op: 'get', args: ['p', 's'] }),
    });
    expect(res.status).toBe(401);
  });

  it('owner commands in another process reach the running owner (pairing list)', async () => {
    const dir = freshDir();
    const owner = await open(dir);
    await startPairing(
      owner,
      { accountId: 'default', userId: 'alice', nick: 'Alice' },
      { clock: manualClock(Date.now()) },
    );
    const out = await runBin(['pairing', 'list', '--json'], {
      STATE_DIR: dir,
      DINGTALK_CLIENT_ID: 'dinglocal',
      DINGTALK_CLIENT_SECRET: 'local-secret',
    });
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    expect(JSON.parse(out.stdout)).toMatchObject([{ userId: 'alice', nick: 'Alice' }]);
  });
});
