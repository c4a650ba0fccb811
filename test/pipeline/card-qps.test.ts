/**
 * Card calls counted against DingTalk's QPS limit per app (issue 13, §6.2): many card replies of
 * one app at once, against the simulator's own per-app+API rate limit. With the channel's budget
 * at the limit, DingTalk refuses nothing and every card closes with its full answer; with the
 * budget off (far above the limit) the same load is refused, which is what the budget prevents.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { groupMessage, type Rig, startRig } from './rig.js';

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

/** The simulator's limit; the channel paces a little below it (jitter bunches exact pacing). */
const LIMIT = 5;
const BUDGET = 4;

async function burst(qpsPerApi: number) {
  rig = await startRig({
    respond: { stream: ['one ', 'two ', 'three ', 'four'], gapMs: 5 },
    sim: { qpsPerApp: LIMIT },
    channel: {
      replyMode: 'card',
      card: { maxCalls: 5, minIntervalMs: 100, thinkingDelayMs: 0, qpsPerApi },
    },
  });
  const r = rig;
  // Twelve groups at once (a group each, so no session waits for another).
  const events = Array.from(
    { length: 12 },
    (_, i) => r.ch.inject(groupMessage(`@bot q${i}`, { conversationId: `cidQps${i}==` })).event,
  );
  const outcomes = await Promise.all(events.map((e) => r.ch.handle(e, 30_000)));
  return { r, outcomes };
}

describe('card calls within the app QPS limit', () => {
  it('a burst of card replies is paced: DingTalk refuses none, every card closes in full', async () => {
    const { r, outcomes } = await burst(BUDGET);
    expect(outcomes.every((o) => o.status === 'handled')).toBe(true);
    expect(r.ch.sim.stats().qpsRejections).toBe(0);
    const cards = r.ch.sim.cards();
    expect(cards).toHaveLength(12);
    expect(cards.every((c) => c.state === 'finished')).toBe(true);
    expect(cards.every((c) => c.params.msgContent === 'one two three four')).toBe(true);
    expect(r.sent()).toEqual([]); // no markdown fallback
  }, 60_000);

  it('without the budget the same burst meets 403 QPS refusals', async () => {
    const { r } = await burst(1_000);
    expect(r.ch.sim.stats().qpsRejections).toBeGreaterThan(0);
  }, 60_000);
});
