/**
 * Card API faults the chaos run injects (issue 13), one at a time through the simulator: a slow
 * `createAndDeliver` whose answer comes after the client gave up (the card exists, the channel
 * does not know it), and card streaming answering 5xx. Every card closes, the answer is shown
 * once (never card and markdown both), the agent is asked once.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ChannelError } from '../../lib/errors.js';
import { keys } from '../../lib/state/keys.js';
import { dm, type Rig, type RigOptions, startRig } from './rig.js';

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

const words = (n: number) => Array.from({ length: n }, (_, i) => `w${i} `);

async function cardRig(respond: RigOptions['respond']) {
  rig = await startRig({
    respond,
    runtime: { replyReserveMs: 600 },
    channel: {
      replyMode: 'card',
      card: { maxCalls: 5, minIntervalMs: 100, thinkingDelayMs: 0 },
    },
  });
  return rig;
}

describe('card faults: slow and failing card API', () => {
  it('a create answered too late: no markdown copy, the retry closes the delivered card', async () => {
    const r = await cardRig({ stream: words(6), gapMs: 0 });
    r.ch.sim.addFaults({
      slowOpenapi: { path: '/v1.0/card/instances/createAndDeliver', delayMs: 5_000 },
    });
    const { event } = r.ch.inject(dm('hi'));
    // The create outlasts the attempt: the card may exist, so the attempt fails retryably …
    await expect(r.ch.handle(event, 1_500)).rejects.toMatchObject({
      code: 'card_close_failed',
      retryable: true,
    });
    // … the simulator took the create at once (that is what a slow answer means) …
    expect(r.ch.sim.cards().map((c) => c.state)).toEqual(['open']);
    expect(r.sent()).toEqual([]);
    // … and the retry finds that card and closes it with the stored reply.
    expect(await r.ch.handle(event)).toEqual({ status: 'handled', reason: 'resumed' });
    const [card, ...others] = r.ch.sim.cards();
    expect(others).toEqual([]);
    expect(card!.state).toBe('finished');
    expect(card!.params.msgContent).toBe(words(6).join(''));
    expect(r.sent()).toEqual([]);
    expect(r.ai.requests).toHaveLength(1);
  }, 20_000);

  it('streaming updates answering 5xx are covered by the final content', async () => {
    const r = await cardRig({ stream: words(20), gapMs: 30 });
    r.ch.sim.addFaults({
      openapi: { path: '/v1.0/card/streaming', status: 500, code: 'ServiceUnavailable', count: 2 },
    });
    await r.ch.handle(r.ch.inject(dm('hi')).event);
    const [card] = r.ch.sim.cards();
    expect(card!.state).toBe('finished');
    expect(card!.params.msgContent).toBe(words(20).join(''));
    expect(r.sent()).toEqual([]);
  });
});

describe('card mode: what a crash after the reply was stored leaves', () => {
  it('the stored reply marks no markdown chunk as maybe sent, so a retry closes the card with it', async () => {
    const r = await cardRig({ stream: words(6), gapMs: 0 });
    // The closing status call hangs for a while: the state then is what a crash there leaves.
    r.ch.sim.addFaults({ slowOpenapi: { path: '/v1.0/card/instances', delayMs: 1_500 } });
    const { event, msgId } = r.ch.inject(dm('hi'));
    const first = r.ch.handle(event, 10_000);
    const key = keys.dedupClaim('default', msgId);
    const stored = await vi.waitFor(
      async () => {
        const item = await r.ch.store.get(key.pk, key.sk);
        if (typeof item?.reply !== 'string') throw new Error('not stored yet');
        return item;
      },
      { timeout: 5_000, interval: 20 },
    );
    expect(stored.reply).toBe(words(6).join(''));
    // attempted 0: the resume step (steps.ts) closes the card; 1 would skip chunk 0 as "maybe
    // sent" and leave the card open, or send the rest of a long reply as markdown beside it.
    expect(stored.attempted ?? 0).toBe(0);
    expect(await first).toEqual({ status: 'handled' });
    expect(r.ch.sim.cards().map((c) => c.state)).toEqual(['finished']);
    expect(r.sent()).toEqual([]);
  }, 20_000);
});

describe('card mode: a retry whose card create is refused', () => {
  it('closes the card of the earlier attempt with the answer instead of sending it as markdown', async () => {
    const r = await cardRig({ stream: words(6), gapMs: 0 });
    // Fault injection on the real memory store, as the chaos run's store wrapper does: the write
    // recording the reply fails once (crash_before_reply), after the card showed the text.
    const store = r.ch.store;
    const update = store.update.bind(store);
    let failed = false;
    store.update = (pk, sk, set, condition, options) => {
      if (!failed && typeof set.reply === 'string') {
        failed = true;
        return Promise.reject(
          new ChannelError('state_unavailable', 'injected', { retryable: true }),
        );
      }
      return update(pk, sk, set, condition, options);
    };
    const { event } = r.ch.inject(dm('hi'));
    await expect(r.ch.handle(event)).rejects.toMatchObject({ retryable: true });
    expect(r.ch.sim.cards().map((c) => c.state)).toEqual(['failed']); // interrupted, with a note
    // The retry's create is refused (not "exists"): the card of the first attempt is still there.
    r.ch.sim.addFaults({
      openapi: {
        path: '/v1.0/card/instances/createAndDeliver',
        status: 403,
        code: 'Forbidden.AccessDenied.QpsLimitForAppkeyAndApi',
      },
    });
    expect(await r.ch.handle(event)).toEqual({ status: 'handled' });
    const [card, ...others] = r.ch.sim.cards();
    expect(others).toEqual([]);
    expect(card!.state).toBe('finished');
    expect(card!.params.msgContent).toBe(words(6).join(''));
    expect(r.sent()).toEqual([]); // never the answer a second time as markdown
  }, 20_000);
});
