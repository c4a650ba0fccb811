/**
 * Outbound sends (channel-semantics.md §8) against the simulator: the target grammar, the
 * `dingtalk-channel send` command and the send function with its bearer token.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { handleSendRequest, resetSendFunction } from '../../functions/send/handler.js';
import { type CliIo, main } from '../../lib/cli/main.js';
import { clearTokenCache } from '../../lib/dingtalk/api.js';
import { parseTarget } from '../../lib/dingtalk/targets.js';
import { type Simulator, startSimulator } from '../../lib/simulator/index.js';

const APP = { clientId: 'dingsendapp', clientSecret: 'send-secret-1', accountId: 'default' };
const TOKEN = 'send-token-0123456789abcdef0123456789';
let sim: Simulator;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  sim = await startSimulator({ apps: [APP] });
  // The simulator knows users and groups from messages it delivered.
  sim.injectMessage({ conversationType: '1', sender: { staffId: 'manager807' }, text: 'hi' });
  sim.injectMessage({
    conversationType: '2',
    conversationId: 'cidTeamRoom==',
    sender: { staffId: 'u2' },
    text: 'hi',
    atBot: true,
  });
  env = {
    DINGTALK_CLIENT_ID: APP.clientId,
    DINGTALK_CLIENT_SECRET: APP.clientSecret,
    DINGTALK_API_BASE: sim.apiBase,
    STATE_BACKEND: 'memory',
    SEND_TOKEN: TOKEN,
  };
});
afterAll(() => sim.close());
beforeEach(() => {
  clearTokenCache();
  resetSendFunction();
});

function io(): CliIo & { out: (l: string) => void; lines: string[]; errors: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  return { lines, errors, out: (l) => lines.push(l), err: (l) => errors.push(l), env };
}

describe('targets (§8)', () => {
  it.each([
    ['dingtalk:group:cidAbc==', { kind: 'group', openConversationId: 'cidAbc==' }],
    ['dingtalk:user:manager807', { kind: 'user', userId: 'manager807' }],
    ['dingtalk:cidAbc==', { kind: 'group', openConversationId: 'cidAbc==' }],
    ['dingtalk:manager807', { kind: 'user', userId: 'manager807' }],
    ['cidAbc==', { kind: 'group', openConversationId: 'cidAbc==' }],
    ['user:01426861-1254332033', { kind: 'user', userId: '01426861-1254332033' }],
    ['DingTalk:Group:cidX', { kind: 'group', openConversationId: 'cidX' }],
  ])('%s', (raw, expected) => {
    expect(parseTarget(raw)).toEqual(expected);
  });

  it.each(['', 'dingtalk:', 'dingtalk:user:', 'dingtalk:chat:x', 'two words', 'slack:C123'])(
    'rejects %j naming the accepted forms',
    (raw) => {
      expect(() => parseTarget(raw)).toThrow(/dingtalk:group:<openConversationId>/);
    },
  );
});

describe('dingtalk-channel send', () => {
  it('sends to a group and to a user through the OpenAPI', async () => {
    const before = sim.outbox().length;
    const a = io();
    expect(await main(['send', 'dingtalk:cidTeamRoom==', 'Deploy finished'], a)).toBe(0);
    expect(a.lines.join('\n')).toContain('group cidTeamRoom==');
    expect(await main(['send', 'dingtalk:user:manager807', 'Your report is ready'], io())).toBe(0);
    expect(sim.outbox().slice(before)).toMatchObject([
      { via: 'openapi', conversationId: 'cidTeamRoom==', text: 'Deploy finished' },
      { via: 'openapi', userIds: ['manager807'], text: 'Your report is ready' },
    ]);
  });

  it('exits 2 with the accepted forms for a bad target, and 1 when DingTalk refuses', async () => {
    const bad = io();
    expect(await main(['send', 'slack:C1', 'x'], bad)).toBe(2);
    expect(bad.errors.join('\n')).toContain('dingtalk:user:<userId>');
    const unknownGroup = io();
    expect(await main(['send', 'dingtalk:cidNobody==', 'x'], unknownGroup)).toBe(1);
    expect(unknownGroup.errors.join('\n')).toContain('invalid.openConversationId');
  });
});

describe('a disabled account is disabled (issue 15)', () => {
  const withDisabled = () => ({
    ...env,
    DINGTALK_CONFIG: JSON.stringify({
      accounts: {
        default: {},
        off: { enabled: false, clientId: APP.clientId, clientSecret: APP.clientSecret },
      },
    }),
  });

  it('dingtalk-channel send --account <disabled> is refused with exit 2 and sends nothing', async () => {
    const before = sim.outbox().length;
    const out = { ...io(), env: withDisabled() };
    expect(await main(['send', 'dingtalk:manager807', 'hi', '--account', 'off'], out)).toBe(2);
    expect(out.errors.join('\n')).toContain('Account "off" is disabled (enabled: false)');
    expect(sim.outbox().length).toBe(before);
  });

  it('the send function answers 403 account_disabled and sends nothing', async () => {
    const before = sim.outbox().length;
    const result = await handleSendRequest(
      {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}` },
        body: JSON.stringify({ target: 'dingtalk:manager807', text: 'hi', account: 'off' }),
      },
      withDisabled(),
    );
    expect(result).toMatchObject({ status: 403, body: { error: 'account_disabled' } });
    expect(sim.outbox().length).toBe(before);
  });
});

describe('send function', () => {
  const request = (body: unknown, authorization?: string) => ({
    method: 'POST',
    headers: authorization ? { Authorization: authorization } : {},
    body: JSON.stringify(body),
  });

  it('refuses a missing or wrong token with 401 before sending anything', async () => {
    const before = sim.outbox().length;
    for (const auth of [undefined, 'Bearer wrong-token', `Basic ${TOKEN}`, `Bearer ${TOKEN}x`]) {
      const result = await handleSendRequest(
        request({ target: 'dingtalk:manager807', text: 'x' }, auth),
        env,
      );
      expect(result.status).toBe(401);
    }
    expect(sim.outbox().length).toBe(before);
  });

  it('sends with the right token', async () => {
    const result = await handleSendRequest(
      request(
        { target: 'dingtalk:group:cidTeamRoom==', text: 'From the scheduler' },
        `Bearer ${TOKEN}`,
      ),
      env,
    );
    expect(result).toEqual({ status: 200, body: { sent: 1 } });
    expect(sim.outbox().at(-1)).toMatchObject({
      via: 'openapi',
      conversationId: 'cidTeamRoom==',
      text: 'From the scheduler',
    });
  });

  it('answers bad bodies, bad targets and DingTalk refusals with specific errors', async () => {
    const auth = `Bearer ${TOKEN}`;
    expect(
      await handleSendRequest({ headers: { authorization: auth }, body: 'not json' }, env),
    ).toMatchObject({ status: 400 });
    expect(await handleSendRequest(request({ target: 'dingtalk:x' }, auth), env)).toMatchObject({
      status: 400,
      body: { message: expect.stringContaining('`text`') },
    });
    expect(
      await handleSendRequest(request({ target: 'slack:x', text: 'hi' }, auth), env),
    ).toMatchObject({
      status: 400,
      body: { error: 'invalid_target' },
    });
    expect(
      await handleSendRequest(
        request({ target: 'dingtalk:x', text: 'hi', account: 'nope' }, auth),
        env,
      ),
    ).toMatchObject({
      status: 404,
    });
    expect(
      await handleSendRequest(request({ target: 'dingtalk:cidNobody==', text: 'hi' }, auth), env),
    ).toMatchObject({
      status: 502,
      body: { code: 'invalid.openConversationId' },
    });
  });

  it('is disabled (503) without SEND_TOKEN', async () => {
    const { SEND_TOKEN: _unused, ...withoutToken } = env;
    const result = await handleSendRequest(
      request({ target: 'dingtalk:x', text: 'hi' }, 'Bearer anything'),
      withoutToken,
    );
    expect(result.status).toBe(503);
  });
});
