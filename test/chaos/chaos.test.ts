/**
 * The chaos run's small, fast configuration (`npm run chaos -- --quick`): 150 messages through
 * the full local path (simulator → relay → in-process handler → webhook/OpenAPI) with every
 * fault kind injected, reconciled against the simulator's outbox. Delivery guarantees
 * (channel-semantics.md §9, architecture invariants 1, 2 and 5): no message lost, none answered
 * twice, poison payloads ACKed and never answered. The reconciler itself is checked on a
 * hand-made log, so a reconciler that always says "fine" cannot pass.
 */
import { describe, expect, it } from 'vitest';
import { runChaos } from '../../bench/chaos/harness.js';
import {
  MESSAGE_FAULTS,
  QUICK_CHAOS_OPTIONS,
  resolveChaosOptions,
  TIMED_FAULTS,
} from '../../bench/chaos/options.js';
import { reconcile } from '../../bench/chaos/reconcile.js';
import type { SentMessage } from '../../bench/chaos/traffic.js';
import { FaultBook } from '../../bench/chaos/wrappers.js';
import { outTrackIdFor } from '../../lib/dingtalk/cards.js';
import type { InboundRecord, OutboxEntry, SimCard } from '../../lib/simulator/index.js';

describe('§9 delivery guarantees under chaos', () => {
  it('answers every message exactly once through drops, redeliveries, crashes and API faults', async () => {
    const result = await runChaos(resolveChaosOptions({ ...QUICK_CHAOS_OPTIONS, seed: 7 }));
    const problems = [...result.lost, ...result.doubled].map((a) => `#${a.index}: ${a.reason}`);
    expect(problems).toEqual([]);
    expect(result.sent).toBe(150);
    expect(result.answeredOnce).toBe(150);
    expect(result.neverAnswered).toBe(0);
    expect(result.answeredTwice).toBe(0);
    expect(result.strayReplies).toBe(0);
    expect(result.wrongText).toBe(0);
    expect(result.poison.acked).toBe(result.poison.sent);
    expect(result.drainTimedOut).toBe(false);
    // Every fault kind really acted, so the run above exercised each path.
    for (const kind of [...MESSAGE_FAULTS, ...TIMED_FAULTS]) {
      expect(result.faults.fired[kind] ?? 0, kind).toBeGreaterThan(0);
    }
    expect(result.simulator.redeliveries).toBeGreaterThan(0);
    expect(result.relay.retries).toBeGreaterThan(0);
    // Card mode (issue 13): a share of the messages answered in AI cards, every card closed,
    // every attempt within the budget, card refusals answered by markdown once (above).
    expect(result.cards.cardMessages).toBeGreaterThan(30);
    expect(result.cards.created).toBeGreaterThan(30);
    expect(result.cards.open).toEqual([]);
    expect(result.cards.unfinished).toBe(0);
    expect(result.cardCalls.overBudget).toEqual([]);
    expect(result.cardCalls.maxPerAttempt).toBeLessThanOrEqual(result.cardCalls.budget);
    // Stop clicks went through the relay to the running turn: those cards ended stopped.
    expect(result.cards.stopped).toBeGreaterThan(0);
    expect(result.ok).toBe(true);
  }, 90_000);
});

