import { describe, expect, it } from 'vitest';
import { getAccount, loadConfig } from '../../lib/config/index.js';
import { ChannelError } from '../../lib/errors.js';
import { configIssues, tempFile } from './support.js';

const load = (json5: string, env: NodeJS.ProcessEnv = {}, requireCredentials = false) =>
  loadConfig({ DINGTALK_CONFIG: json5, ...env }, { requireCredentials });

describe('§1 multi-account resolution', () => {
  it('without accounts, the root is the single account "default"', () => {
    const config = load('{ clientId: "ding1", clientSecret: "sec-1", textChunkLimit: 900 }');
    expect(config.defaultAccountId).toBe('default');
    expect(config.allAccounts).toHaveLength(1);
    expect(config.accounts[0]).toEqual({
      accountId: 'default',
      enabled: true,
      clientId: 'ding1',
      clientSecret: 'sec-1',
      robotCode: 'ding1',
      dm: { policy: 'pairing', allowFrom: [] },
      groupPolicy: 'allowlist',
      groups: {},
      requireMention: true,
      mentionPatterns: [],
      textChunkLimit: 900,
      chunkMode: 'length',
      replyMode: 'markdown',
      card: {
        templateId: 'dingtalk-channel.ai-card.schema',
        maxCalls: 5,
        minIntervalMs: 1_000,
        thinkingDelayMs: 1_500,
        qpsPerApi: 16,
        stopPollMs: 1_000,
        watchdogGraceMs: 120_000,
      },
      isolateContextPerUserInGroup: false,
    });
    expect(config.hasCredentials).toBe(true);
  });

  it('an empty accounts map is the same as none', () => {
    const config = load('{ clientId: "ding1", accounts: {} }');
    expect(config.allAccounts.map((a) => a.accountId)).toEqual(['default']);
  });

  it('an account inherits root keys it does not set (shallow overlay)', () => {
    const config = load(`{
      requireMention: false, textChunkLimit: 1000, responsePrefix: "> ", groupPolicy: "open",
      accounts: { work: { clientId: "w", clientSecret: "ws", textChunkLimit: 2000 } } }`);
    const work = getAccount(config, 'work');
    expect(work).toMatchObject({
      requireMention: false,
      responsePrefix: '> ',
      groupPolicy: 'open',
      textChunkLimit: 2000,
    });
  });

  it('nested dm and groups are replaced whole, not merged', () => {
    const config = load(`{
      dm: { policy: "allowlist", allowFrom: ["boss"] },
      groups: { cidRoot: { requireMention: false }, "*": { enabled: false } },
      accounts: {
        work: { dm: { allowFrom: ["alice"] }, groups: { cidWork: { users: ["u1"] } } },
        home: {},
      } }`);
    const work = getAccount(config, 'work');
    expect(work.dm).toEqual({ policy: 'pairing', allowFrom: ['alice'] });
    expect(work.groups).toEqual({ cidWork: { users: ['u1'] } });
    const home = getAccount(config, 'home');
    expect(home.dm).toEqual({ policy: 'allowlist', allowFrom: ['boss'] });
    expect(Object.keys(home.groups)).toEqual(['cidRoot', '*']);
  });

  it('root credentials form the account "default"; credentials are never inherited', () => {
    const config = load(`{ clientId: "root-id", clientSecret: "root-sec",
      accounts: { work: { clientId: "w-id" } } }`);
    expect(config.allAccounts.map((a) => a.accountId)).toEqual(['default', 'work']);
    expect(getAccount(config, 'default')).toMatchObject({
      clientId: 'root-id',
      clientSecret: 'root-sec',
    });
    expect(getAccount(config, 'work')).toMatchObject({
      clientId: 'w-id',
      clientSecret: '',
      robotCode: 'w-id',
    });
    expect(config.hasCredentials).toBe(false);
  });

  it('robotCode defaults to clientId and can be set per account', () => {
    const config = load(
      '{ accounts: { a: { clientId: "ida" }, b: { clientId: "idb", robotCode: "rb" } } }',
    );
    expect(getAccount(config, 'a').robotCode).toBe('ida');
    expect(getAccount(config, 'b').robotCode).toBe('rb');
  });

  it('default account: defaultAccount, else "default", else the first id in sort order', () => {
    expect(load('{ accounts: { zeta: {}, alpha: {} } }').defaultAccountId).toBe('alpha');
    expect(load('{ clientId: "r", accounts: { alpha: {} } }').defaultAccountId).toBe('default');
    expect(load('{ accounts: { default: {}, alpha: {} } }').defaultAccountId).toBe('default');
    expect(
      load('{ clientId: "r", accounts: { alpha: {} }, defaultAccount: "alpha" }').defaultAccountId,
    ).toBe('alpha');
    expect(
      load('{ accounts: { b: {}, a: {} } }', { DINGTALK_DEFAULT_ACCOUNT: 'b' }).defaultAccountId,
    ).toBe('b');
  });

  it('env credentials fill the root account when there is no accounts map', () => {
    const config = loadConfig({
      DINGTALK_CLIENT_ID: 'env-id',
      DINGTALK_CLIENT_SECRET: 'env-secret',
    });
    expect(config.accounts[0]).toMatchObject({
      accountId: 'default',
      clientId: 'env-id',
      clientSecret: 'env-secret',
    });
    expect(config.hasCredentials).toBe(true);
  });

  it('env credentials fill the default account only', () => {
    const env = { DINGTALK_CLIENT_ID: 'env-id', DINGTALK_CLIENT_SECRET: 'env-secret' };
    // first id in sort order is the default here
    const first = load('{ accounts: { work: {}, alpha: { clientId: "a" } } }', env);
    expect(getAccount(first, 'alpha')).toMatchObject({
      clientId: 'env-id',
      clientSecret: 'env-secret',
    });
    expect(getAccount(first, 'work')).toMatchObject({ clientId: '', clientSecret: '' });
    // defaultAccount points at an account
    const named = load('{ defaultAccount: "work", accounts: { work: {}, alpha: {} } }', env);
    expect(getAccount(named, 'work')).toMatchObject({
      clientId: 'env-id',
      clientSecret: 'env-secret',
    });
    expect(getAccount(named, 'alpha').clientId).toBe('');
    // the root forms "default": env overrides the root credentials, not the accounts'
    const root = load(
      '{ clientId: "file-id", accounts: { work: { clientId: "w", clientSecret: "ws" } } }',
      env,
    );
    expect(getAccount(root, 'default')).toMatchObject({
      clientId: 'env-id',
      clientSecret: 'env-secret',
    });
    expect(getAccount(root, 'work')).toMatchObject({ clientId: 'w', clientSecret: 'ws' });
  });

  it('env credentials override an explicit accounts.default entry', () => {
    const config = load('{ accounts: { default: { clientId: "file" }, other: {} } }', {
      DINGTALK_CLIENT_ID: 'env-id',
    });
    expect(getAccount(config, 'default').clientId).toBe('env-id');
    expect(getAccount(config, 'other').clientId).toBe('');
  });

  it('DINGTALK_CLIENT_SECRET_FILE fills the default account too', () => {
    const path = tempFile('secret', 'file-secret-9\n');
    const config = load('{ defaultAccount: "b", accounts: { a: {}, b: { clientId: "idb" } } }', {
      DINGTALK_CLIENT_SECRET_FILE: path,
    });
    expect(getAccount(config, 'b').clientSecret).toBe('file-secret-9');
    expect(getAccount(config, 'a').clientSecret).toBe('');
  });

  it('a default account that names nothing is reported, not created by env credentials', () => {
    const issues = configIssues(() =>
      load('{ defaultAccount: "wrk", accounts: { work: {} } }', { DINGTALK_CLIENT_ID: 'x' }),
    );
    expect(issues).toEqual([
      '`channels.dingtalk.defaultAccount` (from DINGTALK_CONFIG) names no account; did you mean "work"? known accounts: default, work',
    ]);
  });

  it('enabled: false disables an account; on the root it disables every account', () => {
    const config = load('{ accounts: { a: {}, b: { enabled: false }, c: {} } }');
    expect(config.accounts.map((a) => a.accountId)).toEqual(['a', 'c']);
    expect(config.allAccounts.map((a) => [a.accountId, a.enabled])).toEqual([
      ['a', true],
      ['b', false],
      ['c', true],
    ]);
    const off = load('{ enabled: false, accounts: { a: { enabled: true }, b: {} } }');
    expect(off.accounts).toEqual([]);
    expect(off.hasCredentials).toBe(false);
  });

  it('accounts are sorted by id', () => {
    const config = load('{ accounts: { zed: {}, Mid: {}, alpha: {} } }');
    expect(config.accounts.map((a) => a.accountId)).toEqual(['Mid', 'alpha', 'zed']);
  });

  it('requireCredentials: an enabled account without credentials is an error naming the key', () => {
    const issues = configIssues(() =>
      load(
        '{ clientId: "r", clientSecret: "rs", accounts: { work: { clientId: "w" }, off: { enabled: false } } }',
        {},
        true,
      ),
    );
    expect(issues).toEqual([
      '`channels.dingtalk.accounts.work.clientSecret` (not set) is required: account "work" is enabled and connects to DingTalk; set it in the config, or set `enabled: false`',
    ]);
    const root = configIssues(() => loadConfig({}, { requireCredentials: true }));
    expect(root).toEqual([
      '`channels.dingtalk.clientId` (not set; env DINGTALK_CLIENT_ID) is required: account "default" is enabled and connects to DingTalk; set it in the config or DINGTALK_CLIENT_ID, or set `enabled: false`',
      '`channels.dingtalk.clientSecret` (not set; env DINGTALK_CLIENT_SECRET) is required: account "default" is enabled and connects to DingTalk; set it in the config or DINGTALK_CLIENT_SECRET(_FILE), or set `enabled: false`',
    ]);
    const none = configIssues(() => load('{ enabled: false }', {}, true));
    expect(none).toEqual([
      '`channels.dingtalk.enabled` (from DINGTALK_CONFIG): no account is enabled, so there is nothing to connect',
    ]);
  });

  it('without requireCredentials, missing credentials load (demo mode) with hasCredentials false', () => {
    const config = loadConfig({});
    expect(config.hasCredentials).toBe(false);
    expect(config.accounts[0]).toMatchObject({ clientId: '', clientSecret: '', robotCode: '' });
  });
});

describe('getAccount', () => {
  const config = load(
    '{ accounts: { work: { clientId: "w" }, home: { clientId: "h" } }, defaultAccount: "home" }',
  );

  it('returns the named account, or the default one', () => {
    expect(getAccount(config, 'work').clientId).toBe('w');
    expect(getAccount(config).accountId).toBe('home');
  });

  it('throws a clear error listing the known ids for an unknown id', () => {
    let caught: unknown;
    try {
      getAccount(config, 'wrok');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ChannelError);
    expect((caught as ChannelError).code).toBe('unknown_account');
    expect((caught as Error).message).toBe(
      'Unknown account "wrok"; known accounts: home, work. Did you mean "work"?',
    );
  });
});
