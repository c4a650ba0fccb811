/** The http agent's JSON contract (docs/agents.md "The http agent"), both directions. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHttpAgent, type HttpAgentOptions } from '../../lib/agent/http.js';
import { type FakeAgentHttp, startFakeAgentHttp } from '../support/fake-agent-http.js';
import { agentRequest, exchanges, openSignal } from './fixtures.js';

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

describe('http agent: request (channel → webhook)', () => {
  it('POSTs version 1 with every documented field', async () => {
    const request = agentRequest({
      messageId: 'msgX',
      accountId: 'work',
      sessionKey: 'dingtalk:work:group:cidG1',
      text: '看看这个',
      media: [
        {
          kind: 'picture',
          downloadCode: 'code-1',
          url: 'https://files.example/tmp/1',
          data: { base64: 'AAAA', mimeType: 'image/png' },
        },
        { kind: 'file', downloadCode: 'code-2', fileName: 'a.zip' },
      ],
      sender: { id: 'staff42' },
      conversation: { id: 'cidG1', type: 'group', title: 'Ops' },
      tools: { deny: ['exec'] },
      systemPrompt: 'Be short.',
      history: exchanges(1),
    });
    await agentFor({ token: 'tok-abcdef-123' }).respond(request, { signal: openSignal() });
    const sent = hook.lastRequest();
    expect(sent.method).toBe('POST');
    expect(sent.headers.authorization).toBe('Bearer tok-abcdef-123');
    expect(sent.headers['content-type']).toBe('application/json');
    expect(sent.body).toEqual({
      version: 1,
      messageId: 'msgX',
      accountId: 'work',
      sessionKey: 'dingtalk:work:group:cidG1',
      text: '看看这个',
      media: [
        {
          kind: 'picture',
          url: 'https://files.example/tmp/1',
          fileName: null,
          mimeType: 'image/png',
          status: 'ok',
          text: null,
        },
        { kind: 'file', url: null, fileName: 'a.zip', mimeType: null, status: 'ok', text: null },
      ],
      quote: null,
      sender: { id: 'staff42', nick: null },
      conversation: { id: 'cidG1', type: 'group', title: 'Ops' },
      tools: { allow: [], deny: ['exec'] },
      systemPrompt: 'Be short.',
      history: [
        { role: 'user', content: 'u1' },
        { role: 'assistant', content: 'a1' },
      ],
    });
  });

  it('sends null tools/systemPrompt when absent and no Authorization without a token', async () => {
    await agentFor().respond(agentRequest(), { signal: openSignal() });
    const sent = hook.lastRequest();
    expect(sent.headers.authorization).toBeUndefined();
    expect(sent.body.tools).toBeNull();
    expect(sent.body.systemPrompt).toBeNull();
    expect(sent.body.conversation).toEqual({ id: 'cidDM001', type: 'dm', title: null });
  });

  it('bounds the history it sends; sends none when the webhook keeps history', async () => {
    await agentFor({ history: { maxTurns: 2, maxChars: 100 } }).respond(
      agentRequest({ history: exchanges(5) }),
      { signal: openSignal() },
    );
    expect(hook.lastRequest().body.history.map((t) => t.content)).toEqual(['u5', 'a5']);

    const stateful = agentFor({ keepsHistory: true });
    expect(stateful.keepsHistory).toBe(true);
    await stateful.respond(agentRequest({ history: exchanges(5) }), { signal: openSignal() });
    expect(hook.lastRequest().body.history).toEqual([]);
  });
});

describe('http agent: response (webhook → channel)', () => {
  it('returns the "text" field', async () => {
    hook.respondWith((req) => ({ text: `You said: ${req.body.text}` }));
    const reply = await agentFor().respond(agentRequest({ text: 'ping' }), {
      signal: openSignal(),
    });
    expect(reply).toEqual({ text: 'You said: ping' });
  });

  it('passes an empty text, NO_REPLY and a 204 on as "no reply" texts', async () => {
    hook.respondWith({ text: '' });
    expect((await agentFor().respond(agentRequest(), { signal: openSignal() })).text).toBe('');
    hook.respondWith({ text: 'NO_REPLY' });
    expect((await agentFor().respond(agentRequest(), { signal: openSignal() })).text).toBe(
      'NO_REPLY',
    );
    hook.respondWith({ noContent: true });
    expect((await agentFor().respond(agentRequest(), { signal: openSignal() })).text).toBe('');
  });
});
