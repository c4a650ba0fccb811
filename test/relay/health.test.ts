/**
 * The health endpoint (lib/relay/health.ts) on a real relay: /healthz is liveness with the
 * per-account state and counters, /readyz is 200 only while every account is connected, and
 * `runRelay` with bad credentials fails at start with DingTalk's code, leaving nothing running.
 */
import { createServer } from 'node:net';
import { networkInterfaces } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config/index.js';
import { memoryLogger } from '../../lib/log.js';
import { startHealthServer } from '../../lib/relay/health.js';
import { runRelay } from '../../lib/relay/run.js';
import { startSimulator } from '../../lib/simulator/index.js';
import { MemoryStateStore } from '../../lib/state/memory.js';
import {
  APP,
  APP2,
  cleanups,
  FAST_STREAM,
  relayConfig,
  relayOn,
  runCleanups,
  ScriptedForwarder,
  until,
} from './support.js';

afterEach(runCleanups);

async function get(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** A loopback port nothing listens on (bound, then released). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Whether something can listen on the port again (i.e. nobody holds it). */
async function canListen(port: number): Promise<boolean> {
  const server = createServer();
  const ok = await new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => resolve(true));
  });
  if (ok) await new Promise<void>((resolve) => server.close(() => resolve()));
  return ok;
}

describe('relay health endpoint', () => {
  it('/readyz follows the connection of every account; /healthz reports state and counters', async () => {
    const sim = await startSimulator({ apps: [APP, APP2] });
    cleanups.push(() => sim.close());
    const forwarder = new ScriptedForwarder(sim);
    const { relay } = relayOn(sim, forwarder, { accounts: [APP, APP2] });
    const health = await startHealthServer(() => relay.status(), { port: 0, host: '127.0.0.1' });
    cleanups.push(() => health.close());

    // Before start: alive but not ready.
    expect((await get(`${health.url}/healthz`)).status).toBe(200);
    const early = await get(`${health.url}/readyz`);
    expect(early.status).toBe(503);
    expect(early.body).toMatchObject({
      ready: false,
      accounts: [{ state: 'idle' }, { state: 'idle' }],
    });

    await relay.start();
    expect((await get(`${health.url}/readyz`)).status).toBe(200);
    const { messageId } = sim.injectMessage({
      account: APP2.accountId,
      conversationType: '1',
      sender: { staffId: 'u1' },
      text: 'count me',
    });
    await sim.waitForAck(messageId);
    const live = await get(`${health.url}/healthz`);
    expect(live.status).toBe(200);
    expect(live.body).toMatchObject({
      ready: true,
      stopping: false,
      inflight: 0,
      waiting: 0,
      forwarder: 'scripted',
      accounts: [
        { accountId: APP.accountId, state: 'connected', relay: { received: 0, acked: 0 } },
        {
          accountId: APP2.accountId,
          state: 'connected',
          connections: 1,
          relay: { received: 1, forwarded: 1, acked: 1, failed: 0, shed: 0, malformed: 0 },
        },
      ],
    });

    // One account drops and the gateway keeps refusing it: not ready while it reconnects.
    sim.addFaults({ gateway: { count: 100_000, status: 503 } });
    const conn = sim.connections().find((c) => c.account === APP2.accountId && c.state === 'open')!;
    sim.drop(conn.id);
    await sim.waitFor(() => (sim.stats().gatewayRejected >= 1 ? true : undefined));
    const down = await get(`${health.url}/readyz`);
    expect(down.status).toBe(503);
    expect(down.body).toMatchObject({
      ready: false,
      accounts: [
        { accountId: APP.accountId, state: 'connected' },
        { accountId: APP2.accountId, state: expect.stringMatching(/^(backing_off|connecting)$/) },
      ],
    });
    expect((await get(`${health.url}/healthz`)).status).toBe(200);

    sim.clearFaults();
    await until(() => relay.status().ready, 'the dropped account to reconnect');
    expect((await get(`${health.url}/readyz`)).status).toBe(200);

    expect((await get(`${health.url}/nope`)).status).toBe(404);
    expect((await fetch(`${health.url}/healthz`, { method: 'POST' })).status).toBe(404);

    await relay.stop(0);
    const stopped = await get(`${health.url}/readyz`);
    expect(stopped.status).toBe(503);
    expect(stopped.body).toMatchObject({ stopping: true });
  });
});

describe('runRelay with bad credentials', () => {
  it('rejects with invalidClientIdOrSecret and leaves nothing running', async () => {
    const sim = await startSimulator({ apps: [APP] });
    cleanups.push(() => sim.close());
    const port = await freePort();
    const store = new MemoryStateStore();
    const logger = memoryLogger();
    const config = relayConfig(sim, {
      DINGTALK_CLIENT_SECRET: 'wrong-relay-secret',
      PORT: String(port),
    });

    await expect(
      runRelay(config, {
        runtime: { store },
        logger,
        stream: FAST_STREAM,
        healthHost: '127.0.0.1',
      }),
    ).rejects.toMatchObject({ code: 'invalidClientIdOrSecret' });

    // The health server released its port, the store is closed and no socket was left open.
    expect(await canListen(port)).toBe(true);
    await expect(store.get('any', 'key')).rejects.toMatchObject({ code: 'state_unavailable' });
    expect(sim.connections()).toEqual([]);
    expect(sim.stats()).toMatchObject({ gatewayOpens: 1, gatewayRejected: 1 });
    expect(JSON.stringify(logger.lines)).not.toContain('wrong-relay-secret');
  });
});

describe('local services bind to loopback unless told otherwise (issue 15)', () => {
  it('the health server listens on 127.0.0.1 by default, and on the configured HOST', async () => {
    const status = () => ({ ready: true }) as never;
    const local = await startHealthServer(status, { port: 0 });
    cleanups.push(() => local.close());
    const nonLoopback = Object.values(networkInterfaces())
      .flat()
      .find((i) => i && i.family === 'IPv4' && !i.internal);
    expect(local.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await fetch(`${local.url}/healthz`)).status).toBe(200);
    if (nonLoopback) {
      // Reaching the same port on another interface fails: nothing listens there.
      const err = await fetch(`http://${nonLoopback.address}:${local.port}/healthz`).catch(
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(Error);
    }
    expect(loadConfig({}).settings.server.host).toBe('127.0.0.1');
    expect(loadConfig({ HOST: '0.0.0.0' }).settings.server.host).toBe('0.0.0.0');
    const every = await startHealthServer(status, { port: 0, host: '0.0.0.0' });
    cleanups.push(() => every.close());
    expect(every.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    if (nonLoopback) {
      const res = await fetch(`http://${nonLoopback.address}:${every.port}/healthz`);
      expect(res.status).toBe(200);
    }
  });
});
