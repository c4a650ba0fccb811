/**
 * Issue 16: quote-replies built by the simulator's `quote` option reach the agent through the
 * real pipeline: the quoted sender, type and content, `fromBot` for the bot's own markdown reply
 * and AI card, nested quotes, and the legacy `quoteMessage` shape. The http agent's request body
 * shows the structure; the openai agent's user turn the markdown quote block.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createAgent } from '../../lib/agent/index.js';
import { outTrackIdFor } from '../../lib/dingtalk/cards.js';
import { startTestChannel, type TestChannel } from '../support/channel.js';
import { type FakeAgentHttp, startFakeAgentHttp } from '../support/fake-agent-http.js';
import { lastUserText } from '../support/fake-openai.js';
import { dm, type Rig, startRig } from './rig.js';

let ch: TestChannel | undefined;
let agent: FakeAgentHttp | undefined;
let rig: Rig | undefined;
afterEach(async () => {
  await ch?.close();
  await agent?.close();
  await rig?.close();
  ch = agent = rig = undefined;
});

async function start(): Promise<{ ch: TestChannel; agent: FakeAgentHttp }> {
  agent = await startFakeAgentHttp({ respond: (req) => ({ text: `reply to ${req.body.text}` }) });
  ch = await startTestChannel({ agent: createAgent({ kind: 'http', httpUrl: agent.url }) });
  return { ch, agent };
}

describe('quotes through the pipeline', () => {
  it("a quote of the sender's own earlier message: their nick, type and content", async () => {
    const { ch, agent } = await start();
    const first = ch.inject(dm('the build is red'));
    await ch.handle(first.event);
    const second = ch.inject(dm('any news?', { quote: { msgId: first.msgId } }));
    expect(await ch.handle(second.event)).toEqual({ status: 'handled' });
    const body = agent.lastRequest().body;
    expect(body.quote).toMatchObject({
      msgtype: 'text',
      senderNick: 'Zhang San',
      fromBot: false,
      text: 'the build is red',
      quote: null,
    });
    expect(body.quote?.senderId).toMatch(/^\$:LWCP_v1:\$/);
    expect(body.text).toBe('> Quoting Zhang San:\n> the build is red\n\nany news?');
  });

  it("a quote of the bot's own markdown reply is marked fromBot and carries its text", async () => {
    const { ch, agent } = await start();
    const first = ch.inject(dm('hello'));
    await ch.handle(first.event);
    const reply = ch.sim.outbox()[0]!;
    expect(reply.text).toBe('reply to hello');
    const second = ch.inject(dm('why that?', { quote: { msgId: reply.msgId! } }));
    await ch.handle(second.event);
    const body = agent.lastRequest().body;
    expect(body.quote).toMatchObject({
      msgtype: 'markdown',
      fromBot: true,
      text: 'reply to hello',
    });
    expect(body.text).toMatch(/^> Quoting your earlier reply:\n> reply to hello\n\nwhy that\?$/);
  });

  it('nested quotes reach the agent as a chain, and the legacy shape reads the same', async () => {
    const { ch, agent } = await start();
    const a = ch.inject(dm('first'));
    await ch.handle(a.event);
    const b = ch.inject(dm('second', { quote: { msgId: a.msgId } }));
    await ch.handle(b.event);
    const c = ch.inject(dm('third', { quote: { msgId: b.msgId } }));
    await ch.handle(c.event);
    expect(agent.lastRequest().body.quote).toMatchObject({
      text: 'second',
      quote: { text: 'first', quote: null },
    });
    // A text-only agent reads the chain as nested quote blocks.
    expect(agent.lastRequest().body.text).toBe(
      '> Quoting Zhang San:\n> second\n> > Quoting Zhang San:\n> > first\n\nthird',
    );
    // The legacy quoteMessage alone (the new shape removed) gives the same context.
    const legacyOnly = ch.inject(
      dm('fourth', { quote: { msgId: a.msgId, legacy: true }, extra: { text: null } }),
    );
    const record = ch.sim.inbound().find((r) => r.msgId === legacyOnly.msgId)!;
    expect(record.payload).toHaveProperty('quoteMessage');
    expect(record.payload).not.toHaveProperty('text');
    await ch.handle(legacyOnly.event);
    expect(agent.lastRequest().body.quote).toMatchObject({ msgtype: 'text', text: 'first' });
  });

  it("a quote of the bot's AI card is the bot's card, readable for the model", async () => {
    rig = await startRig({ channel: { replyMode: 'card', card: { thinkingDelayMs: 0 } } });
    const first = rig.ch.inject(dm('draft a plan'));
    await rig.ch.handle(first.event);
    const outTrackId = outTrackIdFor('default', first.msgId);
    expect(rig.ch.sim.cards().map((c) => c.outTrackId)).toEqual([outTrackId]);
    const second = rig.ch.inject(dm('shorter please', { quote: { outTrackId } }));
    expect(await rig.ch.handle(second.event)).toEqual({ status: 'handled' });
    expect(lastUserText(rig.ai.lastRequest())).toBe(
      '> Quoting your earlier reply:\n> [a card the bot sent earlier]\n\nshorter please',
    );
  });
});
