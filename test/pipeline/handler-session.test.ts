/**
 * Sessions through the real handler (channel-semantics.md §6): the messages of one session are
 * answered one at a time, in arrival order, each seeing the history before it; different
 * sessions run in parallel. The fake model waits for signals from the test, not for time.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { keys } from '../../lib/state/keys.js';
import type { FakeOpenAiAnswer } from '../support/fake-openai.js';
import { lastUserText } from '../support/fake-openai.js';
import {
  answerTo,
  chatOf,
  DM_SENDER,
  dm,
  groupMessage,
  type Rig,
  signal,
  startRig,
  WAIT,
} from './rig.js';

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

describe('one session: one message at a time, in order (§6)', () => {
  it('answers a message sent while the previous one is with the model after it, with its history', async () => {
    const releaseFirst = signal();
    rig = await startRig({
      respond: async (req) => {
        if (lastUserText(req) === 'first') await releaseFirst.promise;
        return { text: answerTo(req) };
      },
    });
    const t = Date.now();
    const first = rig.ch.inject(dm('first', { createAt: t }));
    const second = rig.ch.inject(dm('second', { createAt: t + 1 }));

    const handlingFirst = rig.ch.handle(first.event);
    await vi.waitFor(() => expect(rig?.ai.requests).toHaveLength(1), WAIT); // held by the model
    const handlingSecond = rig.ch.handle(second.event);
    // "second" is queued in the session behind "first" (which took the idle session's lease
    // without queuing)…
    const session = keys.sessionQueue('default', `dingtalk:default:dm:${DM_SENDER.staffId}`);
    await vi.waitFor(async () => {
      const queued = await rig?.ch.store.query(session.pk, { skPrefix: session.skPrefix });
      expect(queued?.map((e) => e.msgId)).toEqual([second.msgId]);
    }, WAIT);
    // …and, however long it polls, it must not reach the model while "first" is unanswered.
    await delay(150);
    expect(rig.ai.requests).toHaveLength(1);
    releaseFirst.resolve();

    expect(await Promise.all([handlingFirst, handlingSecond])).toEqual([
      { status: 'handled' },
      { status: 'handled' },
    ]);
    expect(rig.ai.requests.map(lastUserText)).toEqual(['first', 'second']);
    expect(chatOf(rig.ai.requests[1])).toEqual([
      { role: 'user', content: 'first' },
      { role: 'assistant', content: 'answer to first' },
      { role: 'user', content: 'second' },
    ]);
    expect(rig.sent()).toEqual(['answer to first', 'answer to second']);
  });

  it('started at the same instant: the two turns never interleave', async () => {
    // Whichever message takes the session first, the model is slow on it; the other must wait
    // for its whole turn (answer sent, history written) and see it in its own history.
    let calls = 0;
    rig = await startRig({
      respond: (req) => ({ text: answerTo(req), delayMs: calls++ === 0 ? 200 : 0 }),
    });
    const t = Date.now();
    const a = rig.ch.inject(dm('alpha', { createAt: t }));
    const b = rig.ch.inject(dm('beta', { createAt: t + 1 }));
    await Promise.all([rig.ch.handle(a.event), rig.ch.handle(b.event)]);
    const order = rig.ai.requests.map(lastUserText);
    expect([...order].sort()).toEqual(['alpha', 'beta']);
    const [firstText, secondText] = order;
    expect(chatOf(rig.ai.requests[1])).toEqual([
      { role: 'user', content: firstText },
      { role: 'assistant', content: `answer to ${firstText}` },
      { role: 'user', content: secondText },
    ]);
    expect(rig.sent()).toEqual([`answer to ${firstText}`, `answer to ${secondText}`]);
  });

  it('keeps group members apart when isolateContextPerUserInGroup is set', async () => {
    rig = await startRig({ channel: { isolateContextPerUserInGroup: true } });
    const conversationTitle = 'Isolated team';
    const ann = { staffId: 'ann01' };
    const bob = { staffId: 'bob02' };
    for (const [sender, text] of [
      [ann, 'ann one'],
      [bob, 'bob one'],
      [ann, 'ann two'],
    ] as const) {
      const { event } = rig.ch.inject(groupMessage(text, { sender, conversationTitle }));
      await rig.ch.handle(event);
    }
    expect(chatOf(rig.ai.requests[1])).toEqual([{ role: 'user', content: 'bob one' }]);
    expect(chatOf(rig.ai.requests[2])).toEqual([
      { role: 'user', content: 'ann one' },
      { role: 'assistant', content: 'answer to ann one' },
      { role: 'user', content: 'ann two' },
    ]);
  });
});

describe('different sessions run in parallel (§6)', () => {
  /**
   * Each request is held until both have arrived; that can only happen if the two sessions are
   * handled at the same time. A guard answers with an error after 10 s instead of hanging.
   */
  function barrierResponder(parties: number) {
    const arrived: string[] = [];
    const all = signal();
    return async (req: Parameters<typeof lastUserText>[0]): Promise<FakeOpenAiAnswer> => {
      arrived.push(lastUserText(req));
      if (arrived.length === parties) all.resolve();
      let guard: NodeJS.Timeout | undefined;
      const timedOut = new Promise<false>((resolve) => {
        guard = setTimeout(() => resolve(false), 10_000);
      });
      const met = await Promise.race([all.promise.then(() => true), timedOut]);
      clearTimeout(guard);
      return met ? { text: answerTo(req) } : { status: 503 };
    };
  }

  it('two DM senders are answered concurrently', async () => {
    rig = await startRig({ respond: barrierResponder(2) });
    const a = rig.ch.inject(dm('from a', { sender: { staffId: 'user-a' } }));
    const b = rig.ch.inject(dm('from b', { sender: { staffId: 'user-b' } }));
    await Promise.all([rig.ch.handle(a.event), rig.ch.handle(b.event)]);
    expect(rig.ai.requests).toHaveLength(2);
    expect([...rig.sent()].sort()).toEqual(['answer to from a', 'answer to from b']);
  });

  it('a DM and a group message of the same person are different sessions', async () => {
    rig = await startRig({ respond: barrierResponder(2) });
    const direct = rig.ch.inject(dm('in private'));
    const group = rig.ch.inject(groupMessage('in the group', { sender: DM_SENDER }));
    await Promise.all([rig.ch.handle(direct.event), rig.ch.handle(group.event)]);
    expect([...rig.sent()].sort()).toEqual([
      'answer to in private',
      `answer to in the group @${DM_SENDER.staffId}`,
    ]);
  });
});
