import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { manualClock } from '../../lib/clock.js';
import {
  ACCESS_APPROVED_TEXT,
  findAllowed,
  listPendingRequests,
  startPairing,
} from '../../lib/policy/index.js';
import { type Simulator, startSimulator } from '../../lib/simulator/index.js';
import type { StateStore } from '../../lib/state/port.js';
import type { TestDynalite } from '../support/dynalite.js';
import {
  closedPort,
  freshTable,
  runCli,
  startTestDynalite,
  stubAwsCredentials,
} from './support.js';

let db: TestDynalite;

beforeAll(async () => {
  stubAwsCredentials();
  db = await startTestDynalite();
});

afterAll(async () => {
  await db.close();
  vi.unstubAllEnvs();
});

const MULTI = {
  clientId: 'dingdefaultapp',
  clientSecret: 'default-secret',
  accounts: { work: { clientId: 'dingworkapp', clientSecret: 'work-secret' } },
};

/** Creates a pending request as the channel would, with real time (the CLI uses the system clock). */
async function request(store: StateStore, userId: string, accountId = 'default', nick?: string) {
  const started = await startPairing(
    store,
    { accountId, userId, ...(nick ? { nick } : {}) },
    { clock: manualClock(Date.now()) },
  );
  if (started.status !== 'created') throw new Error(`pairing not created: ${started.status}`);
  return started.request;
}

