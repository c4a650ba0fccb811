/**
 * The http agent's optional streaming answer (docs/agents.md "Streaming answers"; issue 13): asked
 * for with `Accept: text/event-stream` only when the caller shows progress (`onText`, card
 * mode), read as `data: {"text"}` deltas ending in `{"done":true}`, a plain JSON answer still
 * accepted, the answer bounded in bytes and time, and a broken stream a final AgentError.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHttpAgent, type HttpAgentOptions } from '../../lib/agent/http.js';
import { DEFAULT_STREAM_REPLY_BYTES } from '../../lib/agent/http-stream.js';
import { registerSecret } from '../../lib/log.js';
import { MAX_REPLY_BYTES } from '../../lib/pipeline/bounds.js';
import { type FakeAgentHttp, startFakeAgentHttp } from '../support/fake-agent-http.js';
import { agentRequest, openSignal } from './fixtures.js';

let hook: FakeAgentHttp;
beforeEach(async () => {
  hook = await startFakeAgentHttp();
});
afterEach(async () => {
  await hook.close();
});

function agentFor(overrides: Partial<HttpAgentOptions> = {}) {
  return createHttpAgent({
    url: hook.url,
    keepsHistory: false,
    history: { maxTurns: 20, maxChars: 10_000 },
    ...overrides,
  });
}

async function streamed(overrides: Partial<HttpAgentOptions> = {}, signal = openSignal()) {
  const seen: string[] = [];
  const reply = await agentFor(overrides).respond(agentRequest({ text: 'hi' }), {
    signal,
    onText: (t) => seen.push(t),
  });
  return { reply, seen };
}

describe('http agent: streaming answers', () => {
  it('asks for an event stream and reports the whole answer so far on every delta', async () => {
    hook.respondWith({ stream: ['Hel', 'lo ', '世界'], gapMs: 5 });
    const { reply, seen } = await streamed();
    expect(hook.lastRequest().headers.accept).toContain('text/event-stream');
    // The request body is contract version 1, unchanged: streaming is negotiated, not a field.
    expect(hook.lastRequest().body).toMatchObject({ version: 1, text: 'hi' });
    expect(hook.lastRequest().body).not.toHaveProperty('stream');
    expect(seen).toEqual(['Hel', 'Hello ', 'Hello 世界']);
    expect(reply.text).toBe('Hello 世界');
  });

  it('without onText (markdown mode) the request asks for JSON and reads it as before', async () => {
    hook.respondWith({ stream: ['a', 'b'] });
    const reply = await agentFor().respond(agentRequest(), { signal: openSignal() });
    expect(hook.lastRequest().headers.accept).toBe('application/json');
    expect(reply.text).toBe('ab');
  });

  it('a webhook that ignores the Accept header answers JSON: that text, no deltas', async () => {
    hook.respondWith({ text: 'plain answer' });
    const { reply, seen } = await streamed();
    expect(reply.text).toBe('plain answer');
    expect(seen).toEqual([]);
    hook.respondWith({ noContent: true });
    expect((await streamed()).reply.text).toBe('');
    hook.respondWith({ json: { answer: 'wrong field' } });
    await expect(streamed()).rejects.toMatchObject({ code: 'agent_bad_response' });
  });

  it('a last delta may ride on the done event; comments and empty deltas are skipped', async () => {
    hook.respondWith({
      stream: [],
      raw: [
        ': keep-alive\n\n',
        'data: {"text":"one "}\n\n',
        'data: {"text":""}\n\n',
        'data: {"text":"two",\ndata: "done":true}\n\n',
        'data: {"text":"after done is ignored"}\n\n',
      ],
    });
    const { reply, seen } = await streamed();
    expect(reply.text).toBe('one two');
    expect(seen).toEqual(['one ', 'one two']);
  });

  it('a stream cut off before done is agent_network, never a partial answer', async () => {
    hook.respondWith({ stream: ['partial '], cut: true });
    await expect(streamed()).rejects.toMatchObject({ code: 'agent_network', retryable: false });
  });

  it('a stream that ends without done is agent_bad_response naming what arrived', async () => {
    hook.respondWith({ stream: ['half'], noDone: true });
    await expect(streamed()).rejects.toMatchObject({
      code: 'agent_bad_response',
      message: expect.stringContaining('without {"done":true} after 4 characters'),
    });
  });

  it('an error event is a failure whose message is masked', async () => {
    registerSecret('tok-secret-value-99');
    hook.respondWith({ stream: ['so far '], error: 'upstream model failed tok-secret-value-99' });
    const err = await streamed({ token: 'tok-secret-value-99' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'agent_bad_response' });
    expect((err as Error).message).toContain('the agent reported an error: upstream model failed');
    expect((err as Error).message).not.toContain('tok-secret-value-99');
  });

  it.each([
    ['not JSON', 'data: hello\n\n'],
    ['an array', 'data: ["x"]\n\n'],
    ['a non-string text', 'data: {"text":5}\n\n'],
    ['no known field', 'data: {"content":"x"}\n\n'],
  ])('an event that is %s is agent_bad_response', async (_what, raw) => {
    hook.respondWith({ stream: [], raw: [raw] });
    await expect(streamed()).rejects.toMatchObject({ code: 'agent_bad_response' });
  });

  it('an HTTP error answer to a streaming request is agent_http with its excerpt', async () => {
    hook.respondWith({ status: 503, body: 'overloaded' });
    await expect(streamed()).rejects.toMatchObject({
      code: 'agent_http',
      status: 503,
      message: expect.stringContaining('overloaded'),
    });
  });

  it('reading stops past the reply bound: the answer is cut there, the stream dropped', async () => {
    const piece = 'x'.repeat(1_000);
    // 10 000 pieces (10 MB) offered; reading must stop just past the bound.
    hook.respondWith({ stream: Array.from({ length: 10_000 }, () => piece), gapMs: 0 });
    const { reply } = await streamed({ maxReplyBytes: 20_000 });
    expect(reply.text.length).toBeGreaterThan(20_000);
    expect(reply.text.length).toBeLessThanOrEqual(20_000 + piece.length);
  });

  it('without a bound from the caller or the options, the pipeline reply bound applies', async () => {
    expect(DEFAULT_STREAM_REPLY_BYTES).toBe(MAX_REPLY_BYTES);
    const piece = '长'.repeat(2_000); // 6 000 bytes
    hook.respondWith({ stream: Array.from({ length: 100 }, () => piece), gapMs: 0 });
    const { reply } = await streamed();
    const bytes = Buffer.byteLength(reply.text);
    expect(bytes).toBeGreaterThan(MAX_REPLY_BYTES);
    expect(bytes).toBeLessThanOrEqual(MAX_REPLY_BYTES + 6_000);
  });

  it("the caller's bound wins over the adapter's", async () => {
    hook.respondWith({ stream: Array.from({ length: 100 }, () => 'y'.repeat(1_000)), gapMs: 0 });
    const reply = await agentFor({ maxReplyBytes: 50_000 }).respond(agentRequest(), {
      signal: openSignal(),
      onText: () => undefined,
      maxReplyBytes: 5_000,
    });
    expect(reply.text.length).toBe(6_000);
  });

  it('a stream of empty deltas past the raw bound is agent_bad_response', async () => {
    hook.respondWith({
      stream: [],
      raw: Array.from({ length: 200 }, () => `data: {"text":""${' '.repeat(1_000)}}\n\n`),
    });
    await expect(streamed({ maxReplyBytes: 10_000 })).rejects.toMatchObject({
      code: 'agent_bad_response',
      message: expect.stringContaining('bytes for 0 bytes of answer'),
    });
  });

  it('the deadline ends a stream that is still going: agent_timeout', async () => {
    hook.respondWith({ stream: ['early ', 'never'], gapMs: 5_000 });
    const seen: string[] = [];
    const err = await agentFor()
      .respond(agentRequest(), {
        signal: AbortSignal.timeout(300),
        onText: (t) => seen.push(t),
      })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'agent_timeout' });
    expect(seen).toEqual(['early ']);
  });
});
