/**
 * Conformance of the production stream client (lib/dingtalk/stream-client.ts) and, where the
 * spec asks for a comparison, the stock `dingtalk-stream@2.1.5` DWClient, against the simulator.
 * Covers dingtalk-protocol.md §8.3 items 1–7 plus a non-JSON frame, bad credentials, redelivery
 * after a missing ACK, two accounts in one process and a drop during a burst.
 */
import { DWClient } from 'dingtalk-stream';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { TOPIC_ROBOT } from '../../lib/dingtalk/payload.js';
import {
  type RobotDelivery,
  StreamClient,
  type StreamClientOptions,
} from '../../lib/dingtalk/stream-client.js';
import { memoryLogger } from '../../lib/log.js';
import {
  type Simulator,
  type SimulatorOptions,
  startSimulator,
} from '../../lib/simulator/index.js';
import { StockDWClient } from '../support/stock-client.js';

const APP = { clientId: 'dingconfapp', clientSecret: 'conf-secret-1', accountId: 'main' };
const APP2 = { clientId: 'dingconfother', clientSecret: 'conf-secret-2', accountId: 'other' };
const N215_SUBSCRIPTIONS = [
  { type: 'EVENT', topic: '*' },
  { type: 'CALLBACK', topic: TOPIC_ROBOT },
];

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});
// The stock SDK writes to the console unconditionally (and its B1 timers outlive a test).
beforeAll(() => {
  for (const level of ['info', 'warn', 'error', 'log'] as const) {
    vi.spyOn(console, level).mockImplementation(() => undefined);
  }
});
afterAll(() => vi.restoreAllMocks());

async function sim(options: SimulatorOptions = {}): Promise<Simulator> {
  const s = await startSimulator({ apps: [APP, APP2], callbackAckTimeoutMs: 300, ...options });
  cleanups.push(() => s.close());
  return s;
}

/** A wrapper client that ACKs on receipt unless told not to; records every delivery. */
function client(s: Simulator, options: Partial<StreamClientOptions> & { autoAck?: boolean } = {}) {
  const deliveries: RobotDelivery[] = [];
  const { autoAck = true, ...rest } = options;
  const c = new StreamClient({
    accountId: APP.accountId,
    clientId: APP.clientId,
    clientSecret: APP.clientSecret,
    gatewayUrl: s.gatewayUrl,
    logger: memoryLogger(),
    backoffBaseMs: 50,
    retireGraceMs: 100,
    onRobotMessage: (d) => {
      deliveries.push(d);
      if (autoAck) d.ack();
    },
    ...rest,
  });
  cleanups.push(() => c.stop());
  return { client: c, deliveries };
}

