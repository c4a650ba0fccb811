import { afterEach, describe, expect, it } from 'vitest';
import { manualClock } from '../../lib/clock.js';
import type { Simulator } from '../../lib/simulator/index.js';
import { APP, APP2, call, closeAll, simulator } from './helpers.js';

afterEach(closeAll);

async function tokenFor(sim: Simulator, app = APP): Promise<string> {
  const res = await call(`${sim.url}/v1.0/oauth2/accessToken`, {
    body: { appKey: app.clientId, appSecret: app.clientSecret },
  });
  return res.body.accessToken;
}

function api(sim: Simulator, path: string, token: string | undefined, body: unknown) {
  const headers: Record<string, string> = token ? { 'x-acs-dingtalk-access-token': token } : {};
  return call(`${sim.apiBase}${path}`, { body, headers });
}

const text = (content: string) => ({ msgKey: 'sampleText', msgParam: JSON.stringify({ content }) });
const BATCH = '/v1.0/robot/oToMessages/batchSend';
const GROUP = '/v1.0/robot/groupMessages/send';

describe('access tokens (§6.1)', () => {
  it('returns the same token while valid, and a new one after expiry', async () => {
    const clock = manualClock();
    const sim = await simulator({ clock, tokenTtlSeconds: 60 });
    const first = await call(`${sim.url}/v1.0/oauth2/accessToken`, {
      body: { appKey: APP.clientId, appSecret: APP.clientSecret },
    });
    expect(first.body).toEqual({
      accessToken: expect.stringMatching(/^[0-9a-f]{32}$/),
      expireIn: 60,
    });
    expect(await tokenFor(sim)).toBe(first.body.accessToken);
    expect(await tokenFor(sim, APP2)).not.toBe(first.body.accessToken);
    clock.advance(60_001);
    expect(await tokenFor(sim)).not.toBe(first.body.accessToken);
  });

  it('rejects bad credentials: 400 on oauth2, HTTP 200 errcode 40096 on legacy gettoken', async () => {
    const sim = await simulator();
    const bad = await call(`${sim.url}/v1.0/oauth2/accessToken`, {
      body: { appKey: APP.clientId, appSecret: 'x' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('invalidClientIdOrSecret');
    const legacyBad = await call(`${sim.oapiBase}/gettoken?appkey=${APP.clientId}&appsecret=x`);
    expect(legacyBad).toMatchObject({ status: 200, body: { errcode: 40096 } });
    const legacy = await call(
      `${sim.oapiBase}/gettoken?appkey=${APP.clientId}&appsecret=${APP.clientSecret}`,
    );
    expect(legacy.body).toEqual({
      errcode: 0,
      access_token: await tokenFor(sim),
      errmsg: 'ok',
      expires_in: 7200,
    });
  });

  it('checks the token header: missing → MissingParameter, bad or expired → InvalidAuthentication', async () => {
    const sim = await simulator({ users: ['u1'] });
    const body = { robotCode: APP.clientId, userIds: ['u1'], ...text('x') };
    const missing = await api(sim, BATCH, undefined, body);
    expect(missing.status).toBe(400);
    expect(missing.contentType).toBe('application/json;charset=utf-8');
    expect(missing.body).toMatchObject({
      code: 'AuthenticationFailed.MissingParameter',
      requestid: expect.any(String),
    });
    expect((await api(sim, BATCH, 'bogus', body)).body.code).toBe('InvalidAuthentication');
    const token = await tokenFor(sim);
    expect((await api(sim, BATCH, token, body)).status).toBe(200);
    expect(sim.addFaults({ expireTokens: true }).tokensExpired).toBe(1);
    const expired = await api(sim, BATCH, token, body);
    expect(expired).toMatchObject({ status: 400, body: { code: 'InvalidAuthentication' } });
    expect(await tokenFor(sim)).not.toBe(token);
  });
});

describe('robot batchSend (§6.2)', () => {
  it('sends to known users, lists unknown ones as invalid, records normalised outbox entries', async () => {
    const sim = await simulator({ users: ['u1'] });
    sim.injectMessage({ conversationType: '1', sender: { staffId: 'seen' }, text: 'hi' });
    const token = await tokenFor(sim);
    const body = {
      robotCode: APP.clientId,
      userIds: ['u1', 'seen', 'ghost'],
      msgKey: 'sampleMarkdown',
      msgParam: JSON.stringify({ title: 'hello title', text: 'hello text' }),
    };
    const res = await api(sim, BATCH, token, body);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      processQueryKey: expect.any(String),
      invalidStaffIdList: ['ghost'],
      flowControlledStaffIdList: [],
    });
    expect(sim.outbox()).toEqual([
      expect.objectContaining({
        via: 'openapi',
        account: 'main',
        userIds: ['u1', 'seen'],
        msgtype: 'markdown',
        title: 'hello title',
        text: 'hello text',
        raw: body,
      }),
    ]);
  });

  it.each([
    [{ userIds: ['u1'], ...text('x') }, 'invalidParameter.robotCode.empty'],
    [
      { robotCode: 'dingotherapp', userIds: ['u1'], ...text('x') },
      'invalidParameter.robotCode.auth',
    ],
    [{ robotCode: APP.clientId, userIds: [], ...text('x') }, 'invalidParameter.userIds.empty'],
    [{ robotCode: APP.clientId, ...text('x') }, 'invalidParameter.userIds.empty'],
    [
      {
        robotCode: APP.clientId,
        userIds: Array.from({ length: 21 }, (_, i) => `u${i}`),
        ...text('x'),
      },
      'invalidParameter.userIds.overMax',
    ],
    [{ robotCode: APP.clientId, userIds: ['u1'], msgParam: '{}' }, 'invalidParameter.msgKey.empty'],
    [
      { robotCode: APP.clientId, userIds: ['u1'], msgKey: 'sampleActionCard1', msgParam: '{}' },
      'invalidParameter.msgKey.invalid',
    ],
    [
      {
        robotCode: APP.clientId,
        userIds: ['u1'],
        msgKey: 'sampleText',
        msgParam: { content: 'x' },
      },
      'invalidParameter.msgParam.invalid',
    ],
    [
      { robotCode: APP.clientId, userIds: ['u1'], msgKey: 'sampleText', msgParam: '{bad' },
      'invalidParameter.msgParam.invalid',
    ],
    [
      {
        robotCode: APP.clientId,
        userIds: ['u1'],
        msgKey: 'sampleMarkdown',
        msgParam: '{"text":"x"}',
      },
      'invalidParameter.msgParam.invalid',
    ],
  ])('rejects %j with 400 %s', async (body, code) => {
    const sim = await simulator({ users: ['u1'] });
    const res = await api(sim, BATCH, await tokenFor(sim), body);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ requestid: expect.any(String), code, message: expect.any(String) });
    expect(sim.outbox()).toHaveLength(0);
  });

  it('accepts actionTitle1 and actionTitle spellings for sampleActionCard2..5', async () => {
    const sim = await simulator({ users: ['u1'] });
    const token = await tokenFor(sim);
    for (const param of [
      { title: 't', text: 'x', actionTitle1: 'a', actionURL1: 'https://a' },
      { title: 't', text: 'x', actionTitle: 'a', actionURL: 'https://a' },
    ]) {
      const res = await api(sim, BATCH, token, {
        robotCode: APP.clientId,
        userIds: ['u1'],
        msgKey: 'sampleActionCard3',
        msgParam: JSON.stringify(param),
      });
      expect(res.status).toBe(200);
    }
    expect(sim.outbox().map((e) => e.msgtype)).toEqual(['actionCard', 'actionCard']);
  });

  it('returns flowControlledStaffIdList for the next N batchSends when a flowControl fault is set', async () => {
    const sim = await simulator({ users: ['u1', 'u2'] });
    const token = await tokenFor(sim);
    sim.addFaults({ flowControl: { staffIds: ['u2'] } });
    const body = { robotCode: APP.clientId, userIds: ['u1', 'u2'], ...text('x') };
    const throttled = await api(sim, BATCH, token, body);
    expect(throttled.body.flowControlledStaffIdList).toEqual(['u2']);
    expect(sim.outbox()[0]?.userIds).toEqual(['u1']);
    expect((await api(sim, BATCH, token, body)).body.flowControlledStaffIdList).toEqual([]);
  });
});

