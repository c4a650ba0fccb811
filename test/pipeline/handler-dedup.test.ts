/**
 * Exactly one reply per inbound message (channel-semantics.md §9, style.md idempotency), through
 * the real handler on dynalite: redeliveries (sequential and concurrent), a handler that fails
 * after the agent answered, and a handler whose process died with the claim still held.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseRobotMessage } from '../../lib/dingtalk/inbound.js';
import type { MessageEvent } from '../../lib/forward/port.js';
import { claimMessage } from '../../lib/pipeline/dedup.js';
import { handleMessageEvent } from '../../lib/pipeline/handler.js';
import { enterSession, sessionKey } from '../../lib/pipeline/session.js';
import { keys } from '../../lib/state/keys.js';
import { chatOf, dm, type Rig, signal, startRig, WAIT } from './rig.js';

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

/** A webhook 5xx and a failing OpenAPI: the reply cannot be delivered at all. */
const UNDELIVERABLE = {
  webhook: { status: 500 },
  openapi: { status: 500, code: 'ServiceUnavailable' },
} as const;

describe('a message delivered twice (§9)', () => {
  it('sequentially: one agent call, one reply, the second delivery is a duplicate', async () => {
    rig = await startRig();
    const { event } = rig.ch.inject(dm('hello'));
    expect(await rig.ch.handle(event)).toEqual({ status: 'handled' });
    expect(await rig.ch.handle(event)).toEqual({
      status: 'duplicate',
      reason: 'duplicate_completed',
    });
    expect(rig.ai.requests).toHaveLength(1);
    expect(rig.sent()).toEqual(['answer to hello']);
  });

  it('concurrently: one agent call, one reply, the other delivery is in-progress', async () => {
    const release = signal();
    rig = await startRig({
      respond: async () => {
        await release.promise;
        return { text: 'once' };
      },
    });
    const { event } = rig.ch.inject(dm('hello'));
    const both = Promise.all([rig.ch.handle(event), rig.ch.handle(event)]);
    // Hold the model until one delivery has lost the claim: both are now surely in flight.
    await vi.waitFor(
      () => expect(rig?.ch.logger.lines.map((l) => l.event)).toContain('pipeline.duplicate'),
      WAIT,
    );
    release.resolve();
    const outcomes = await both;
    expect(outcomes).toContainEqual({ status: 'handled' });
    expect(outcomes).toContainEqual({ status: 'duplicate', reason: 'duplicate_in_progress' });
    expect(rig.ai.requests).toHaveLength(1);
    expect(rig.sent()).toEqual(['once']);
  });

  it('a redelivery through another relay (new stream messageId, same msgId) is a duplicate', async () => {
    rig = await startRig();
    const { event } = rig.ch.inject(dm('hello'));
    await rig.ch.handle(event);
    const replica: MessageEvent = { ...event, messageId: `${event.messageId}-replica` };
    expect(await rig.ch.handle(replica)).toMatchObject({ status: 'duplicate' });
    expect(rig.sent()).toHaveLength(1);
  });
});

describe('a handler that fails after the agent answered', () => {
  it('throws (so the platform retries); the retry resumes the stored reply', async () => {
    rig = await startRig();
    rig.ch.sim.addFaults(UNDELIVERABLE);
    const { event } = rig.ch.inject(dm('important question'));
    await expect(rig.ch.handle(event)).rejects.toMatchObject({ code: 'ServiceUnavailable' });
    expect(rig.ai.requests).toHaveLength(1);
    expect(rig.sent()).toEqual([]);
    expect(rig.ch.logger.lines.map((l) => l.event)).toContain('pipeline.failed_retry');

    expect(await rig.ch.handle(event)).toEqual({ status: 'handled', reason: 'resumed' });
    expect(rig.ai.requests).toHaveLength(1); // the agent is not asked twice
    expect(rig.sent()).toEqual(['answer to important question']);
    expect(await rig.ch.handle(event)).toMatchObject({ status: 'duplicate' });
    expect(rig.sent()).toHaveLength(1);
  });

  it('keeps the resumed exchange in the session history for the next message', async () => {
    rig = await startRig();
    rig.ch.sim.addFaults(UNDELIVERABLE);
    const first = rig.ch.inject(dm('remember 42'));
    await expect(rig.ch.handle(first.event)).rejects.toThrow();
    await rig.ch.handle(first.event);
    const second = rig.ch.inject(dm('what number?'));
    await rig.ch.handle(second.event);
    expect(chatOf(rig.ai.lastRequest())).toEqual([
      { role: 'user', content: 'remember 42' },
      { role: 'assistant', content: 'answer to remember 42' },
      { role: 'user', content: 'what number?' },
    ]);
  });
});

