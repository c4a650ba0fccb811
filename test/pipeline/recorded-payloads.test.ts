/**
 * Every payload shape other DingTalk bots record (recorded-payloads.ts) reaches the agent as
 * something: replayed through the simulator's raw injection (exactly as written, download codes
 * it did not mint made downloadable), through the real pipeline, to the openai agent (text model)
 * and the http agent (structure). Nothing is dropped, nothing reaches the agent empty.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgent } from '../../lib/agent/index.js';
import { startTestChannel, type TestChannel } from '../support/channel.js';
import { type FakeAgentHttp, startFakeAgentHttp } from '../support/fake-agent-http.js';
import { lastUserText } from '../support/fake-openai.js';
import { envelope, RECORDED_SHAPES } from './recorded-payloads.js';
import { type Rig, startRig } from './rig.js';

const webhookOn = (base: string, n: number) =>
  `${base}/robot/sendBySession?session=${n.toString(16).padStart(32, 'a')}`;

describe('recorded payloads reach the openai agent', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig();
  });
  afterAll(() => rig.close());

  RECORDED_SHAPES.forEach((shape, n) => {
    it(`${shape.name} (${shape.source})`, async () => {
      const before = rig.ai.requests.length;
      const raw = envelope(shape, n, webhookOn(rig.ch.sim.url, n));
      const { event } = rig.ch.inject({ raw });
      expect(await rig.ch.handle(event)).toEqual({ status: 'handled' });
      expect(rig.ai.requests).toHaveLength(before + 1);
      const turn = lastUserText(rig.ai.lastRequest());
      expect(turn.trim()).not.toBe('');
      for (const piece of shape.expectText) expect(turn).toContain(piece);
      // The reply went back through the session webhook the payload named (routed by the simulator).
      expect(rig.ch.sim.outbox().at(-1)).toMatchObject({
        via: 'webhook',
        conversationId: raw.conversationId,
      });
    });
  });
});

describe('recorded payloads reach the http agent with their media', () => {
  let ch: TestChannel;
  let agent: FakeAgentHttp;
  beforeAll(async () => {
    agent = await startFakeAgentHttp();
    ch = await startTestChannel({ agent: createAgent({ kind: 'http', httpUrl: agent.url }) });
  });
  afterAll(async () => {
    await ch.close();
    await agent.close();
  });

  const withMedia = RECORDED_SHAPES.filter((s) => s.expectMedia);
  it.each(withMedia.map((s) => [s.name, s] as const))('%s', async (_name, shape) => {
    const n = RECORDED_SHAPES.indexOf(shape);
    const { event } = ch.inject({ raw: envelope(shape, n, webhookOn(ch.sim.url, n)) });
    expect(await ch.handle(event)).toEqual({ status: 'handled' });
    const media = agent.lastRequest().body.media;
    expect(media.map((m) => m.kind)).toEqual(shape.expectMedia);
    // Codes the simulator never minted were registered by the raw injection: downloadable.
    for (const item of media)
      expect(item).toMatchObject({ status: 'ok', url: expect.stringContaining('/__files/') });
  });
});
