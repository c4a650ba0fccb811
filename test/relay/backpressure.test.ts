/**
 * Bounded memory (lib/relay/relay.ts invariant 3): at most `maxInflight` hand-offs at once, at
 * most `maxWaiting` deliveries waiting for a slot, everything beyond left unacked and counted
 * `shed`, and DingTalk's redelivery eventually brings every message through.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createInProcessForwarder } from '../../lib/forward/inprocess.js';
import { startSimulator } from '../../lib/simulator/index.js';
import {
  APP,
  allAcked,
  cleanups,
  countersOf,
  gate,
  injectBurst,
  relayOn,
  runCleanups,
  ScriptedForwarder,
  until,
} from './support.js';

afterEach(runCleanups);

const MAX_INFLIGHT = 2;
const MAX_WAITING = 3;
const BURST = 20;

describe('relay backpressure', () => {
  it('holds at most maxInflight hand-offs, sheds past the wait bound, and loses nothing', async () => {
    const sim = await startSimulator({
      apps: [APP],
      callbackAckTimeoutMs: 300,
      maxRedeliveries: 30,
    });
    cleanups.push(() => sim.close());
    const held = gate();
    // Until released every hand-off hangs; afterwards each takes one macrotask, so hand-offs
    // still overlap and the concurrency bound stays observable.
    const forwarder = new ScriptedForwarder(sim, async () => {
      await held.promise;
      await new Promise((r) => setImmediate(r));
      return { accepted: true };
    });
    const { relay, logger } = relayOn(sim, forwarder, {
      maxInflight: MAX_INFLIGHT,
      maxWaiting: MAX_WAITING,
    });
    await relay.start();

    const ids = injectBurst(sim, BURST);
    await until(() => countersOf(relay).received >= BURST, 'the burst to reach the relay');
    const status = await until(() => {
      const s = relay.status();
      return s.inflight === MAX_INFLIGHT && s.waiting === MAX_WAITING ? s : undefined;
    }, 'the slots and the wait list to fill');

    // Everything beyond the slots and the wait list was shed (redeliveries of held or waiting
    // messages, if any arrived already, join them instead), nothing was acked, two hand-offs run.
    const counters = countersOf(relay);
    expect(counters.shed).toBe(counters.received - MAX_INFLIGHT - MAX_WAITING - counters.joined);
    expect(counters.shed).toBeGreaterThanOrEqual(BURST - MAX_INFLIGHT - MAX_WAITING);
    expect(status.accounts[0]!.relay.acked).toBe(0);
    expect(sim.acks().filter((a) => a.kind === 'callback')).toEqual([]);
    expect(forwarder.calls).toHaveLength(MAX_INFLIGHT);
    expect(logger.lines.some((l) => l.event === 'relay.shed')).toBe(true);

    held.open();
    const records = await allAcked(sim);

    expect(records.map((r) => r.messageId).sort()).toEqual([...ids].sort());
    // The shed messages came back through DingTalk's redelivery, not through a relay queue.
    expect(records.filter((r) => r.deliveries.length > 1).length).toBeGreaterThanOrEqual(
      BURST - MAX_INFLIGHT - MAX_WAITING,
    );
    expect(forwarder.maxActive).toBe(MAX_INFLIGHT);
    expect(new Set(forwarder.calls.map((c) => c.messageId))).toEqual(new Set(ids));
    await until(() => relay.status().inflight === 0, 'the last hand-off to finish');
    expect(relay.status()).toMatchObject({ inflight: 0, waiting: 0 });
    expect(countersOf(relay).acked).toBeGreaterThanOrEqual(BURST);
  });
});

describe('relay with many hand-offs in flight', () => {
  it('shares its stop signal among maxInflight hand-offs without a listener-leak warning', async () => {
    const sim = await startSimulator({ apps: [APP] });
    cleanups.push(() => sim.close());
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.name);
    process.on('warning', onWarning);
    cleanups.push(() => process.off('warning', onWarning));
    const held = gate();
    cleanups.push(() => held.open());
    let handling = 0;
    // The real in-process forwarder: each hand-off listens on the relay's stop signal.
    const forwarder = createInProcessForwarder({
      timeoutMs: 30_000,
      handler: async () => {
        handling += 1;
        await held.promise;
        return { status: 'handled' };
      },
    });
    const { relay } = relayOn(sim, forwarder, { maxInflight: 32 });
    await relay.start();

    const ids = injectBurst(sim, 24);
    await until(() => handling === 24, 'every message to be in flight at once');
    held.open();
    await Promise.all(ids.map((id) => sim.waitForAck(id)));
    // Warnings are emitted on the next tick.
    await new Promise((r) => setImmediate(r));

    expect(warnings).not.toContain('MaxListenersExceededWarning');
    expect(countersOf(relay)).toMatchObject({ received: 24, forwarded: 24, acked: 24 });
  });
});
