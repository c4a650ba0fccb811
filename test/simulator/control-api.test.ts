import { afterEach, describe, expect, it } from 'vitest';
import { TOPIC_ROBOT } from '../../lib/dingtalk/payload.js';
import { APP, call, closeAll, RawStreamClient, simulator } from './helpers.js';

afterEach(closeAll);

describe('control API over HTTP (/__sim/)', () => {
  it('injects, lists messages, ACKs, connections and stats', async () => {
    const sim = await simulator();
    const client = await RawStreamClient.connect(sim);
    const injected = await call(`${sim.url}/__sim/messages`, {
      body: { conversationType: '1', sender: { staffId: 'u1' }, text: 'hi' },
    });
    expect(injected.body.state).toBe('delivered');
    const frame = await client.waitForFrame((f) => f.headers.topic === TOPIC_ROBOT);
    client.ack(frame);
    await sim.waitForAck(injected.body.messageId);
    const messages = await call(`${sim.url}/__sim/messages`);
    expect(messages.body).toEqual([
      expect.objectContaining({
        messageId: injected.body.messageId,
        msgId: injected.body.msgId,
        state: 'acked',
        deliveries: [
          expect.objectContaining({ connectionId: frame.headers.connectionId, redelivery: false }),
        ],
      }),
    ]);
    const acks = await call(`${sim.url}/__sim/acks`);
    expect(acks.body[0]).toMatchObject({
      messageId: injected.body.messageId,
      kind: 'callback',
      matched: true,
    });
    const connections = await call(`${sim.url}/__sim/connections`);
    expect(connections.body[0]).toMatchObject({
      id: frame.headers.connectionId,
      state: 'open',
      pushes: 1,
      acks: 1,
    });
    const stats = await call(`${sim.url}/__sim/stats`);
    expect(stats.body).toMatchObject({
      gatewayOpens: 1,
      handshakesAccepted: 1,
      pushes: 1,
      acks: 1,
      injected: 1,
    });
  });

  it('injects events and validates them', async () => {
    const sim = await simulator();
    const ok = await call(`${sim.url}/__sim/events`, {
      body: { eventType: 'user_add_org', data: { a: 1 } },
    });
    expect(ok.body).toMatchObject({
      messageId: expect.any(String),
      eventId: expect.any(String),
      state: 'queued',
    });
    const bad = await call(`${sim.url}/__sim/events`, { body: { data: [] } });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain('eventType');
  });

  it('disconnects, stalls and drops connections; 404 for unknown ids, 409 for closed ones', async () => {
    const sim = await simulator({ disconnectGraceMs: 50 });
    const a = await RawStreamClient.connect(sim);
    const b = await RawStreamClient.connect(sim);
    const [idA, idB] = sim.connections().map((c) => c.id);
    const disconnected = await call(`${sim.url}/__sim/connections/${idA}/disconnect`, {
      method: 'POST',
    });
    expect(disconnected.body).toMatchObject({ id: idA, state: 'draining' });
    await a.waitForFrame((f) => f.headers.topic === 'disconnect');
    const stalled = await call(`${sim.url}/__sim/connections/${idB}/stall`, { method: 'POST' });
    expect(stalled.body.state).toBe('stalled');
    const dropped = await call(`${sim.url}/__sim/connections/${idB}/drop`, { method: 'POST' });
    expect(dropped.status).toBe(200);
    expect(await b.waitForClose()).toBe(1006);
    await sim.waitForConnection((c) => c.id === idB && c.state === 'closed');
    const again = await call(`${sim.url}/__sim/connections/${idB}/drop`, { method: 'POST' });
    expect(again.status).toBe(409);
    const unknown = await call(`${sim.url}/__sim/connections/nope/disconnect`, { method: 'POST' });
    expect(unknown.status).toBe(404);
    const wrongMethod = await call(`${sim.url}/__sim/connections/${idA}/drop`);
    expect(wrongMethod.status).toBe(405);
  });

  it('adds, lists and clears faults; validates the fault JSON', async () => {
    const sim = await simulator();
    const added = await call(`${sim.url}/__sim/faults`, {
      body: {
        gateway: { count: 2, status: 500 },
        openapi: { code: 'Forbidden.AccessDenied.QpsLimitForApi' },
      },
    });
    expect(added.status).toBe(200);
    expect(added.body.pending.gateway).toEqual([{ count: 2, status: 500 }]);
    expect(added.body.pending.openapi).toEqual([
      { count: 1, status: 403, code: 'Forbidden.AccessDenied.QpsLimitForApi' },
    ]);
    expect((await call(`${sim.url}/__sim/faults`)).body.pending.gateway).toHaveLength(1);
    const cleared = await call(`${sim.url}/__sim/faults`, { method: 'DELETE' });
    expect(cleared.body.pending.gateway).toEqual([]);
    const gateway = await call(sim.gatewayUrl, { body: { ...APP, subscriptions: [] } });
    expect(gateway.status).toBe(200);
  });

  it.each([
    [{}, 'name at least one fault'],
    [{ bogus: {} }, 'bogus'],
    [{ gateway: { count: 0 } }, 'gateway.count'],
    [{ handshake: { status: 200 } }, 'handshake.status'],
    [{ webhook: { errcode: 300001, status: 502 } }, 'not both'],
    [{ webhook: { errcode: 0 } }, 'errcode'],
    [{ openapi: { path: '/elsewhere' } }, 'openapi.path'],
    [{ expireTokens: false }, 'expireTokens'],
    [{ malformedFrame: { connectionId: 'nope' } }, 'malformedFrame.connectionId'],
    ['not an object', 'expected object'],
  ])('rejects fault request %j naming %s', async (body, field) => {
    const sim = await simulator();
    const res = await call(`${sim.url}/__sim/faults`, { body });
    expect(res.status).toBe(400);
    expect(res.body.message).toContain(field);
    expect(() => sim.addFaults(body as never)).toThrow(field);
  });

  it('answers malformed control requests with 400 and unknown ones with 404', async () => {
    const sim = await simulator();
    for (const raw of ['', '{x', '[]']) {
      const res = await call(`${sim.url}/__sim/faults`, { raw });
      expect(res.status).toBe(400);
    }
    expect((await call(`${sim.url}/__sim/outbox?since=-1`)).status).toBe(400);
    expect((await call(`${sim.url}/__sim/outbox?since=abc`)).status).toBe(400);
    const unknown = await call(`${sim.url}/__sim/nothing`);
    expect(unknown.status).toBe(404);
    expect(unknown.body.message).toContain('POST /__sim/messages');
  });

  it('shows gateway requests over HTTP with the client secret masked', async () => {
    const sim = await simulator();
    await RawStreamClient.connect(sim);
    const res = await call(`${sim.url}/__sim/gateway-requests`);
    expect(res.body[0].body).toContain('"clientSecret":"***"');
    expect(res.text).not.toContain(APP.clientSecret);
    expect(sim.gatewayRequests()[0]?.body).toContain(APP.clientSecret);
  });

  it('rejects pending and later waits once closed', async () => {
    const sim = await simulator();
    const waiting = sim.waitForOutbox(1, 10_000);
    await sim.close();
    await expect(waiting).rejects.toThrow('closed');
    await expect(sim.waitForOutbox(1)).rejects.toThrow('closed');
  });
});