describe('chaos reconciliation', () => {
  const message = (index: number, conversation: 'dm' | 'group'): SentMessage => ({
    index,
    token: `chaos-t${index}`,
    accountId: 'acct0',
    conversation,
    card: false,
    staffId: `staff-${index}`,
    msgId: `msg${index}`,
    messageId: `mid${index}`,
    conversationId: `cid${index}`,
  });
  const reply = (seq: number, fields: Partial<OutboxEntry>): OutboxEntry => ({
    seq,
    at: seq,
    via: 'webhook',
    account: 'acct0',
    msgtype: 'markdown',
    text: '',
    raw: {},
    ...fields,
  });
  const record = (messageId: string, state: InboundRecord['state']): InboundRecord => ({
    messageId,
    type: 'CALLBACK',
    topic: '/v1.0/im/bot/messages/get',
    account: 'acct0',
    injectedAt: 0,
    state,
    deliveries: [{ connectionId: 'c', at: 0, redelivery: false }],
    payload: {},
  });

  it('attributes replies by conversation or DM user and reports lost, doubled and stray ones', () => {
    const sent = [message(0, 'dm'), message(1, 'dm'), message(2, 'group'), message(3, 'dm')];
    const outbox = [
      reply(1, { conversationId: 'cid0', text: 'Echo agent: chaos-t0' }),
      // #1 answered twice: once on the webhook, once through OpenAPI batchSend to its sender.
      reply(2, { conversationId: 'cid1', text: 'Echo agent: chaos-t1' }),
      reply(3, { via: 'openapi', userIds: ['staff-1'], text: 'Echo agent: chaos-t1' }),
      // #3 answered with the agent's error message still counts as answered.
      reply(4, { conversationId: 'cid3', text: 'Sorry, the agent did not answer in time.' }),
      reply(5, { conversationId: 'cid-nobody', text: 'Echo agent: ?' }),
    ];
    const result = reconcile({
      sent,
      poison: [{ messageId: 'poison0' }],
      inbound: [record('mid2', 'unacked'), record('poison0', 'acked')],
      outbox,
      book: new FaultBook(),
    });
    expect(result).toMatchObject({
      sent: 4,
      answeredOnce: 2,
      answeredTwice: 1,
      neverAnswered: 1,
      errorReplies: 1,
      strayReplies: 1,
      wrongText: 0,
      poison: { sent: 1, acked: 1 },
    });
    expect(result.doubled.map((a) => [a.index, a.via])).toEqual([[1, ['webhook', 'openapi']]]);
    expect(result.lost.map((a) => a.index)).toEqual([2]);
    expect(result.lost[0]!.reason).toContain('gave up after 1 deliveries');
  });

  it('counts a card as the answer, a markdown copy beside it twice, an open card unfinished', () => {
    const card = (m: SentMessage, content: string, state: SimCard['state']): SimCard => ({
      outTrackId: outTrackIdFor(m.accountId, m.msgId),
      account: m.accountId,
      templateId: 't.schema',
      space: { type: 'IM_ROBOT', id: m.staffId },
      createdAt: 0,
      createParams: { flowStatus: '2', msgContent: content },
      params: { flowStatus: state === 'open' ? '2' : '3', msgContent: content },
      updates: [],
      state,
    });
    const sent = [0, 1, 2, 3, 4].map((i) => ({ ...message(i, 'dm'), card: true }));
    const [m0, m1, m2, m3, m4] = sent as [
      SentMessage,
      SentMessage,
      SentMessage,
      SentMessage,
      SentMessage,
    ];
    const cards = [
      card(m0, 'Echo agent: chaos-t0', 'finished'),
      // #1: the card was delivered and closed, yet the reply also went out as markdown.
      card(m1, 'Echo agent: chaos-t1', 'finished'),
      // #2: a long reply: the card holds its start, markdown the rest.
      card(m2, 'chaos-t2 line 0\nchaos-t2 line 1', 'finished'),
      // #3: left spinning.
      card(m3, 'Echo agent: chaos-t3', 'open'),
      // A card no message explains.
      card({ ...m4, msgId: 'msg-unknown' }, 'Echo agent: ?', 'finished'),
    ];
    const outbox = [
      reply(1, { conversationId: 'cid1', text: 'Echo agent: chaos-t1' }),
      reply(2, { conversationId: 'cid2', text: 'chaos-t2 line 2' }),
      // #4: card creation refused, answered by markdown.
      reply(3, { conversationId: 'cid4', text: 'Echo agent: chaos-t4' }),
    ];
    const result = reconcile({
      sent,
      poison: [],
      inbound: [],
      outbox,
      cards,
      book: new FaultBook(),
    });
    expect(result).toMatchObject({ answeredOnce: 4, answeredTwice: 1, neverAnswered: 0 });
    expect(result.doubled.map((a) => a.index)).toEqual([1]);
    expect(result.doubled[0]!.reason).toContain('markdown repeats what the card shows');
    expect(result.strayReplies).toBe(1);
    expect(result.cards).toMatchObject({
      cardMessages: 5,
      created: 5,
      unfinished: 1,
      markdownFallbacks: 1,
      spilledOver: 2,
    });
    expect(result.cards.open).toEqual([outTrackIdFor('acct0', 'msg3')]);
  });
});