describe('robot groupMessages/send (§6.2)', () => {
  it('sends to a group the bot was seen in and records it', async () => {
    const sim = await simulator();
    const { conversationId } = sim.injectMessage({
      conversationType: '2',
      sender: { staffId: 'u' },
      text: 'hi',
    });
    const res = await api(sim, GROUP, await tokenFor(sim), {
      robotCode: APP.clientId,
      openConversationId: conversationId,
      ...text('今天吃肘子'),
    });
    expect(res.status).toBe(200);
    expect(Object.keys(res.body)).toEqual(['processQueryKey']);
    expect(sim.outbox()[0]).toMatchObject({
      via: 'openapi',
      conversationId,
      msgtype: 'text',
      text: '今天吃肘子',
    });
  });

  it('rejects unknown groups, groups of another bot, and msgParam over 15000 bytes', async () => {
    const sim = await simulator({ groups: ['cidConfigured=='] });
    const other = sim.injectMessage({
      account: 'other',
      conversationType: '2',
      sender: { staffId: 'u' },
      text: 'hi',
    });
    const token = await tokenFor(sim);
    for (const openConversationId of ['cidNope==', other.conversationId, undefined]) {
      const res = await api(sim, GROUP, token, {
        robotCode: APP.clientId,
        openConversationId,
        ...text('x'),
      });
      expect(res.body.code).toBe('invalid.openConversationId');
    }
    const big = await api(sim, GROUP, token, {
      robotCode: APP.clientId,
      openConversationId: 'cidConfigured==',
      ...text('x'.repeat(15_000)),
    });
    expect(big).toMatchObject({ status: 400, body: { code: 'invalidParameter.msgParam.invalid' } });
    expect(big.body.message).toContain('15000');
    const ok = await api(sim, GROUP, token, {
      robotCode: APP.clientId,
      openConversationId: 'cidConfigured==',
      ...text('x'),
    });
    expect(ok.status).toBe(200);
  });
});

