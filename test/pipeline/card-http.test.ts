/**
 * Card mode with the http agent (issue 13): the real handler and the real http adapter reading
 * the fake webhook's streamed answer (docs/agents.md "Streaming answers") into the simulator's
 * AI card, read back through `sim.cards()`. Paid card calls are counted through `onApiCall`.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createAgent, userFacingAgentError } from '../../lib/agent/index.js';
import type { ApiCall } from '../../lib/dingtalk/api.js';
import { MAX_REPLY_BYTES } from '../../lib/pipeline/bounds.js';
import { startTestChannel, type TestChannel } from '../support/channel.js';
import {
  type FakeAgentHttp,
  type FakeAgentHttpAnswer,
  startFakeAgentHttp,
} from '../support/fake-agent-http.js';
import { dm } from './rig.js';

const BUDGET = 5;
let hook: FakeAgentHttp | undefined;
let ch: TestChannel | undefined;
afterEach(async () => {
  await ch?.close();
  await hook?.close();
  ch = undefined;
  hook = undefined;
});

async function start(answer: FakeAgentHttpAnswer, replyMode: 'card' | 'markdown' = 'card') {
  hook = await startFakeAgentHttp({ respond: answer });
  const calls: ApiCall[] = [];
  const answers: string[] = [];
  ch = await startTestChannel({
    channel: {
      replyMode,
      card: { maxCalls: BUDGET, minIntervalMs: 100, thinkingDelayMs: 0 },
    },
    agent: createAgent({ kind: 'http', httpUrl: hook.url }),
    runtime: {
      onApiCall: (call) => calls.push(call),
      // Records what the adapter returned (the pipeline bounds it after).
      wrapAgent: (agent) => ({
        ...agent,
        respond: async (request, options) => {
          const reply = await agent.respond(request, options);
          answers.push(reply.text);
          return reply;
        },
      }),
    },
  });
  return {
    ch,
    hook,
    answers,
    cardCalls: () => calls.filter((c) => c.endpoint.startsWith('card/')),
  };
}

const words = (n: number) => Array.from({ length: n }, (_, i) => `w${i} `);

describe('card mode with the http agent streaming', () => {
  it('a streamed answer fills the card within the budget and ends finished', async () => {
    const { ch, hook, cardCalls } = await start({ stream: words(30), gapMs: 25 });
    expect(await ch.handle(ch.inject(dm('tell me')).event)).toEqual({ status: 'handled' });
    expect(hook.lastRequest().headers.accept).toContain('text/event-stream');
    const [card, ...others] = ch.sim.cards();
    expect(others).toEqual([]);
    expect(card!.state).toBe('finished');
    expect(card!.params.msgContent).toBe(words(30).join(''));
    const partial = card!.updates.filter(
      (u) => u.kind === 'streaming' && !u.isFinalize && u.content !== card!.params.msgContent,
    );
    expect(partial.length).toBeGreaterThan(0);
    expect(cardCalls().length).toBeLessThanOrEqual(BUDGET);
    expect(ch.sim.outbox()).toEqual([]);
  });

  it('a webhook answering plain JSON in card mode gets one create, finished', async () => {
    const { ch, cardCalls } = await start({ text: 'one piece', delayMs: 50 });
    await ch.handle(ch.inject(dm('hi')).event);
    const [card] = ch.sim.cards();
    expect(card!.state).toBe('finished');
    expect(card!.params.msgContent).toBe('one piece');
    expect(cardCalls()).toHaveLength(1);
  });

  it('a stream that breaks off closes the card as failed with the text so far', async () => {
    const { ch } = await start({ stream: ['first part ', 'second'], gapMs: 150, cut: true });
    await ch.handle(ch.inject(dm('hi')).event);
    const [card] = ch.sim.cards();
    expect(card!.state).toBe('failed');
    expect(card!.params.msgContent).toContain('first part second');
    expect(card!.params.msgContent).toContain(userFacingAgentError(new Error('x')));
    expect(ch.sim.outbox()).toEqual([]);
  });

  it('a stream past the reply bound: the card holds its start, the rest and the cut note follow', async () => {
    const line = `${'z'.repeat(999)}\n`;
    const { ch, answers } = await start({
      stream: Array.from({ length: 400 }, () => line),
      gapMs: 0,
    });
    await ch.handle(ch.inject(dm('long')).event);
    const [card] = ch.sim.cards();
    expect(card!.state).toBe('finished');
    expect(Buffer.byteLength(card!.params.msgContent!)).toBeLessThanOrEqual(20_000);
    const markdown = ch.sim.outbox().map((e) => e.text);
    expect(markdown.length).toBeGreaterThan(0);
    expect(markdown.at(-1)).toContain('The reply was cut here');
    // The adapter stopped reading just past the bound the pipeline passed, not at 400 KB …
    expect(Buffer.byteLength(answers[0]!)).toBeGreaterThan(MAX_REPLY_BYTES);
    expect(Buffer.byteLength(answers[0]!)).toBeLessThanOrEqual(MAX_REPLY_BYTES + line.length);
    // … and card plus markdown hold about that much.
    const shown = [card!.params.msgContent!, ...markdown].join('').replace(/[^z]/g, '').length;
    expect(shown).toBeGreaterThan(100_000);
    expect(shown).toBeLessThan(MAX_REPLY_BYTES);
  });

  it('in markdown mode the same webhook is asked for JSON and the reply is markdown', async () => {
    const { ch, hook } = await start({ stream: ['a ', 'b'] }, 'markdown');
    await ch.handle(ch.inject(dm('hi')).event);
    expect(hook.lastRequest().headers.accept).toBe('application/json');
    expect(ch.sim.cards()).toEqual([]);
    expect(ch.sim.outbox().map((e) => e.text)).toEqual(['a b']);
  });
});