describe('§3 Pairing: dingtalk-channel pairing', () => {
  it('list says so when nothing is pending', async () => {
    const { env } = await freshTable(db);
    expect(await runCli(['pairing', 'list'], env)).toEqual({
      code: 0,
      out: 'No pending pairing requests for account default.',
      err: '',
    });
    expect(await runCli(['pairing', 'list', '--json'], env)).toMatchObject({ code: 0, out: '[]' });
  });

  it('list shows code, user id, nick and times, as a table or JSON', async () => {
    const { store, env } = await freshTable(db);
    const alice = await request(store, 'alice', 'default', 'Alice W');
    const bob = await request(store, 'bob');
    const human = await runCli(['pairing', 'list'], env);
    expect(human.code).toBe(0);
    const lines = human.out.split('\n');
    expect(lines[0]).toMatch(/^CODE\s+USER ID\s+NICK\s+CREATED\s+EXPIRES$/);
    expect(lines[1]).toMatch(
      new RegExp(
        `^${alice.code}\\s+alice\\s+Alice W\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ`,
      ),
    );
    expect(lines[2]).toContain(bob.code);
    expect(human.out).toContain('dingtalk-channel pairing approve <CODE>');

    const json = await runCli(['pairing', 'list', '--json'], env);
    expect(JSON.parse(json.out)).toEqual([
      {
        code: alice.code,
        userId: 'alice',
        nick: 'Alice W',
        createdAt: new Date(alice.createdAt).toISOString(),
        expiresAt: new Date(alice.expiresAt * 1000).toISOString(),
      },
      expect.objectContaining({ code: bob.code, userId: 'bob', nick: null }),
    ]);
  });

  it('escapes control characters from senders, so a nickname cannot draw fake rows', async () => {
    const { store, env } = await freshTable(db);
    const evil = 'Eve\nFAKE01  admin  Admin  2026-01-01 00:00:00Z\u001b[31m\u202e';
    const eve = await request(store, 'eve', 'default', evil);
    const human = await runCli(['pairing', 'list'], env);
    const lines = human.out.split('\n');
    // Header, one row, the approve hint: no injected line, no raw escape or bidi override.
    expect(lines).toHaveLength(3);
    expect(lines[1]).toContain('Eve\\nFAKE01  admin  Admin  2026-01-01 00:00:00Z\\x1b[31m\\u202e');
    // biome-ignore lint/suspicious/noControlCharactersInRegex: no raw control character may remain
    expect(human.out).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f\u202e]/);
    const approved = await runCli(['pairing', 'approve', eve.code], env);
    expect(approved.out).toContain('eve (Eve\\nFAKE01');
    // biome-ignore lint/suspicious/noControlCharactersInRegex: no raw control character may remain
    expect(approved.out).not.toMatch(/[\u0000-\u001f\u007f]/);
  });

  it('approve (any case) allowlists the sender and removes the request', async () => {
    const { store, env } = await freshTable(db);
    const alice = await request(store, 'alice', 'default', 'Alice W');
    const result = await runCli(['pairing', 'approve', alice.code.toLowerCase()], env);
    expect(result).toEqual({
      code: 0,
      out: `Approved ${alice.code} for account default: alice (Alice W) can now DM the bot.`,
      err: '',
    });
    expect(await findAllowed(store, 'default', 'alice')).toMatchObject({ via: 'pairing' });
    expect(await listPendingRequests(store, 'default', Date.now())).toEqual([]);
  });

  it('approve of an unknown code exits 1 with a specific message', async () => {
    const { env } = await freshTable(db);
    const result = await runCli(['pairing', 'approve', 'ABCD2345'], env);
    expect(result.code).toBe(1);
    expect(result.err.split('\n')[0]).toBe(
      'No pending pairing request with code ABCD2345 for account default',
    );
    expect(result.out).toBe('');
  });

  it('reject deletes the request and says when the sender may ask again', async () => {
    const { store, env } = await freshTable(db);
    const bob = await request(store, 'bob');
    const result = await runCli(['pairing', 'reject', bob.code], env);
    expect(result.code).toBe(0);
    expect(result.out).toMatch(
      new RegExp(
        `^Rejected ${bob.code} for account default: bob gets no access; they may ask again after \\d{4}-`,
      ),
    );
    expect(await listPendingRequests(store, 'default', Date.now())).toEqual([]);
    expect(await findAllowed(store, 'default', 'bob')).toBeUndefined();
    expect((await runCli(['pairing', 'reject', bob.code], env)).code).toBe(1);
  });

  it('--account picks the account; the default one is used otherwise', async () => {
    const { store, env } = await freshTable(db, MULTI);
    const w = await request(store, 'walter', 'work');
    expect((await runCli(['pairing', 'list'], env)).out).toBe(
      'No pending pairing requests for account default.',
    );
    const listed = await runCli(['pairing', 'list', '--account', 'work'], env);
    expect(listed.out).toContain(w.code);
    expect(listed.out).toContain('pairing approve <CODE> --account work');
    expect((await runCli(['pairing', 'approve', w.code], env)).code).toBe(1);
    expect((await runCli(['pairing', 'approve', w.code, '--account', 'work'], env)).code).toBe(0);
    expect(await findAllowed(store, 'work', 'walter')).toBeDefined();
    expect(await findAllowed(store, 'default', 'walter')).toBeUndefined();
  });

  it('an unknown --account exits 2 listing the known accounts', async () => {
    const { env } = await freshTable(db, MULTI);
    const result = await runCli(['pairing', 'list', '--account', 'wrok'], env);
    expect(result.code).toBe(2);
    expect(result.err).toContain('Unknown account "wrok"; known accounts: default, work.');
    expect(result.err).toContain('Did you mean "work"?');
  });

  it.each([
    [['pairing'], 'Missing action.'],
    [['pairing', 'show'], 'Unknown pairing action "show".'],
    [['pairing', 'approve'], 'pairing approve needs a code.'],
    [['pairing', 'list', 'ABCD2345'], 'pairing list takes no code'],
    [['pairing', 'approve', 'ABCD2345', 'extra'], 'Unexpected argument "extra".'],
    [['pairing', 'approve', 'abc'], '"abc" is not a pairing code'],
    [['pairing', 'approve', 'ABCD2345', '--json'], '--json only applies to pairing list.'],
    [['pairing', 'reject', 'ABCD2345', '--notify'], '--notify only applies to pairing approve.'],
    [['pairing', 'list', '--acount', 'x'], "Unknown option '--acount'"],
  ])('usage error %j exits 2: %s', async (argv, message) => {
    const { env } = await freshTable(db);
    const result = await runCli(argv, env);
    expect(result.code).toBe(2);
    expect(result.err).toContain(message);
    expect(result.err).toContain('Usage:');
  });

  it('--help prints the usage and exits 0', async () => {
    const result = await runCli(['pairing', '--help'], {});
    expect(result.code).toBe(0);
    expect(result.out).toContain('dingtalk-channel pairing approve <CODE>');
  });

  it('a configuration error exits 2 with the ConfigError text', async () => {
    const { env } = await freshTable(db, { dm: { policy: 'open', allowFrom: [] } });
    const result = await runCli(['pairing', 'list'], env);
    expect(result.code).toBe(2);
    expect(result.err).toMatch(/^Invalid configuration:/);
    expect(result.err).toContain('channels.dingtalk.dm.allowFrom');
  });

  it('the memory backend is refused with exit 2 (its state lives inside the channel process)', async () => {
    const result = await runCli(['pairing', 'list'], { STATE_BACKEND: 'memory' });
    expect(result.code).toBe(2);
    expect(result.err).toContain('STATE_BACKEND is "memory"');
  });

  it('an unreachable store exits 1 naming the table and endpoint', async () => {
    const port = await closedPort();
    const endpoint = `http://127.0.0.1:${port}`;
    const env = {
      STATE_BACKEND: 'dynamodb',
      DYNAMODB_ENDPOINT: endpoint,
      STATE_TABLE: 'nowhere',
      AWS_REGION: 'us-east-1',
    };
    const result = await runCli(['pairing', 'list'], env);
    expect(result.code).toBe(1);
    expect(result.err).toContain(`cannot reach DynamoDB table "nowhere" at ${endpoint}`);
  });
});

