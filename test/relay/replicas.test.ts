/**
 * Two relay replicas with the same credentials, one simulator, one shared store (dynalite):
 * DingTalk pushes each message to one of the connections, and the handler's dedup on
 * (account, msgId) covers every overlap (channel-semantics §9, architecture invariant 2).
 * Redeliveries are forced: replica A holds its messages in its agent, loses its socket and
 * cannot reconnect, so its ACKs fail and DingTalk redelivers those messages to replica B.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createEchoAgent } from '../../lib/agent/index.js';
import { memoryLogger } from '../../lib/log.js';
import { runRelay } from '../../lib/relay/run.js';
import { startSimulator } from '../../lib/simulator/index.js';
import { startTestDynalite } from '../support/dynalite.js';
import {
  APP,
  allAcked,
  cleanups,
  countersOf,
  FAST_STREAM,
  gatedAgent,
  injectBurst,
  relayConfig,
  repliesPerMessage,
  runCleanups,
  seededRandom,
  until,
} from './support.js';

afterEach(runCleanups);

const BURST = 20;

describe('two relay replicas on one store', () => {
  it('answer every message exactly once, also when one replica loses its socket mid-burst', async () => {
    const sim = await startSimulator({
      apps: [APP],
      callbackAckTimeoutMs: 500,
      maxRedeliveries: 20,
      random: seededRandom(),
    });
    cleanups.push(() => sim.close());
    const db = await startTestDynalite();
    cleanups.push(() => db.close());
    const config = relayConfig(sim);
    const start = async (agent: ReturnType<typeof createEchoAgent>) => {
      const running = await runRelay(config, {
        runtime: { store: await db.openStore(), agent },
        stream: FAST_STREAM,
        healthHost: '127.0.0.1',
        logger: memoryLogger(),
      });
      cleanups.push(() => running.stop(0));
      return running;
    };
    const heldAgent = gatedAgent();
    const a = await start(heldAgent);
    const aConnection = sim.connections()[0]!.id;
    const b = await start(createEchoAgent());

    const ids = injectBurst(sim, BURST);
    // Every push reached a replica; A's share sits in its agent.
    await sim.waitFor(() =>
      sim.inbound().every((r) => r.deliveries.length > 0) ? true : undefined,
    );
    const aShare = sim.inbound().filter((r) => r.deliveries[0]!.connectionId === aConnection);
    expect(aShare.length).toBeGreaterThan(0);
    expect(aShare.length).toBeLessThan(BURST);
    // Each of A's messages sits in A's agent, unless a redelivery reached B before A claimed
    // it (then B answered it and A's copy is a duplicate): both are overlaps dedup must cover.
    const textOf = (r: (typeof aShare)[number]) =>
      (r.payload as { text: { content: string } }).text.content;
    // (The simulator's records are live: their state changes in place.)
    const settled = () =>
      aShare.every((r) => heldAgent.calls.includes(textOf(r)) || r.state === 'acked');
    await until(() => heldAgent.calls.length > 0 && settled(), "A's share to reach its agent");

    // A loses its socket and the gateway refuses it: its ACKs have nowhere to go.
    sim.addFaults({ gateway: { count: 100_000, status: 503 } });
    sim.drop(aConnection);
    await until(() => a.relay.status().accounts[0]!.state !== 'connected', 'A to notice the drop');
    heldAgent.release();
    await until(
      () => a.relay.status().inflight === 0,
      'A to finish (and fail to ACK) its held messages',
    );
    expect(a.relay.status().accounts[0]!.counters.ackFailed).toBeGreaterThan(0);

    // DingTalk redelivers A's unacked messages to B, whose dedup sees them answered already.
    const records = await allAcked(sim);
    sim.clearFaults();
    await until(() => a.relay.status().ready, 'A to reconnect');
    await until(() => b.relay.status().inflight === 0, 'B to go idle');

    expect(records.map((r) => r.messageId).sort()).toEqual([...ids].sort());
    expect(repliesPerMessage(sim, BURST)).toEqual(Array(BURST).fill(1));
    expect(sim.outbox()).toHaveLength(BURST);
    expect(sim.stats().redeliveries).toBeGreaterThanOrEqual(aShare.length);
    // A could not ACK its share itself: each of those needed a redelivery.
    for (const record of aShare) expect(record.deliveries.length).toBeGreaterThan(1);
    expect(countersOf(b.relay).received).toBeGreaterThan(BURST - aShare.length);
    expect(new Set(heldAgent.calls).size).toBe(heldAgent.calls.length);
    expect(heldAgent.calls.length).toBeLessThanOrEqual(aShare.length);
  });
});
