/**
 * The card `stop` button (issue 13): a click in the simulator (`POST /__sim/cards/<id>/click`)
 * pushes the §2.4 card callback; the test hands that exact payload to the real handler, as the
 * relay would (test/relay/card-callback.test.ts drives the same through the relay and the real
 * SDK). The agent is the real openai adapter streaming from the fake OpenAI server, the store
 * dynalite. A second runtime on the same store stands in for another process or Lambda.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { outTrackIdFor } from '../../lib/dingtalk/cards.js';
import { TOPIC_CARD } from '../../lib/dingtalk/payload.js';
import type { MessageEvent } from '../../lib/forward/port.js';
import { memoryLogger } from '../../lib/log.js';
import { STOPPED_NOTE } from '../../lib/pipeline/card-turn.js';
import { createMessageHandler } from '../../lib/pipeline/index.js';
import { createRuntime } from '../../lib/runtime/index.js';
import type { CardClicked, SimCard } from '../../lib/simulator/index.js';
import { keys } from '../../lib/state/keys.js';
import { pushedEvent } from '../support/pushed-event.js';
import {
  DM_SENDER,
  dm,
  GROUP_SENDER,
  groupMessage,
  type Rig,
  type RigOptions,
  startRig,
  WAIT,
} from './rig.js';

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

const CARD = { maxCalls: 5, minIntervalMs: 100, thinkingDelayMs: 0, stopPollMs: 200 };
const words = (n: number) => Array.from({ length: n }, (_, i) => `w${i} `);
/** Long enough that a click always lands while it streams (a bound, not an assertion). */
const SLOW = { stream: words(400), gapMs: 25 };

async function cardRig(options: RigOptions = {}) {
  rig = await startRig({
    respond: SLOW,
    ...options,
    channel: { replyMode: 'card', card: CARD, ...options.channel },
  });
  return rig;
}

/** The card once it shows some streamed text. */
function streamingCard(r: Rig): Promise<SimCard> {
  return r.ch.sim.waitFor(
    () => r.ch.sim.cards().find((c) => c.state === 'open' && (c.params.msgContent ?? '') !== ''),
    WAIT.timeout,
    'a card showing streamed text',
  );
}

/** The event the relay forwards for a pushed card callback (its payload exactly as pushed). */
function callbackEvent(r: Rig, clicked: { messageId: string }): MessageEvent {
  const record = r.ch.sim.inbound().find((x) => x.messageId === clicked.messageId)!;
  expect(record.topic).toBe(TOPIC_CARD);
  return pushedEvent(r.ch.sim, clicked.messageId, { topic: TOPIC_CARD });
}

function click(r: Rig, card: SimCard, userId: string, action = 'stop'): CardClicked {
  return r.ch.sim.clickCard(card.outTrackId, { userId, action });
}

function logged(r: Rig, event: string) {
  return r.ch.logger.lines.filter((l) => l.event === event);
}

