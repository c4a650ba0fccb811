import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { formatTable } from '../../lib/cli/open-store.js';
import { manualClock } from '../../lib/clock.js';
import { addAllowed, findAllowed, listAllowed, startPairing } from '../../lib/policy/index.js';
import { openEmbeddedStore } from '../../lib/state/embedded.js';
import type { TestDynalite } from '../support/dynalite.js';
import { freshTable, runCli, startTestDynalite, stubAwsCredentials } from './support.js';

let db: TestDynalite;

beforeAll(async () => {
  stubAwsCredentials();
  db = await startTestDynalite();
});

afterAll(async () => {
  await db.close();
  vi.unstubAllEnvs();
});

describe('§2 Direct messages: dingtalk-channel allow', () => {
  it('add stores the id without prefixes, keeps its case, and says so', async () => {
    const { store, env } = await freshTable(db);
    const added = await runCli(['allow', 'add', 'dingtalk:user:Manager807'], env);
    expect(added).toEqual({
      code: 0,
      out: 'Added Manager807 to the runtime allowlist of account default.',
      err: '',
    });
    expect(await listAllowed(store, 'default')).toEqual([
      { userId: 'Manager807', addedAt: expect.any(Number), via: 'cli' },
    ]);
    const again = await runCli(['allow', 'add', 'manager807'], env);
    expect(again.code).toBe(0);
    expect(again.out).toMatch(
      /^Manager807 is already on the runtime allowlist of account default \(added .* via cli\)\.$/,
    );
    expect(await listAllowed(store, 'default')).toHaveLength(1);
  });

  it('list prints a table or JSON, and names the configured dm.allowFrom', async () => {
    const { store, env } = await freshTable(db, {
      dm: { policy: 'allowlist', allowFrom: ['zed'] },
    });
    expect((await runCli(['allow', 'list'], env)).out).toBe(
      'The runtime allowlist of account default is empty.\nAlso admitted by dm.allowFrom: zed',
    );
    await addAllowed(store, 'default', 'alice', {
      via: 'pairing',
      now: Date.UTC(2026, 0, 2),
      nick: '张三',
    });
    await runCli(['allow', 'add', 'bob'], env);
    const human = (await runCli(['allow', 'list'], env)).out.split('\n');
    expect(human[0]).toMatch(/^USER ID\s+NICK\s+VIA\s+ADDED$/);
    expect(human[1]).toBe('alice    张三  pairing  2026-01-02 00:00:00Z');
    expect(human[2]).toMatch(/^bob\s+cli\s+\d{4}-/);
    const json = JSON.parse((await runCli(['allow', 'list', '--json'], env)).out);
    expect(json).toEqual([
      { userId: 'alice', addedAt: '2026-01-02T00:00:00.000Z', via: 'pairing', nick: '张三' },
      { userId: 'bob', addedAt: expect.any(String), via: 'cli', nick: null },
    ]);
  });

  it('remove takes the user off the list (any case); a second remove exits 1', async () => {
    const { store, env } = await freshTable(db);
    await runCli(['allow', 'add', 'Bob'], env);
    expect(await runCli(['allow', 'remove', 'BOB'], env)).toEqual({
      code: 0,
      out: 'Removed Bob from the runtime allowlist of account default.',
      err: '',
    });
    expect(await findAllowed(store, 'default', 'bob')).toBeUndefined();
    expect(await runCli(['allow', 'remove', 'bob'], env)).toEqual({
      code: 1,
      out: '',
      err: 'bob is not on the runtime allowlist of account default',
    });
  });

  it('remove mentions a dm.allowFrom entry it cannot change', async () => {
    const { env } = await freshTable(db, { dm: { policy: 'allowlist', allowFrom: ['zed'] } });
    const result = await runCli(['allow', 'remove', 'zed'], env);
    expect(result.code).toBe(1);
    expect(result.err).toContain('dm.allowFrom in the configuration still admits zed');
  });

  it('notes when dm.policy makes the allowlist moot', async () => {
    const { env } = await freshTable(db, { dm: { policy: 'disabled' } });
    expect((await runCli(['allow', 'add', 'bob'], env)).out).toContain(
      'Note: dm.policy is "disabled" for account default',
    );
  });

  it('works per account', async () => {
    const { store, env } = await freshTable(db, {
      accounts: {
        work: { clientId: 'w', clientSecret: 'ws' },
        home: { clientId: 'h', clientSecret: 'hs' },
      },
    });
    expect((await runCli(['allow', 'add', 'bob', '--account', 'work'], env)).code).toBe(0);
    expect(await findAllowed(store, 'work', 'bob')).toBeDefined();
    expect(await findAllowed(store, 'home', 'bob')).toBeUndefined();
    const unknown = await runCli(['allow', 'list', '--account', 'nope'], env);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain('known accounts: home, work');
  });

  it.each([
    [['allow'], 'Missing action.'],
    [['allow', 'grant', 'x'], 'Unknown allow action "grant".'],
    [['allow', 'add'], 'allow add needs a user id.'],
    [['allow', 'list', 'x'], 'allow list takes no user id'],
    [['allow', 'add', '*'], '"*" cannot be added to the runtime allowlist'],
    [['allow', 'add', 'dingtalk:'], 'is not a DingTalk user id'],
    [['allow', 'add', 'x', '--json'], '--json only applies to allow list.'],
  ])('usage error %j exits 2: %s', async (argv, message) => {
    const { env } = await freshTable(db);
    const result = await runCli(argv, env);
    expect(result.code).toBe(2);
    expect(result.err).toContain(message);
  });
});

describe('owner commands on the embedded store (npm start)', () => {
  it('connect to the running owner through the discovery file and see its state', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dingtalk-cli-embedded-'));
    // Stands in for `npm start`: it owns the LevelDB path and publishes endpoint.json.
    const owner = await openEmbeddedStore({ stateDir: dir, tableName: 'dingtalk-channel-state' });
    try {
      const started = await startPairing(
        owner,
        { accountId: 'default', userId: 'alice' },
        { clock: manualClock(Date.now()) },
      );
      const code = (started as { request: { code: string } }).request.code;
      const env = { STATE_BACKEND: 'embedded', STATE_DIR: dir };
      const listed = await runCli(['pairing', 'list', '--json'], env);
      expect(listed.code).toBe(0);
      expect(JSON.parse(listed.out)).toEqual([expect.objectContaining({ code, userId: 'alice' })]);
      expect((await runCli(['pairing', 'approve', code], env)).code).toBe(0);
      // The owner sees what the CLI wrote, and is still serving.
      expect(await findAllowed(owner, 'default', 'alice')).toMatchObject({ via: 'pairing' });
      expect(owner.owned).toBe(true);
    } finally {
      await owner.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('own the store for the length of the command when nothing runs', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dingtalk-cli-embedded-'));
    try {
      const env = { STATE_BACKEND: 'embedded', STATE_DIR: dir };
      expect((await runCli(['allow', 'add', 'bob'], env)).code).toBe(0);
      const listed = await runCli(['allow', 'list', '--json'], env);
      expect(JSON.parse(listed.out)).toEqual([expect.objectContaining({ userId: 'bob' })]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('table output', () => {
  it('aligns columns by terminal width (CJK nicks take two columns)', () => {
    expect(
      formatTable(
        ['A', 'NICK', 'B'],
        [
          ['1', '张三', 'x'],
          ['22', 'Al', 'y'],
        ],
      ),
    ).toEqual(['A   NICK  B', '1   张三  x', '22  Al    y']);
  });
});
