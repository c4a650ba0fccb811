/**
 * The relay's hand-off contract (lib/relay/relay.ts invariants 1, 2 and 4; channel-semantics.md
 * §9; architecture.md invariants 1 and 5): ACK only after `accepted`, bounded retries that leave
 * the message for DingTalk to redeliver, no retry of a final rejection, and malformed payloads
 * acked, counted and never forwarded. The forwarder is a scripted Forwarder (the port).
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  type Simulator,
  type SimulatorOptions,
  startSimulator,
} from '../../lib/simulator/index.js';
import {
  APP,
  cleanups,
  countersOf,
  gate,
  relayOn,
  runCleanups,
  ScriptedForwarder,
  until,
} from './support.js';

afterEach(runCleanups);

async function sim(options: SimulatorOptions = {}): Promise<Simulator> {
  const s = await startSimulator({ apps: [APP], ...options });
  cleanups.push(() => s.close());
  return s;
}

const dm = (text: string) => ({ conversationType: '1' as const, sender: { staffId: 'u1' }, text });
const retryable = (reason: string) => ({ accepted: false as const, reason, retryable: true });

describe('relay hand-off: ACK only after accepted (§9, invariant 1)', () => {
  it('retries a retryable rejection and ACKs exactly once, after the accepting call', async () => {
    const s = await sim();
    const forwarder = new ScriptedForwarder(s, (_event, attempt) =>
      attempt <= 2 ? retryable(`busy ${attempt}`) : { accepted: true },
    );
    const { relay } = relayOn(s, forwarder, { handoffRetryMs: 10_000 });
    await relay.start();

    const { messageId } = s.injectMessage(dm('hello'));
    const ack = await s.waitForAck(messageId);

    const calls = forwarder.callsFor(messageId);
    expect(calls.map((c) => c.result?.accepted)).toEqual([false, false, true]);
    // No call, not even the accepting one, started after an ACK had reached the simulator.
    expect(calls.map((c) => c.ackedBefore)).toEqual([false, false, false]);
    const record = s.inbound().find((r) => r.messageId === messageId)!;
    expect(record.ackedAt).toBeGreaterThanOrEqual(calls[2]!.returnedAt!);
    expect(ack).toMatchObject({ kind: 'callback', matched: true });
    expect(s.acks().filter((a) => a.messageId === messageId)).toHaveLength(1);
    expect(record.deliveries).toHaveLength(1);
    expect(countersOf(relay)).toMatchObject({
      received: 1,
      forwarded: 1,
      acked: 1,
      retries: 2,
      failed: 0,
    });
  });

  it('never ACKs a message whose hand-off keeps failing: DingTalk redelivers it', async () => {
    const s = await sim({ callbackAckTimeoutMs: 400, maxRedeliveries: 1 });
    const forwarder = new ScriptedForwarder(s, () => retryable('function unavailable'));
    const { relay, logger } = relayOn(s, forwarder, { handoffRetryMs: 300 });
    await relay.start();

    const { messageId } = s.injectMessage(dm('never lands'));
    // The first delivery and the redelivery both fail; then the simulator gives up.
    const record = await s.waitFor(
      () => s.inbound().find((r) => r.messageId === messageId && r.state === 'unacked'),
      10_000,
      'the simulator to give up on the message',
    );
    await until(() => countersOf(relay).failed === 2, 'both deliveries to be given up');

    expect(record.deliveries).toHaveLength(2);
    expect(record.deliveries[1]!.redelivery).toBe(true);
    expect(s.acks().filter((a) => a.messageId === messageId)).toEqual([]);
    // Both deliveries carried the same messageId and data, and each was retried before giving up.
    const calls = forwarder.callsFor(messageId);
    expect(new Set(calls.map((c) => c.data)).size).toBe(1);
    expect(calls.length).toBeGreaterThanOrEqual(4);
    expect(countersOf(relay)).toMatchObject({ received: 2, forwarded: 0, acked: 0, failed: 2 });
    expect(countersOf(relay).retries).toBeGreaterThanOrEqual(2);
    const failures = logger.lines.filter((l) => l.event === 'relay.handoff_failed');
    expect(failures).toHaveLength(2);
    expect(failures[0]).toMatchObject({ messageId, retryable: true });
  });

  it('does not retry a non-retryable rejection and leaves the message unacked', async () => {
    const s = await sim();
    const forwarder = new ScriptedForwarder(s, (event) =>
      event.data.includes('refused')
        ? { accepted: false, reason: 'http: 403 forbidden', retryable: false }
        : { accepted: true },
    );
    const { relay } = relayOn(s, forwarder, { handoffRetryMs: 10_000 });
    await relay.start();

    const { messageId } = s.injectMessage(dm('refused'));
    await until(() => countersOf(relay).failed === 1, 'the hand-off to be given up');
    // A second message goes through the same relay, so the first one's handling is long over.
    const next = s.injectMessage(dm('next'));
    await s.waitForAck(next.messageId);

    expect(forwarder.callsFor(messageId)).toHaveLength(1);
    expect(s.acks().filter((a) => a.messageId === messageId)).toEqual([]);
    expect(s.inbound().find((r) => r.messageId === messageId)?.state).toBe('delivered');
    expect(countersOf(relay)).toMatchObject({ received: 2, failed: 1, retries: 0, acked: 1 });
  });
});

describe('relay: a redelivery while the message is still being handed off', () => {
  it('joins the running hand-off instead of forwarding it twice, and is ACKed with it', async () => {
    const s = await sim({ callbackAckTimeoutMs: 100, maxRedeliveries: 3 });
    const held = gate();
    const forwarder = new ScriptedForwarder(s, async () => {
      await held.promise;
      return { accepted: true };
    });
    const { relay } = relayOn(s, forwarder, { maxInflight: 1, maxWaiting: 0 });
    await relay.start();
    const { messageId } = s.injectMessage(dm('slow one'));
    // The unacked push comes back while the first hand-off still hangs.
    await until(() => countersOf(relay).joined >= 1, 'a redelivery to join the hand-off');
    expect(forwarder.callsFor(messageId)).toHaveLength(1);
    expect(countersOf(relay).shed).toBe(0); // no slot, no wait-list place was needed
    held.open();
    await s.waitForAck(messageId);
    await until(() => relay.status().inflight === 0, 'the hand-off to finish');
    expect(forwarder.callsFor(messageId)).toHaveLength(1);
    expect(countersOf(relay)).toMatchObject({ forwarded: 1, failed: 0, shed: 0 });
  });
});

describe('relay: malformed payloads (§9, invariant 5)', () => {
  it('ACKs a payload that is not a robot message, counts it and never forwards it', async () => {
    const s = await sim();
    const forwarder = new ScriptedForwarder(s);
    const { relay, logger } = relayOn(s, forwarder);
    await relay.start();

    // DingTalk's robot payload always has a msgId; without one it is not a robot message.
    const bad = s.injectMessage({ ...dm('no msgId'), extra: { msgId: null } });
    const badAck = await s.waitForAck(bad.messageId);
    const good = s.injectMessage(dm('fine'));
    await s.waitForAck(good.messageId);

    expect(badAck).toMatchObject({ kind: 'callback', matched: true });
    expect(forwarder.calls.map((c) => c.messageId)).toEqual([good.messageId]);
    expect(countersOf(relay)).toMatchObject({ received: 2, malformed: 1, forwarded: 1, acked: 1 });
    const warning = logger.lines.find((l) => l.event === 'relay.malformed');
    expect(warning).toMatchObject({ messageId: bad.messageId, size: expect.any(Number) });
  });

  it('survives a frame that is not JSON at all (dropped by the stream client)', async () => {
    const s = await sim();
    const forwarder = new ScriptedForwarder(s);
    const { relay } = relayOn(s, forwarder);
    await relay.start();

    const sent = s.addFaults({ malformedFrame: {} }).malformedFrameSentTo ?? [];
    expect(sent).toHaveLength(1);
    await until(
      () => relay.status().accounts[0]!.counters.malformedFrames === 1,
      'the stream client to count the bad frame',
    );
    const { messageId } = s.injectMessage(dm('still there'));
    await s.waitForAck(messageId);

    expect(forwarder.calls).toHaveLength(1);
    expect(relay.status()).toMatchObject({ ready: true, accounts: [{ state: 'connected' }] });
    expect(countersOf(relay)).toMatchObject({ received: 1, malformed: 0, acked: 1 });
  });
});