describe('rate limits, faults and unknown routes', () => {
  it('answers 403 QpsLimitForAppkeyAndApi past the per app+API bucket, refilled over time', async () => {
    const clock = manualClock();
    const sim = await simulator({ clock, qpsPerApp: 2, users: ['u1'] });
    const token = await tokenFor(sim);
    const body = { robotCode: APP.clientId, userIds: ['u1'], ...text('x') };
    const statuses = [];
    for (let i = 0; i < 3; i += 1) statuses.push((await api(sim, BATCH, token, body)).status);
    expect(statuses).toEqual([200, 200, 403]);
    const limited = await api(sim, BATCH, token, body);
    expect(limited.body.code).toBe('Forbidden.AccessDenied.QpsLimitForAppkeyAndApi');
    const otherApi = await api(sim, '/v1.0/robot/messageFiles/download', token, {
      robotCode: APP.clientId,
      downloadCode: 'x',
    });
    expect(otherApi.status).toBe(400);
    clock.advance(1_000);
    expect((await api(sim, BATCH, token, body)).status).toBe(200);
    expect(sim.stats().qpsRejections).toBe(2);
  });

  it('applies OpenAPI faults to the next N calls, optionally only on one path', async () => {
    const sim = await simulator({ users: ['u1'] });
    const token = await tokenFor(sim);
    sim.addFaults({ openapi: { code: 'Forbidden.AccessDenied.QpsLimitForApi', path: BATCH } });
    const download = await api(sim, '/v1.0/robot/messageFiles/download', token, {
      robotCode: APP.clientId,
      downloadCode: 'x',
    });
    expect(download.body.code).toBe('invalidParameter.downloadCode.invalid');
    const body = { robotCode: APP.clientId, userIds: ['u1'], ...text('x') };
    const faulted = await api(sim, BATCH, token, body);
    expect(faulted).toMatchObject({
      status: 403,
      body: { code: 'Forbidden.AccessDenied.QpsLimitForApi' },
    });
    expect((await api(sim, BATCH, token, body)).status).toBe(200);
  });

  it('answers unknown routes with 404 JSON and malformed OpenAPI bodies with 400', async () => {
    const sim = await simulator();
    const unknown = await call(`${sim.url}/v1.0/robot/unknown`, { body: {} });
    expect(unknown.status).toBe(404);
    expect(unknown.contentType).toBe('application/json;charset=utf-8');
    expect(unknown.body.code).toBe('NotFound');
    const token = await tokenFor(sim);
    const empty = await call(`${sim.url}${BATCH}`, {
      raw: '',
      headers: { 'x-acs-dingtalk-access-token': token },
    });
    expect(empty.status).toBe(400);
    const raw = await call(`${sim.url}${BATCH}`, {
      raw: '{oops',
      headers: { 'x-acs-dingtalk-access-token': token },
    });
    expect(raw.body.code).toBe('invalidParameter.param.invalid');
  });
});