describe('§3 Pairing: approve --notify', () => {
  let sim: Simulator;
  const app = { clientId: 'dingnotifyapp', clientSecret: 'notify-secret', accountId: 'default' };

  beforeAll(async () => {
    sim = await startSimulator({ apps: [app], users: ['alice'] });
  });
  afterAll(async () => {
    await sim.close();
  });

  function notifyEnv(env: NodeJS.ProcessEnv, apiBase: string): NodeJS.ProcessEnv {
    return {
      ...env,
      DINGTALK_CONFIG: JSON.stringify({
        channels: { dingtalk: { clientId: app.clientId, clientSecret: app.clientSecret } },
      }),
      DINGTALK_API_BASE: apiBase,
    };
  }

  it('sends the sender an "access approved" DM through the robot OpenAPI', async () => {
    const { store, env } = await freshTable(db);
    const alice = await request(store, 'alice');
    const result = await runCli(
      ['pairing', 'approve', alice.code, '--notify'],
      notifyEnv(env, sim.apiBase),
    );
    expect(result.code).toBe(0);
    expect(result.out).toContain('Sent alice a message saying their access was approved.');
    const sent = sim.outbox().filter((e) => e.userIds?.includes('alice'));
    expect(sent).toEqual([
      expect.objectContaining({ via: 'openapi', account: 'default', text: ACCESS_APPROVED_TEXT }),
    ]);
  });

  it('a failed notify warns on stderr, exits 0, and the approval stands', async () => {
    const { store, env } = await freshTable(db);
    const alice = await request(store, 'alice');
    const deadApi = `http://127.0.0.1:${await closedPort()}`;
    const result = await runCli(
      ['pairing', 'approve', alice.code, '--notify'],
      notifyEnv(env, deadApi),
    );
    expect(result.code).toBe(0);
    expect(result.out).toContain(`Approved ${alice.code}`);
    expect(result.err).toMatch(
      /^Warning: approved, but the approval message to alice was not sent: /,
    );
    expect(result.err).not.toContain(app.clientSecret);
    expect(await findAllowed(store, 'default', 'alice')).toBeDefined();
  });

  it('without credentials, notify is skipped with a warning', async () => {
    const { store, env } = await freshTable(db);
    const alice = await request(store, 'alice');
    const result = await runCli(['pairing', 'approve', alice.code, '--notify'], env);
    expect(result.code).toBe(0);
    expect(result.err).toBe(
      'Warning: approved, but the approval message to alice was not sent: account default has no clientId/clientSecret configured',
    );
  });
});