describe('the stop button', () => {
  it('stops the agent: request aborted, card finished with the text so far and a note', async () => {
    const r = await cardRig();
    const { event, msgId } = r.ch.inject(dm('write a long essay'));
    const handling = r.ch.handle(event);
    const open = await streamingCard(r);
    expect(open.params.showStop).toBe('true');
    const clicked = click(r, open, DM_SENDER.staffId);
    const payload = JSON.parse(callbackEvent(r, clicked).data) as Record<string, unknown>;
    expect(payload).toMatchObject({
      type: 'actionCallback',
      userId: 'manager807',
      outTrackId: open.outTrackId,
    });
    expect(JSON.parse(payload.content as string)).toEqual({
      cardPrivateData: { actionIds: ['stop'], params: {} },
    });

    expect(await r.ch.handle(callbackEvent(r, clicked))).toEqual({
      status: 'handled',
      reason: 'card_stopped',
    });
    expect(await handling).toEqual({ status: 'handled' });

    expect(r.ai.requests).toHaveLength(1);
    expect(r.ai.lastRequest().aborted).toBe(true);
    const [card] = r.ch.sim.cards();
    expect(r.ch.sim.cards()).toHaveLength(1);
    expect(card!.outTrackId).toBe(outTrackIdFor('default', msgId));
    expect(card!.state).toBe('finished'); // stopped is finished, not failed
    expect(card!.params.showStop).toBe('false');
    const text = card!.params.msgContent!;
    expect(text.startsWith('w0 w1 ')).toBe(true);
    expect(text.endsWith(STOPPED_NOTE)).toBe(true);
    expect(text).not.toContain('w399');
    expect(r.sent()).toEqual([]); // exactly one reply: the card, no markdown fallback
    expect(logged(r, 'card.stop_requested')[0]).toMatchObject({ local: true });
    expect(logged(r, 'card.stop_seen')[0]).toMatchObject({ by: DM_SENDER.staffId });

    // The message is ended once: a redelivery is a duplicate and never restarts the agent.
    expect(await r.ch.handle(event)).toEqual({
      status: 'duplicate',
      reason: 'duplicate_completed',
    });
    expect(r.ai.requests).toHaveLength(1);
    const key = keys.openCard('default', card!.outTrackId);
    expect(await r.ch.store.get(key.pk, key.sk)).toBeUndefined();
  });

  it('a click handled by another process stops the turn through the store record', async () => {
    const r = await cardRig();
    const otherLog = memoryLogger();
    const other = await createRuntime(r.ch.rt.config, {
      store: r.ch.store,
      logger: otherLog,
      agent: r.ch.rt.agent,
    });
    const otherHandler = createMessageHandler(other);
    const handling = r.ch.handle(r.ch.inject(groupMessage('@bot go on and on')).event);
    const open = await streamingCard(r);
    const clicked = click(r, open, GROUP_SENDER.staffId);
    const outcome = await otherHandler(callbackEvent(r, clicked), {
      deadline: Date.now() + 10_000,
    });
    expect(outcome).toEqual({ status: 'handled', reason: 'card_stopped' });
    expect(await handling).toEqual({ status: 'handled' });
    expect(r.ai.lastRequest().aborted).toBe(true);
    expect(logged(r, 'card.stop_seen')[0]).toMatchObject({ by: GROUP_SENDER.staffId });
    // The other runtime had no turn of this card: the stop went through the store record.
    expect(otherLog.lines.find((l) => l.event === 'card.stop_requested')).toMatchObject({
      local: false,
    });
    const card = r.ch.sim.cards()[0]!;
    expect(card.state).toBe('finished');
    expect(card.params.msgContent!.endsWith(STOPPED_NOTE)).toBe(true);
  });

  it('a redelivered callback (same messageId) and a second click are applied once', async () => {
    const r = await cardRig();
    const handling = r.ch.handle(r.ch.inject(dm('and more')).event);
    const open = await streamingCard(r);
    const clicked = click(r, open, DM_SENDER.staffId);
    const first = await r.ch.handle(callbackEvent(r, clicked));
    const again = await r.ch.handle(callbackEvent(r, clicked));
    const second = await r.ch.handle(callbackEvent(r, click(r, open, DM_SENDER.staffId)));
    expect(first).toEqual({ status: 'handled', reason: 'card_stopped' });
    // Later ones find the card closed, or (before it closed) the stop already recorded.
    for (const outcome of [again, second]) {
      expect([
        { status: 'duplicate', reason: 'card_stop_recorded' },
        { status: 'handled', reason: 'card_closed' },
      ]).toContainEqual(outcome);
    }
    await handling;
    expect(logged(r, 'card.stop_requested')).toHaveLength(1);
    const text = r.ch.sim.cards()[0]!.params.msgContent!;
    expect(text.split(STOPPED_NOTE)).toHaveLength(2); // the note once
    expect(r.ch.sim.cards()[0]!.callbacks?.map((c) => c.messageId)).toHaveLength(2);
  });

  it('a clicker the DM policy does not admit cannot stop the reply', async () => {
    const r = await cardRig({
      respond: { stream: words(60), gapMs: 25 },
      channel: { dm: { policy: 'allowlist', allowFrom: [DM_SENDER.staffId] } },
    });
    const handling = r.ch.handle(r.ch.inject(dm('hello')).event);
    const open = await streamingCard(r);
    const outcome = await r.ch.handle(callbackEvent(r, click(r, open, 'stranger42')));
    expect(outcome).toEqual({ status: 'dropped', reason: 'card_stop_not_allowed' });
    expect(await handling).toEqual({ status: 'handled' });
    expect(r.ai.lastRequest().aborted).toBeFalsy();
    const card = r.ch.sim.cards()[0]!;
    expect(card.params.msgContent).toBe(words(60).join(''));
    expect(logged(r, 'card.stop_refused')[0]).toMatchObject({
      userId: 'stranger42',
      reason: 'dm_not_allowed',
    });
  });

  it('a group member the group entry does not list cannot stop the reply', async () => {
    const r = await cardRig({
      respond: { stream: words(60), gapMs: 25 },
      channel: { groups: { '*': { users: [GROUP_SENDER.staffId] } } },
    });
    const handling = r.ch.handle(r.ch.inject(groupMessage('@bot hi')).event);
    const open = await streamingCard(r);
    const outcome = await r.ch.handle(callbackEvent(r, click(r, open, 'bystander7')));
    expect(outcome).toEqual({ status: 'dropped', reason: 'card_stop_not_allowed' });
    await handling;
    expect(r.ch.sim.cards()[0]!.params.msgContent).toBe(words(60).join(''));
    expect(logged(r, 'card.stop_refused')[0]).toMatchObject({ reason: 'group_sender_not_allowed' });
  });

  it('a stop for a card already finished is a no-op with a clear log line', async () => {
    const r = await cardRig({ respond: { text: 'short answer' } });
    await r.ch.handle(r.ch.inject(dm('quick')).event);
    const card = r.ch.sim.cards()[0]!;
    expect(card.state).toBe('finished');
    const outcome = await r.ch.handle(callbackEvent(r, click(r, card, DM_SENDER.staffId)));
    expect(outcome).toEqual({ status: 'handled', reason: 'card_closed' });
    expect(logged(r, 'card.stop_ignored')[0]).toMatchObject({ outTrackId: card.outTrackId });
    expect(r.ch.sim.cards()[0]!.params.msgContent).toBe('short answer');
  });
});

