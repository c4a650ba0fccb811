/**
 * The relay container entry under SIGTERM: `node bin/dingtalk-channel.js relay` against a
 * simulator in this process, dynalite as the shared store and a fake http agent held so
 * hand-offs are mid-flight when the signal arrives. The process drains, ACKs what it finished
 * and exits 0; a second relay on the same table answers the rest: one reply per message.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createEchoAgent } from '../../lib/agent/index.js';
import { memoryLogger } from '../../lib/log.js';
import { runRelay } from '../../lib/relay/run.js';
import { startSimulator } from '../../lib/simulator/index.js';
import { startTestDynalite } from '../support/dynalite.js';
import { startFakeAgentHttp } from '../support/fake-agent-http.js';
import {
  APP,
  allAcked,
  cleanups,
  FAST_STREAM,
  gate,
  injectBurst,
  relayConfig,
  relayEnv,
  repliesPerMessage,
  runCleanups,
  until,
} from './support.js';

afterEach(runCleanups);

const BIN = fileURLToPath(new URL('../../bin/dingtalk-channel.js', import.meta.url));
const BURST = 8;
const MAX_INFLIGHT = 2;

interface RunningChild {
  child: ChildProcess;
  /** Every stderr (log) line so far. */
  logs: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Spawns the relay command with exactly `env` (plus PATH); killed after the test if still up. */
function spawnRelay(env: Record<string, string>): RunningChild {
  const child = spawn(process.execPath, [BIN, 'relay'], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  let partial = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop() ?? '';
    logs.push(...lines);
  });
  child.stdout?.resume();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  cleanups.push(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    return exited;
  });
  return { child, logs, exited };
}

describe('relay process: SIGTERM mid-burst', () => {
  it('drains in-flight hand-offs, exits 0, and the next relay answers the rest exactly once', async () => {
    const sim = await startSimulator({
      apps: [APP],
      callbackAckTimeoutMs: 500,
      maxRedeliveries: 20,
    });
    cleanups.push(() => sim.close());
    const db = await startTestDynalite();
    cleanups.push(() => db.close());
    const held = gate();
    const agent = await startFakeAgentHttp({
      respond: async (req) => {
        await held.promise;
        return { text: `reply to ${req.body.text}` };
      },
    });
    cleanups.push(() => agent.close());
    // Opened last so it is released first: a held agent request must not block the close.
    cleanups.push(() => held.open());

    const child = spawnRelay(
      relayEnv(sim, {
        STATE_BACKEND: 'dynamodb',
        DYNAMODB_ENDPOINT: db.endpoint,
        STATE_TABLE: db.tableName,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        AGENT: 'http',
        AGENT_HTTP_URL: agent.url,
        RELAY_MAX_INFLIGHT: String(MAX_INFLIGHT),
        LOG_LEVEL: 'info',
      }),
    );
    await sim.waitForConnection(undefined, 20_000);

    injectBurst(sim, BURST);
    await until(
      () => agent.requests.length === MAX_INFLIGHT,
      'the child to hand two messages to the agent',
    );
    child.child.kill('SIGTERM');
    await until(
      () => child.logs.some((l) => l.includes('"relay.stopping"')),
      'the child to begin its graceful stop',
    );
    held.open();
    const exit = await child.exited;

    expect(exit).toEqual({ code: 0, signal: null });
    const firstConnection = sim.connections()[0]!.id;
    // The two held messages were answered and acked by the child before it closed its socket.
    await sim.waitFor(() =>
      sim.inbound().filter((r) => r.ackConnectionId === firstConnection).length === MAX_INFLIGHT
        ? true
        : undefined,
    );
    expect(sim.outbox()).toHaveLength(MAX_INFLIGHT);
    expect(child.logs.some((l) => l.includes('"relay.stopped"'))).toBe(true);

    const next = await runRelay(relayConfig(sim), {
      runtime: { store: await db.openStore(), agent: createEchoAgent() },
      stream: FAST_STREAM,
      healthHost: '127.0.0.1',
      logger: memoryLogger(),
    });
    cleanups.push(() => next.stop(0));
    await allAcked(sim);
    await until(() => next.relay.status().inflight === 0, 'the second relay to go idle');

    expect(repliesPerMessage(sim, BURST)).toEqual(Array(BURST).fill(1));
    expect(sim.outbox()).toHaveLength(BURST);
    expect(agent.requests).toHaveLength(MAX_INFLIGHT);
  });
});