/** Polls a condition on the client side (the simulator's waitFor only wakes on its own changes). */
async function until(probe: () => boolean, timeoutMs = 2000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const openConnections = (s: Simulator, account = APP.accountId) =>
  s.connections().filter((c) => c.account === account && c.state !== 'closed');

describe('stream client conformance (dingtalk-protocol.md §8.3)', () => {
  it('1: sends the N215 /open body and connects with the ticket', async () => {
    const s = await sim();
    const { client: c } = client(s);
    await c.start();
    const [request] = s.gatewayRequests();
    expect(JSON.parse(request!.body as string)).toEqual({
      clientId: APP.clientId,
      clientSecret: APP.clientSecret,
      ua: '',
      subscriptions: N215_SUBSCRIPTIONS,
    });
    expect(s.stats()).toMatchObject({ gatewayOpens: 1, handshakesAccepted: 1 });
    expect(c.status()).toMatchObject({ state: 'connected', connections: 1 });
  });

  it('2: echoes pings, ACKs robot messages only when asked, ACKs events with SUCCESS', async () => {
    const s = await sim({ pingIntervalMs: 50 });
    const { client: c, deliveries } = client(s, { autoAck: false });
    await c.start();
    const injected = s.injectMessage({
      conversationType: '1',
      sender: { staffId: 'u1' },
      text: 'hi',
    });
    await s.waitFor(() => (deliveries.length === 1 ? true : undefined), 2000);
    await s.waitFor(() => s.acks().find((a) => a.kind === 'ping'), 2000);
    expect(s.acks().some((a) => a.messageId === injected.messageId)).toBe(false);

    expect(deliveries[0]!.ack()).toBe(true);
    const ack = await s.waitForAck(injected.messageId, 2000);
    expect(ack).toMatchObject({ kind: 'callback', code: 200 });
    expect(JSON.stringify(ack.data)).toContain('response');

    const ping = s.acks().find((a) => a.kind === 'ping')!;
    expect(ping.code).toBe(200);
    expect(JSON.stringify(ping.data)).toContain('opaque');
    expect(s.pingViolations()).toEqual([]);

    const event = s.injectEvent({ eventType: 'chat_update_title', data: { a: 1 } });
    const eventAck = await s.waitForAck(event.messageId, 2000);
    expect(JSON.stringify(eventAck.data)).toContain('SUCCESS');
  });

  it('3: an unacked robot message is redelivered with the same messageId and msgId', async () => {
    const s = await sim();
    const { client: c, deliveries } = client(s, { autoAck: false });
    await c.start();
    const injected = s.injectMessage({
      conversationType: '1',
      sender: { staffId: 'u1' },
      text: 'again',
    });
    await s.waitFor(() => (deliveries.length >= 2 ? true : undefined), 3000);
    expect(deliveries[1]!.messageId).toBe(deliveries[0]!.messageId);
    expect(JSON.parse(deliveries[1]!.data).msgId).toBe(injected.msgId);
    expect(JSON.parse(deliveries[0]!.data).msgId).toBe(injected.msgId);
    expect(s.stats().redeliveries).toBe(1);
  });

  it('3b: an acked robot message is not redelivered', async () => {
    const s = await sim();
    const { client: c, deliveries } = client(s);
    await c.start();
    const injected = s.injectMessage({
      conversationType: '1',
      sender: { staffId: 'u1' },
      text: 'once',
    });
    await s.waitForAck(injected.messageId, 2000);
    await new Promise((r) => setTimeout(r, 600)); // two ack timeouts
    expect(deliveries).toHaveLength(1);
    expect(s.stats().redeliveries).toBe(0);
  });

  it('4: on `disconnect` the stock SDK waits for the close; the wrapper reconnects at once (make-before-break)', async () => {
    const stockSim = await sim({ disconnectGraceMs: 1500 });
    const stock = new StockDWClient(
      {
        clientId: APP.clientId,
        clientSecret: APP.clientSecret,
        keepAlive: false,
        subscriptions: [{ type: 'EVENT', topic: '*' }],
      },
      stockSim.gatewayUrl,
    );
    stock.registerCallbackListener(TOPIC_ROBOT, () => undefined);
    cleanups.push(() => {
      stock.config.autoReconnect = false;
      stock.disconnect();
    });
    await stock.connect();
    const stockConn = await stockSim.waitForConnection();
    stockSim.disconnect(stockConn.id);

    const s = await sim({ disconnectGraceMs: 1500 });
    const { client: c, deliveries } = client(s);
    await c.start();
    const first = await s.waitForConnection();
    s.disconnect(first.id);
    // The wrapper opens a second connection while the first is still draining...
    const second = await s.waitForConnection(
      (conn) => conn.id !== first.id && conn.state === 'open',
      1000,
    );
    expect(second.id).not.toBe(first.id);
    expect(s.stats().gatewayOpens).toBe(2);
    // ...and retires the old one itself, well before the server's grace period ends.
    await s.waitFor(
      () => (s.connections().find((x) => x.id === first.id)?.state === 'closed' ? true : undefined),
      1000,
    );
    // The stock client has made no new /open: it only notices when the server closes the socket.
    expect(stockSim.stats().gatewayOpens).toBe(1);

    // Nothing pushed after the swap is lost.
    const injected = s.injectMessage({
      conversationType: '1',
      sender: { staffId: 'u1' },
      text: 'after',
    });
    await s.waitForAck(injected.messageId, 2000);
    expect(deliveries.map((d) => d.messageId)).toContain(injected.messageId);
    expect(c.status().state).toBe('connected');
  });

  it('5: a rejected handshake makes the stock SDK storm (B1) while the wrapper backs off', async () => {
    const windowMs = 4200;
    const stockSim = await sim();
    stockSim.addFaults({ handshake: { count: 100_000, status: 400 } });
    const stock = new StockDWClient(
      {
        clientId: APP.clientId,
        clientSecret: APP.clientSecret,
        keepAlive: false,
        subscriptions: [{ type: 'EVENT', topic: '*' }],
      },
      stockSim.gatewayUrl,
    );
    cleanups.push(() => {
      stock.config.autoReconnect = false; // the only way to end B1's chains (B2: disconnect() does not)
    });

    const s = await sim();
    s.addFaults({ handshake: { count: 100_000, status: 400 } });
    const { client: c } = client(s, { backoffBaseMs: 1000 });

    void stock.connect();
    void c.start().catch(() => undefined);
    await new Promise((r) => setTimeout(r, windowMs));
    stock.config.autoReconnect = false;
    const stockOpens = stockSim.stats().gatewayOpens;
    const wrapperOpens = s.stats().gatewayOpens;
    // Stock: every failure doubles the retry chains (1+2+4+8+16 = 31 in ~4 s). Wrapper: 1 s, 2 s, …
    expect(stockOpens).toBeGreaterThanOrEqual(15);
    expect(wrapperOpens).toBeLessThanOrEqual(4);
    expect(wrapperOpens).toBeGreaterThanOrEqual(2);
    expect(c.status()).toMatchObject({ state: 'backing_off' });
    expect(c.status().lastError?.message).toContain('400');
    await new Promise((r) => setTimeout(r, 1100)); // let the stock chains' last timers fire and stop
  }, 15_000);

  it('6: stop() during backoff cancels the pending reconnect and leaves nothing behind', async () => {
    const s = await sim();
    s.addFaults({ gateway: { count: 1000, status: 503, code: 'ServiceUnavailable' } });
    const { client: c } = client(s, { backoffBaseMs: 200 });
    const started = c.start();
    await until(() => c.status().state === 'backing_off', 2000, 'backing_off');
    const opensAtStop = s.stats().gatewayOpens;
    await c.stop();
    await expect(started).resolves.toBeUndefined();
    await new Promise((r) => setTimeout(r, 600)); // > the largest pending delay
    expect(s.stats().gatewayOpens).toBe(opensAtStop);
    expect(c.status()).toMatchObject({ state: 'stopped', connections: 0 });
    expect(openConnections(s)).toEqual([]);
  });

  it('6b: stop() while connected closes the socket', async () => {
    const s = await sim();
    const { client: c } = client(s);
    await c.start();
    expect(openConnections(s)).toHaveLength(1);
    await c.stop();
    await s.waitFor(() => (openConnections(s).length === 0 ? true : undefined), 2000);
    expect(c.status().state).toBe('stopped');
  });

  it('7: two accounts in one process keep their own subscriptions and messages (B6)', async () => {
    const s = await sim();
    const a = client(s);
    const b = client(s, {
      accountId: APP2.accountId,
      clientId: APP2.clientId,
      clientSecret: APP2.clientSecret,
    });
    await Promise.all([a.client.start(), b.client.start()]);
    for (const account of [APP.accountId, APP2.accountId]) {
      const [conn] = openConnections(s, account);
      expect(conn!.subscriptions).toEqual(N215_SUBSCRIPTIONS);
    }
    const toB = s.injectMessage({
      account: APP2.accountId,
      conversationType: '1',
      sender: { staffId: 'u2' },
      text: 'b',
    });
    const toA = s.injectMessage({
      account: APP.accountId,
      conversationType: '1',
      sender: { staffId: 'u1' },
      text: 'a',
    });
    await s.waitForAck(toB.messageId, 2000);
    await s.waitForAck(toA.messageId, 2000);
    expect(a.deliveries.map((d) => d.messageId)).toEqual([toA.messageId]);
    expect(b.deliveries.map((d) => d.messageId)).toEqual([toB.messageId]);
    expect(b.deliveries[0]!.accountId).toBe(APP2.accountId);
  });

  it('the stock SDK shares one subscriptions array across instances (why 7 matters)', () => {
    const one = new DWClient({ clientId: 'a', clientSecret: 'b' });
    const two = new DWClient({ clientId: 'c', clientSecret: 'd' });
    expect(one.config.subscriptions).toBe(two.config.subscriptions);
  });
});

describe('stream client robustness', () => {
  it('survives a non-JSON frame: logged, counted, connection kept', async () => {
    const s = await sim();
    const log = memoryLogger();
    const { client: c, deliveries } = client(s, { logger: log });
    await c.start();
    const conn = await s.waitForConnection();
    s.addFaults({ malformedFrame: { connectionId: conn.id, text: 'this is {not json' } });
    await until(() => c.status().counters.malformedFrames === 1, 2000, 'a counted malformed frame');
    expect(log.lines.some((l) => l.event === 'stream.frame_malformed')).toBe(true);
    const injected = s.injectMessage({
      conversationType: '1',
      sender: { staffId: 'u1' },
      text: 'still here',
    });
    await s.waitForAck(injected.messageId, 2000);
    expect(deliveries).toHaveLength(1);
    expect(s.stats().gatewayOpens).toBe(1);
  });

  it('reports bad credentials with DingTalk code and does not retry', async () => {
    const s = await sim();
    const log = memoryLogger();
    const { client: c } = client(s, { clientSecret: 'wrong-secret-value', logger: log });
    await expect(c.start()).rejects.toMatchObject({ code: 'invalidClientIdOrSecret' });
    expect(c.status()).toMatchObject({
      state: 'failed',
      lastError: { code: 'invalidClientIdOrSecret' },
    });
    await new Promise((r) => setTimeout(r, 300)); // several backoff periods at 50 ms
    expect(s.stats().gatewayOpens).toBe(1);
    expect(JSON.stringify(log.lines)).not.toContain('wrong-secret-value');
  });

  it('declares a stalled connection dead by its own heartbeat and reconnects', async () => {
    const s = await sim();
    const { client: c, deliveries } = client(s, {
      heartbeatIntervalMs: 50,
      heartbeatTimeoutMs: 200,
    });
    await c.start();
    const first = await s.waitForConnection();
    s.stall(first.id);
    await s.waitForConnection((conn) => conn.id !== first.id && conn.state === 'open', 3000);
    const injected = s.injectMessage({
      conversationType: '1',
      sender: { staffId: 'u1' },
      text: 'back',
    });
    await s.waitForAck(injected.messageId, 2000);
    expect(deliveries.at(-1)!.messageId).toBe(injected.messageId);
    expect(c.status().counters.reconnects).toBeGreaterThanOrEqual(1);
  });

  it('loses nothing when the connection drops during a burst', async () => {
    const s = await sim({ maxRedeliveries: 3 });
    const { client: c, deliveries } = client(s);
    await c.start();
    const conn = await s.waitForConnection();
    const ids: string[] = [];
    for (let i = 0; i < 60; i++) {
      ids.push(
        s.injectMessage({ conversationType: '1', sender: { staffId: `u${i % 5}` }, text: `m${i}` })
          .messageId,
      );
      if (i === 30) s.drop(conn.id);
    }
    await s.waitFor(
      () =>
        ids.every((id) => s.inbound().find((r) => r.messageId === id)?.ackedAt !== undefined)
          ? true
          : undefined,
      8000,
      'every message acked',
    );
    const delivered = new Set(deliveries.map((d) => d.messageId));
    expect(ids.filter((id) => !delivered.has(id))).toEqual([]);
    expect(s.stats().gatewayOpens).toBeGreaterThanOrEqual(2);
    expect(c.status().state).toBe('connected');
  });
});
