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
import type { InboundRecord, OutboxEntry } from '../../lib/simulator/index.js';

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
    expect(result.ok).toBe(true);
  }, 90_000);
});

describe('chaos reconciliation', () => {
  const message = (index: number, conversation: 'dm' | 'group'): SentMessage => ({
    index,
    token: `chaos-t${index}`,
    accountId: 'acct0',
    conversation,
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
});