describe('a handler whose process died holding the claim', () => {
  /** What a killed invocation leaves behind: the claim, and its session turn (never left). */
  async function dieWhileHandling(r: Rig, event: MessageEvent, leaseUntil: number) {
    const message = parseRobotMessage(event.data, { messageId: event.messageId });
    const now = Date.now();
    const result = await claimMessage(r.ch.store, 'default', message.msgId, now, leaseUntil);
    if (!result.claimed) throw new Error('setup: the claim should be new');
    const key = sessionKey('default', message, false);
    await enterSession(r.ch.store, 'default', key, message, {
      now: Date.now,
      deadline: leaseUntil,
      maxWaitMs: 1_000,
      leaseMs: leaseUntil - now,
      logger: r.ch.logger,
    });
    return result.claim;
  }

  it('while its lease runs a redelivery is an in-progress duplicate; after it, the retry answers', async () => {
    rig = await startRig();
    const dead = rig.ch.inject(dm('are you alive?', { createAt: Date.now() - 10 }));
    const next = rig.ch.inject(dm('next question'));
    const leaseUntil = Date.now() + 1_500;
    await dieWhileHandling(rig, dead.event, leaseUntil);
    expect(await rig.ch.handle(dead.event)).toEqual({
      status: 'duplicate',
      reason: 'duplicate_in_progress',
    });
    expect(rig.sent()).toEqual([]);

    // The session's next message waits for the dead turn only until its lease passes.
    expect(await rig.ch.handle(next.event)).toEqual({ status: 'handled' });
    expect(Date.now()).toBeGreaterThan(leaseUntil);
    expect(rig.ch.logger.lines.map((l) => l.event)).not.toContain('session.wait_exceeded');

    expect(await rig.ch.handle(dead.event)).toEqual({ status: 'handled' });
    expect(rig.ai.requests).toHaveLength(2);
    expect(rig.sent()).toEqual(['answer to next question', 'answer to are you alive?']);
  });

  it('a lease that already passed (expired claim record) is taken over at once', async () => {
    rig = await startRig();
    const { event } = rig.ch.inject(dm('second try'));
    await dieWhileHandling(rig, event, Date.now() - 1);
    expect(await rig.ch.handle(event)).toEqual({ status: 'handled' });
    expect(rig.sent()).toEqual(['answer to second try']);
  });

  it('a process that died after storing the reply: the retry neither asks the agent nor sends chunk 0 again', async () => {
    rig = await startRig();
    const { event, msgId } = rig.ch.inject(dm('question'));
    const claim = await dieWhileHandling(rig, event, Date.now() + 60_000);
    // Storing the reply marks chunk 0 as maybe sent (its post may have gone out before the
    // crash): a send that may have happened is never repeated.
    await claim.storeReply('the stored answer');
    // The platform retries after the function's timeout: the clock is past the lease by then.
    const later = { ...rig.ch.rt, now: () => Date.now() + 61_000 };
    const outcome = await handleMessageEvent(later, event, { deadline: Date.now() + 91_000 });
    expect(outcome).toEqual({ status: 'handled', reason: 'resumed' });
    expect(rig.ai.requests).toHaveLength(0);
    expect(rig.sent()).toEqual([]);
    expect(rig.ch.logger.lines.find((l) => l.event === 'reply.ambiguous_skipped')).toMatchObject({
      chunks: [0, 1],
    });
    const key = keys.dedupClaim('default', msgId);
    expect(await rig.ch.store.get(key.pk, key.sk)).toMatchObject({ status: 'COMPLETED' });
  });

  it('a process that died between two chunks: the retry sends only the chunks never attempted', async () => {
    rig = await startRig({ channel: { textChunkLimit: 200 } });
    const { event } = rig.ch.inject(dm('question'));
    const claim = await dieWhileHandling(rig, event, Date.now() + 60_000);
    const reply = ['first part', 'second part', 'third part']
      .map((p) => `${p} ${'x'.repeat(180)}`)
      .join('\n');
    await claim.storeReply(reply);
    await claim.sending(0);
    claim.settled(0, true);
    await claim.sending(1); // chunk 1's post went out (or not): then the process died
    const later = { ...rig.ch.rt, now: () => Date.now() + 61_000 };
    expect(await handleMessageEvent(later, event, { deadline: Date.now() + 91_000 })).toEqual({
      status: 'handled',
      reason: 'resumed',
    });
    expect(rig.sent()).toHaveLength(1);
    expect(rig.sent()[0]).toContain('third part');
  });
});
