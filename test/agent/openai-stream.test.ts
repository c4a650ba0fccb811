/**
 * The openai adapter with `onText` (card replies, issue 13): `stream: true`, server-sent
 * `chat.completion.chunk` events from the fake OpenAI server, the answer so far reported as it
 * grows, and a broken stream classified like any failed call.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createOpenAiAgent } from '../../lib/agent/openai.js';
import { type FakeOpenAi, startFakeOpenAi } from '../support/fake-openai.js';
import { agentRequest, openSignal } from './fixtures.js';

let ai: FakeOpenAi;
beforeEach(async () => {
  ai = await startFakeOpenAi();
});
afterEach(async () => {
  await ai.close();
});

const agent = () =>
  createOpenAiAgent({
    baseUrl: ai.baseUrl,
    model: 'gpt-test',
    protocol: 'openai',
    vision: false,
    maxHistoryTurns: 20,
    maxHistoryChars: 10_000,
  });

describe('openai agent: streaming', () => {
  it('asks for stream: true and reports the whole answer so far on every piece', async () => {
    ai.respondWith({ stream: ['Hel', 'lo ', 'world'], gapMs: 5 });
    const seen: string[] = [];
    const reply = await agent().respond(agentRequest(), {
      signal: openSignal(),
      onText: (t) => seen.push(t),
    });
    expect(ai.lastRequest().body.stream).toBe(true);
    expect(seen).toEqual(['Hel', 'Hello ', 'Hello world']);
    expect(reply.text).toBe('Hello world');
  });

  it('without onText the call stays non-streaming', async () => {
    ai.respondWith({ stream: ['a', 'b'] });
    const reply = await agent().respond(agentRequest(), { signal: openSignal() });
    expect(ai.lastRequest().body.stream).toBe(false);
    expect(reply.text).toBe('ab');
  });

  it('a stream cut off before [DONE] is an AgentError, never a partial answer', async () => {
    ai.respondWith({ stream: ['partial'], cut: true });
    const seen: string[] = [];
    await expect(
      agent().respond(agentRequest(), { signal: openSignal(), onText: (t) => seen.push(t) }),
    ).rejects.toMatchObject({ name: 'AgentError' });
    expect(seen).toEqual(['partial']);
  });

  it('an HTTP error on a streaming request is agent_http', async () => {
    ai.respondWith({ status: 429 });
    await expect(
      agent().respond(agentRequest(), { signal: openSignal(), onText: () => undefined }),
    ).rejects.toMatchObject({ code: 'agent_http', status: 429 });
  });

  it('the deadline mid-stream is agent_timeout', async () => {
    ai.respondWith({ stream: ['a', 'b'], gapMs: 2_000 });
    await expect(
      agent().respond(agentRequest(), {
        signal: AbortSignal.timeout(200),
        onText: () => undefined,
      }),
    ).rejects.toMatchObject({ code: 'agent_timeout' });
  });
});
