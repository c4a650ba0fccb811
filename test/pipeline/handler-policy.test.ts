/**
 * Who gets an answer, and what it costs (channel-semantics.md §2–§5, architecture invariant 4):
 * dropped messages reach neither the agent nor any DingTalk API; commands are answered by the
 * channel; pairing sends one challenge; a plain text message stays within a small budget of
 * store operations and pays for no OpenAPI call.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createEchoAgent } from '../../lib/agent/index.js';
import { systemClock } from '../../lib/clock.js';
import type { ApiCall } from '../../lib/dingtalk/api.js';
import { HELP_TEXT } from '../../lib/pipeline/commands.js';
import { approvePairing } from '../../lib/policy/index.js';
import type { InjectMessageInput } from '../../lib/simulator/index.js';
import { countingStore } from '../../lib/state/counting.js';
import { startTestChannel, type TestChannel } from '../support/channel.js';
import {
  chatOf,
  DM_SENDER,
  dm,
  GROUP_SENDER,
  groupMessage,
  MODEL,
  type Rig,
  startRig,
} from './rig.js';

let rig: Rig | undefined;
let ch: TestChannel | undefined;
afterEach(async () => {
  await rig?.close();
  await ch?.close();
  rig = undefined;
  ch = undefined;
});

describe('dropped messages reach nothing (§2, §4)', () => {
  const cases: [string, Record<string, unknown>, InjectMessageInput, string][] = [
    [
      'DM allowlist without the sender',
      { dm: { policy: 'allowlist', allowFrom: ['someone-else'] } },
      dm('let me in'),
      'dm_not_allowed',
    ],
    ['DM disabled', { dm: { policy: 'disabled' } }, dm('hello?'), 'dm_disabled'],
    [
      'group not in the allowlist',
      { groupPolicy: 'allowlist', groups: { cidSomeOtherGroup: {} } },
      groupMessage('hello team'),
      'group_not_allowed',
    ],
    [
      'group sender not in the entry’s users',
      { groupPolicy: 'open', groups: { '*': { users: ['the-boss'] } } },
      groupMessage('hello team'),
      'group_sender_not_allowed',
    ],
    [
      'mention required, bot not @-mentioned',
      { groupPolicy: 'open', requireMention: true },
      groupMessage('chatting among ourselves', { atBot: false }),
      'mention_required',
    ],
  ];

  it.each(cases)('%s', async (_name, channel, input, reason) => {
    rig = await startRig({ channel });
    const { event } = rig.ch.inject(input);
    expect(await rig.ch.handle(event)).toEqual({ status: 'dropped', reason });
    expect(rig.ai.requests).toHaveLength(0);
    expect(rig.ch.sim.outbox()).toEqual([]);
    expect(rig.calls).toEqual([]); // no webhook, no paid OpenAPI call
    expect(rig.ch.logger.lines).toContainEqual(
      expect.objectContaining({ event: 'policy.drop', reason }),
    );
    // Policy runs before the claim: a redelivery is dropped again, as cheaply, with nothing
    // written that could make it a duplicate (a drop has no effect to repeat).
    expect(await rig.ch.handle(event)).toEqual({ status: 'dropped', reason });
    expect(rig.ai.requests).toHaveLength(0);
    expect(rig.calls).toEqual([]);
  });
});

describe('commands (§5): answered by the channel, never sent to the agent', () => {
  it('/help, /whoami, /status, /new text and /reset', async () => {
    rig = await startRig();
    const key = `dingtalk:default:dm:${DM_SENDER.staffId}`;
    const say = async (text: string) => {
      const injected = rig!.ch.inject(dm(text));
      expect(await rig!.ch.handle(injected.event)).toEqual({ status: 'handled' });
      return { reply: rig!.sent().at(-1) ?? '', conversationId: injected.conversationId };
    };

    // DingTalk needs "  \n" for a line break; the text is otherwise the help text.
    expect((await say('/help')).reply.replace(/ +\n/g, '\n')).toBe(HELP_TEXT);
    const whoami = await say('/WhoAmI');
    expect(whoami.reply).toContain(`User id: ${DM_SENDER.staffId}`);
    expect(whoami.reply).toContain(`Conversation id: ${whoami.conversationId}`);
    expect(rig.ai.requests).toHaveLength(0);

    await say('remember the blue door');
    const status = (await say('  /status  ')).reply;
    expect(status).toContain('Account: default');
    expect(status).toContain(`Session: ${key}`);
    expect(status).toContain('History: 2 turns');
    expect(status).toContain(`Agent: openai (${MODEL})`);

    // `/new text`: the history is emptied, then the text is answered in the fresh session.
    expect((await say('/new which door?')).reply).toBe('answer to which door?');
    expect(chatOf(rig.ai.lastRequest())).toEqual([{ role: 'user', content: 'which door?' }]);

    expect((await say('/reset')).reply).toBe('Started a new conversation.');
    await say('anything left?');
    expect(chatOf(rig.ai.lastRequest())).toEqual([{ role: 'user', content: 'anything left?' }]);

    const seen = rig.ai.requests.flatMap((r) => chatOf(r).map((m) => String(m.content)));
    expect(seen.filter((text) => text.startsWith('/'))).toEqual([]);
    expect(rig.ai.requests).toHaveLength(3);
  });

  it('works in a group after the @Bot text is removed, and @-mentions the sender', async () => {
    rig = await startRig();
    const { event, conversationId } = rig.ch.inject(groupMessage('/whoami'));
    await rig.ch.handle(event);
    const reply = rig.sent()[0] ?? '';
    expect(reply).toContain(`User id: ${GROUP_SENDER.staffId}`);
    expect(reply).toContain(`Conversation id: ${conversationId}`);
    expect(reply.endsWith(`@${GROUP_SENDER.staffId}`)).toBe(true);
    expect(rig.ai.requests).toHaveLength(0);
  });
});

describe('pairing through the pipeline (§3)', () => {
  it('an unknown sender gets exactly one challenge; approval lets the next message through', async () => {
    rig = await startRig({ channel: { dm: { policy: 'pairing' } } });
    const stranger = { staffId: 'stranger42', nick: 'New Person' };
    const first = rig.ch.inject(dm('hi bot', { sender: stranger }));
    expect(await rig.ch.handle(first.event)).toEqual({
      status: 'handled',
      reason: 'pairing_challenge',
    });
    const challenge = rig.sent();
    expect(challenge).toHaveLength(1);
    const code = /Pairing code: ([A-Z2-9]{8})\b/.exec(challenge[0] ?? '')?.[1];
    expect(code).toBeDefined();
    expect(challenge[0]).toContain(`dingtalk-channel pairing approve ${code}`);
    expect(challenge[0]).toContain(stranger.staffId);

    const second = rig.ch.inject(dm('hello??', { sender: stranger }));
    expect(await rig.ch.handle(second.event)).toEqual({
      status: 'dropped',
      reason: 'pairing_pending',
    });
    expect(rig.sent()).toHaveLength(1);
    expect(rig.ai.requests).toHaveLength(0);

    expect(
      await approvePairing(rig.ch.store, 'default', code ?? '', { clock: systemClock }),
    ).toMatchObject({
      userId: stranger.staffId,
    });
    const third = rig.ch.inject(dm('now?', { sender: stranger }));
    await rig.ch.handle(third.event);
    expect(rig.sent()).toEqual([challenge[0], 'answer to now?']);
  });
});

describe('cost of one handled text message (echo agent, webhook reply)', () => {
  async function measure(input: InjectMessageInput) {
    const calls: ApiCall[] = [];
    ch = await startTestChannel({
      store: 'dynalite',
      agent: createEchoAgent(),
      runtime: { onApiCall: (c) => calls.push(c) },
    });
    const store = countingStore(ch.store);
    ch.rt.store = store;
    const { event } = ch.inject(input);
    expect(await ch.handle(event)).toEqual({ status: 'handled' });
    const handled = {
      ...store.counts,
      total: store.total(),
      rounds: store.rounds(),
      calls: [...calls],
    };
    store.reset();
    calls.length = 0;
    expect(await ch.handle(event)).toMatchObject({ status: 'duplicate' });
    const duplicate = { total: store.total(), rounds: store.rounds(), calls: [...calls] };
    return { handled, duplicate, sent: ch.sim.outbox() };
  }

  it('DM: 7 store operations in 3 sequential round trips, one free webhook call, no paid OpenAPI call', async () => {
    const { handled, duplicate, sent } = await measure(dm('what does this cost?'));
    expect(sent).toMatchObject([{ via: 'webhook' }]);
    // claim ∥ session lease ∥ history read; reply ∥ history write; completion ∥ leaving.
    expect(handled).toMatchObject({ total: 7, rounds: 3, query: 0 });
    expect(handled.calls).toEqual([{ endpoint: 'robot/sendBySession', paid: false }]);
    // A redelivery: the failed claim beside the speculative lease and history read, then the
    // lease is given back. Nothing at DingTalk.
    expect(duplicate).toEqual({ total: 4, rounds: 2, calls: [] });
  });

  it('group: the same budget', async () => {
    const { handled } = await measure(groupMessage('and in a group?'));
    expect(handled).toMatchObject({ total: 7, rounds: 3 });
    expect(handled.calls).toEqual([{ endpoint: 'robot/sendBySession', paid: false }]);
  });
});

describe('cheap drops: policy decides before any write (issue "every message ends")', () => {
  async function dropCost(
    channel: Record<string, unknown>,
    prepare?: (c: TestChannel) => Promise<void>,
  ) {
    ch = await startTestChannel({ store: 'dynalite', agent: createEchoAgent(), channel });
    await prepare?.(ch);
    const store = countingStore(ch.store);
    ch.rt.store = store;
    return store;
  }

  it('a fourth new DM sender at pairing capacity costs 2 store reads and no write', async () => {
    const store = await dropCost({ dm: { policy: 'pairing' } }, async (c) => {
      for (const id of ['p1', 'p2', 'p3']) {
        const { event } = c.inject(dm('let me in', { sender: { staffId: id } }));
        expect(await c.handle(event)).toMatchObject({ reason: 'pairing_challenge' });
      }
    });
    const { event } = ch!.inject(dm('me too', { sender: { staffId: 'p4' } }));
    expect(await ch!.handle(event)).toEqual({ status: 'dropped', reason: 'pairing_capacity' });
    expect({ total: store.total(), put: store.counts.put, update: store.counts.update }).toEqual({
      total: 2,
      put: 0,
      update: 0,
    });
  });

  it('a sender whose pairing request is pending costs 2 store reads and no write', async () => {
    const store = await dropCost({ dm: { policy: 'pairing' } }, async (c) => {
      const { event } = c.inject(dm('let me in', { sender: { staffId: 'waiting' } }));
      await c.handle(event);
    });
    const { event } = ch!.inject(dm('hello again', { sender: { staffId: 'waiting' } }));
    expect(await ch!.handle(event)).toEqual({ status: 'dropped', reason: 'pairing_pending' });
    expect(store.total()).toBe(2);
  });

  it('a DM outside the allowlist costs 1 read; a group outside it at most the one-time hint marker', async () => {
    const dmStore = await dropCost({ dm: { policy: 'allowlist', allowFrom: ['boss'] } });
    const { event } = ch!.inject(dm('hi'));
    expect(await ch!.handle(event)).toMatchObject({ status: 'dropped' });
    expect(dmStore.total()).toBe(1);
    await ch!.close();
    ch = undefined;
    const groupStore = await dropCost({ groupPolicy: 'allowlist', groups: { cidOther: {} } });
    for (const text of ['one', 'two']) {
      const { event: g } = ch!.inject(groupMessage(text));
      expect(await ch!.handle(g)).toMatchObject({ status: 'dropped', reason: 'group_not_allowed' });
    }
    // The hint marker's conditional put, once per drop (it succeeds only the first time).
    expect(groupStore.total()).toBe(2);
  });
});