describe('malformed card callbacks', () => {
  const base = { version: 1 as const, accountId: 'default', receivedAt: 0, topic: TOPIC_CARD };

  it('not JSON, no outTrackId, bad content, unknown action: dropped with a reason, never thrown', async () => {
    const r = await cardRig({ respond: { text: 'done' } });
    await r.ch.handle(r.ch.inject(dm('make a card')).event);
    const card = r.ch.sim.cards()[0]!;
    const cases: [string, string][] = [
      ['this is {not json', 'card_callback_malformed'],
      ['[1,2]', 'card_callback_malformed'],
      [
        JSON.stringify({ type: 'actionCallback', userId: 'u1', content: '{}' }),
        'card_callback_malformed',
      ],
      [
        JSON.stringify({ outTrackId: card.outTrackId, userId: 'u1', content: 'not json' }),
        'card_callback_malformed',
      ],
    ];
    for (const [i, [data, reason]] of cases.entries()) {
      const outcome = await r.ch.handle({ ...base, messageId: `bad_${i}`, data });
      expect(outcome).toEqual({ status: 'dropped', reason });
    }
    const unknown = await r.ch.handle(
      callbackEvent(r, click(r, card, DM_SENDER.staffId, 'approve')),
    );
    expect(unknown).toEqual({ status: 'dropped', reason: 'card_action_unknown' });
    expect(logged(r, 'card.callback_malformed').map((l) => l.field)).toEqual([
      'data is not a JSON object',
      'data is not a JSON object',
      'outTrackId',
      'content',
    ]);
    expect(logged(r, 'card.callback_unknown_action')[0]).toMatchObject({ actionIds: ['approve'] });
    // An event whose topic is neither robot nor card is not an event at all.
    const handler = createMessageHandler(r.ch.rt);
    expect(
      await handler(
        { ...base, messageId: 'x', data: '{}', topic: '/v1.0/graph/api/invoke' },
        {
          deadline: Date.now() + 5_000,
        },
      ),
    ).toEqual({ status: 'dropped', reason: 'invalid_event' });
  });
});
