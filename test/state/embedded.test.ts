import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ChannelError } from '../../lib/errors.js';
import { type EmbeddedStateStore, openEmbeddedStore } from '../../lib/state/embedded.js';
import { cond } from '../../lib/state/port.js';

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const childScript = fileURLToPath(new URL('./fixtures/embedded-child.ts', import.meta.url));
const tableName = 'channel-state';

let stateDir: string;
const opened: EmbeddedStateStore[] = [];

async function open(waitMs?: number): Promise<EmbeddedStateStore> {
  const store = await openEmbeddedStore({ stateDir, tableName, ...(waitMs ? { waitMs } : {}) });
  opened.push(store);
  return store;
}

const discoveryFile = () => join(stateDir, 'endpoint.json');
const readDiscoveryFile = async () => JSON.parse(await readFile(discoveryFile(), 'utf8'));
const exists = (file: string) =>
  readFile(file).then(
    () => true,
    () => false,
  );

/** The pid of a process that has already exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.on('exit', resolve));
  return child.pid!;
}

beforeEach(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'state-embedded-'));
});
afterEach(async () => {
  // Non-owners first, so the owner's server has no client left when it closes.
  for (const store of opened.splice(0).sort((a, b) => Number(a.owned) - Number(b.owned))) {
    await store.close();
  }
  await rm(stateDir, { recursive: true, force: true });
});

describe('embedded store (dynalite under the state dir)', () => {
  it('owns dynalite, publishes endpoint.json, and removes it on close', async () => {
    const store = await open();
    expect(store.owned).toBe(true);
    expect(store.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await readDiscoveryFile()).toEqual({
      endpoint: store.endpoint,
      pid: process.pid,
      tableName,
    });
    await store.close();
    expect(await exists(discoveryFile())).toBe(false);
  });

  it('persists across a restart (write, close, reopen, read)', async () => {
    const first = await open();
    await first.put({
      pk: 'allow#work',
      sk: 'user#manager807',
      userId: 'Manager807',
      note: '已批准',
    });
    await first.close();
    const second = await open();
    expect(second.owned).toBe(true);
    expect(await second.get('allow#work', 'user#manager807')).toEqual({
      pk: 'allow#work',
      sk: 'user#manager807',
      userId: 'Manager807',
      note: '已批准',
    });
  });

  it('sweeps expired items: at start, and on demand (dynalite has no TTL)', async () => {
    const now = Math.floor(Date.now() / 1000);
    const first = await open();
    await first.put({ pk: 'dedup#a#m1', sk: 'claim', expiresAt: now - 10 });
    await first.put({ pk: 'dedup#a#m2', sk: 'claim', expiresAt: now + 3600 });
    await first.put({ pk: 'allow#a', sk: 'user#x', userId: 'x' });
    await first.close();
    const second = await open();
    // The start-up sweep removed the expired claim; the live one and the TTL-less entry stay.
    expect(await second.get('dedup#a#m1', 'claim')).toBeUndefined();
    expect(await second.get('dedup#a#m2', 'claim')).toMatchObject({ expiresAt: now + 3600 });
    expect(await second.get('allow#a', 'user#x')).toMatchObject({ userId: 'x' });
    expect(await second.sweepExpired(now + 3601)).toBe(1);
    expect(await second.get('dedup#a#m2', 'claim')).toBeUndefined();
    expect(await second.get('allow#a', 'user#x')).toMatchObject({ userId: 'x' });
  });

  it('a second opener connects over HTTP instead of opening the database path', async () => {
    const owner = await open();
    const guest = await open();
    expect(guest.owned).toBe(false);
    expect(guest.endpoint).toBe(owner.endpoint);
    await guest.put({ pk: 'p', sk: 'from-guest' });
    expect(await owner.get('p', 'from-guest')).toEqual({ pk: 'p', sk: 'from-guest' });
    expect((await guest.put({ pk: 'p', sk: 'from-guest' }, cond.notExists())).ok).toBe(false);
    await guest.close();
    // Closing a guest neither stops dynalite nor removes the owner's discovery file.
    await owner.put({ pk: 'p', sk: 'after-guest' });
    expect(await exists(discoveryFile())).toBe(true);
  });

  it('two openers starting together: exactly one owns, the other waits and connects', async () => {
    const both = await Promise.all([open(), open()]);
    expect(both.filter((s) => s.owned)).toHaveLength(1);
    expect(both[0]!.endpoint).toBe(both[1]!.endpoint);
  });

  it('a guest takes over when the owner exits (npm start outliving a CLI command)', async () => {
    const cli = await open();
    const app = await open();
    expect(app.owned).toBe(false);
    await app.put({ pk: 'p', sk: 'before' });
    await cli.close();
    await app.put({ pk: 'p', sk: 'after' });
    expect(app.owned).toBe(true);
    expect(app.endpoint).not.toBe(cli.endpoint);
    expect((await app.query('p')).map((i) => i.sk)).toEqual(['after', 'before']);
    expect(await readDiscoveryFile()).toEqual({
      endpoint: app.endpoint,
      pid: process.pid,
      tableName,
    });
  });

  it('replaces a stale discovery file left by a dead process', async () => {
    const pid = await deadPid();
    await writeFile(
      discoveryFile(),
      JSON.stringify({ endpoint: 'http://127.0.0.1:9', pid, tableName }),
    );
    const store = await open();
    expect(store.owned).toBe(true);
    expect(await readDiscoveryFile()).toMatchObject({ pid: process.pid, endpoint: store.endpoint });
  });

  it('replaces an unreadable discovery file', async () => {
    await writeFile(discoveryFile(), 'not json');
    const store = await open();
    expect(store.owned).toBe(true);
  });

  it('takes over from a live pid whose endpoint never answers once the database is free', async () => {
    // e.g. a pid reused by an unrelated process after a crash
    await writeFile(
      discoveryFile(),
      JSON.stringify({ endpoint: 'http://127.0.0.1:9', pid: process.pid, tableName }),
    );
    const store = await open(200);
    expect(store.owned).toBe(true);
  });

  it('refuses with state_locked (no crash) when the path is held but endpoint.json is gone', async () => {
    const owner = await open();
    await unlink(discoveryFile());
    const err = await openEmbeddedStore({ stateDir, tableName, waitMs: 300 }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ChannelError);
    expect((err as ChannelError).code).toBe('state_locked');
    expect(await exists(discoveryFile())).toBe(false); // its claim was withdrawn
    await owner.put({ pk: 'still', sk: 'works' });
    expect(await owner.get('still', 'works')).toBeDefined();
  });

  it('another node process connects over HTTP while this one holds the store', async () => {
    const owner = await open();
    await owner.put({ pk: 'shared', sk: 'from-parent', text: '父进程' });
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', childScript, stateDir, tableName],
      {
        cwd: repoRoot,
        timeout: 25_000,
      },
    );
    const report = JSON.parse(stdout);
    expect(report).toEqual({
      owned: false,
      endpoint: owner.endpoint,
      seen: { pk: 'shared', sk: 'from-parent', text: '父进程' },
    });
    expect(await owner.get('shared', 'from-child')).toMatchObject({ text: '子进程写入' });
    expect(await readDiscoveryFile()).toMatchObject({ pid: process.pid }); // still ours
  });
});
