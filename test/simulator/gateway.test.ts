import { afterEach, describe, expect, it } from 'vitest';
import { manualClock } from '../../lib/clock.js';
import {
  APP,
  call,
  closeAll,
  openTicket,
  RawStreamClient,
  ROBOT_SUBS,
  simulator,
  tryHandshake,
} from './helpers.js';

afterEach(closeAll);

describe('gateway /open (§1.1, §8.1)', () => {
  it('accepts what N215 sends (ua "", no localIp) and GO extras, and returns a ws endpoint + ticket', async () => {
    const sim = await simulator();
    const res = await call(sim.gatewayUrl, {
      body: { ...APP, accountId: undefined, ua: '', subscriptions: ROBOT_SUBS, extras: { k: 'v' } },
    });
    expect(res.status).toBe(200);
    expect(res.contentType).toBe('application/json;charset=utf-8');
    expect(res.body.endpoint).toBe(`${sim.url.replace('http', 'ws')}/connect`);
    expect(res.body.ticket).toMatch(/^[0-9a-f-]{36}$/);
    const recorded = sim.gatewayRequests()[0];
    expect(recorded?.status).toBe(200);
    expect(recorded?.subscriptions).toEqual(ROBOT_SUBS);
    expect(sim.stats().gatewayOpens).toBe(1);
  });

  it('rejects bad credentials with 400 invalidClientIdOrSecret in the OpenAPI envelope', async () => {
    const sim = await simulator();
    const res = await call(sim.gatewayUrl, {
      body: { clientId: APP.clientId, clientSecret: 'wrong', subscriptions: ROBOT_SUBS },
    });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'invalidClientIdOrSecret' });
    expect(typeof res.body.requestid).toBe('string');
    expect(typeof res.body.message).toBe('string');
    expect(sim.stats().gatewayRejected).toBe(1);
  });

  it('answers malformed bodies with a 400 DingTalk-style error and keeps serving', async () => {
    const sim = await simulator();
    for (const raw of ['{not json', '', '[1,2]', 'null']) {
      const res = await call(sim.gatewayUrl, { raw });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ code: expect.any(String), message: expect.any(String) });
    }
    const badSubs = await call(sim.gatewayUrl, {
      body: { ...APP, subscriptions: [{ type: 'WHATEVER', topic: 'x' }] },
    });
    expect(badSubs.status).toBe(400);
    expect(badSubs.body.message).toContain('subscriptions[0].type');
    expect((await openTicket(sim)).ticket).toBeTruthy();
  });

  it('answers 406 without Accept: application/json only in strict mode', async () => {
    const strict = await simulator({ strictAccept: true });
    const body = JSON.stringify({ ...APP, subscriptions: ROBOT_SUBS });
    const noAccept = await fetch(strict.gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    expect(noAccept.status).toBe(406);
    const lenient = await simulator();
    const ok = await fetch(lenient.gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    expect(ok.status).toBe(200);
  });

  it('applies injected gateway faults to the next N calls only', async () => {
    const sim = await simulator();
    sim.addFaults({ gateway: { count: 2, status: 503 } });
    const body = { ...APP, subscriptions: ROBOT_SUBS };
    const first = await call(sim.gatewayUrl, { body });
    const second = await call(sim.gatewayUrl, { body });
    const third = await call(sim.gatewayUrl, { body });
    expect([first.status, second.status, third.status]).toEqual([503, 503, 200]);
    expect(first.body).toMatchObject({ code: 'ServiceUnavailable' });
  });
});

describe('WebSocket handshake tickets (§1.2, §8.1)', () => {
  it('accepts a fresh ticket once and refuses reuse with 401', async () => {
    const sim = await simulator();
    const { endpoint, ticket } = await openTicket(sim);
    const first = await tryHandshake(`${endpoint}?ticket=${ticket}`);
    expect(first.ws).toBeDefined();
    first.ws?.terminate();
    const again = await tryHandshake(`${endpoint}?ticket=${ticket}`);
    expect(again.status).toBe(401);
    expect(JSON.parse(again.body ?? '{}').message).toContain('already used');
    expect(sim.stats()).toMatchObject({ handshakesAccepted: 1, handshakesRejected: 1 });
  });

  it('refuses unknown tickets (401), missing tickets (400) and other paths (404)', async () => {
    const sim = await simulator();
    const ws = sim.url.replace('http', 'ws');
    expect((await tryHandshake(`${ws}/connect?ticket=nope`)).status).toBe(401);
    expect((await tryHandshake(`${ws}/connect`)).status).toBe(400);
    expect((await tryHandshake(`${ws}/elsewhere?ticket=x`)).status).toBe(404);
  });

  it('refuses a ticket older than ticketTtlMs', async () => {
    const clock = manualClock();
    const sim = await simulator({ clock, ticketTtlMs: 90_000 });
    const { endpoint, ticket } = await openTicket(sim);
    clock.advance(90_001);
    const attempt = await tryHandshake(`${endpoint}?ticket=${ticket}`);
    expect(attempt.status).toBe(401);
    expect(attempt.body).toContain('expired');
  });

  it('refuses the next N upgrades when a handshake fault is injected', async () => {
    const sim = await simulator();
    sim.addFaults({ handshake: { count: 1 } });
    const { endpoint, ticket } = await openTicket(sim);
    expect((await tryHandshake(`${endpoint}?ticket=${ticket}`)).status).toBe(400);
    const client = await RawStreamClient.connect(sim);
    expect(client.ws.readyState).toBe(client.ws.OPEN);
  });

  it('binds the connection to the app and its subscriptions', async () => {
    const sim = await simulator();
    await RawStreamClient.connect(sim, APP, [{ type: 'EVENT', topic: '*' }]);
    const [info] = sim.connections();
    expect(info).toMatchObject({
      account: 'main',
      clientId: APP.clientId,
      state: 'open',
      subscriptions: [{ type: 'EVENT', topic: '*' }],
      ua: '',
    });
    expect(info?.id).toMatch(/^[0-9a-f-]{36}$/);
  });
});
