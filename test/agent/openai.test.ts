import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  chatCompletionsUrl,
  createOpenAiAgent,
  type OpenAiAgentOptions,
} from '../../lib/agent/openai.js';
import type { AgentMedia } from '../../lib/agent/port.js';
import { type FakeOpenAi, startFakeOpenAi } from '../support/fake-openai.js';
import { agentRequest, exchanges, openSignal } from './fixtures.js';

const API_KEY = 'sk-test-openai-key-0123456789';

let ai: FakeOpenAi;
beforeEach(async () => {
  ai = await startFakeOpenAi();
});
afterEach(async () => {
  await ai.close();
});

function agentFor(overrides: Partial<OpenAiAgentOptions> = {}) {
  return createOpenAiAgent({
    baseUrl: ai.baseUrl,
    apiKey: API_KEY,
    model: 'gpt-test',
    protocol: 'openai',
    vision: false,
    maxHistoryTurns: 20,
    maxHistoryChars: 10_000,
    ...overrides,
  });
}

const picture = (extra: Partial<AgentMedia> = {}): AgentMedia => ({
  kind: 'picture',
  downloadCode: 'pic-code',
  ...extra,
});

describe('openai agent: request shape', () => {
  it('POSTs /v1/chat/completions with the bearer key, model and stream: false', async () => {
    ai.respondWith({ text: 'Hi there' });
    const reply = await agentFor().respond(agentRequest(), { signal: openSignal() });
    expect(reply).toEqual({ text: 'Hi there' });
    const req = ai.lastRequest();
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/v1/chat/completions');
    expect(req.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.body.model).toBe('gpt-test');
    expect(req.body.stream).toBe(false);
    expect(req.body.user).toBeUndefined();
    expect(req.headers['x-openclaw-session-key']).toBeUndefined();
  });

  it('sends no Authorization header without an API key (Ollama, vLLM)', async () => {
    await agentFor({ apiKey: undefined }).respond(agentRequest(), { signal: openSignal() });
    expect(ai.lastRequest().headers.authorization).toBeUndefined();
  });

  it('orders messages: global prompt, group prompt, tools note, history, user turn', async () => {
    const agent = agentFor({ systemPrompt: 'You are the team bot.' });
    await agent.respond(
      agentRequest({
        text: 'deploy it',
        conversation: { id: 'cidG1', type: 'group', title: 'Ops' },
        systemPrompt: 'Answer in Chinese.',
        tools: { deny: ['exec'] },
        history: exchanges(1),
      }),
      { signal: openSignal() },
    );
    const messages = ai.lastRequest().body.messages ?? [];
    expect(messages.map((m) => m.role)).toEqual([
      'system',
      'system',
      'system',
      'user',
      'assistant',
      'user',
    ]);
    expect(messages[0]?.content).toBe('You are the team bot.');
    expect(messages[1]?.content).toBe('Answer in Chinese.');
    expect(messages[2]?.content).toContain('never use these tools: exec');
    expect(messages.slice(3).map((m) => m.content)).toEqual(['u1', 'a1', 'deploy it']);
  });

  it('sends no system message when there is no prompt and no tools policy', async () => {
    await agentFor().respond(agentRequest({ text: 'hi' }), { signal: openSignal() });
    expect(ai.lastRequest().body.messages).toEqual([{ role: 'user', content: 'hi' }]);
  });

  it('bounds the history by turns and characters, keeping the newest', async () => {
    await agentFor({ maxHistoryTurns: 4 }).respond(agentRequest({ history: exchanges(10) }), {
      signal: openSignal(),
    });
    const byTurns = (ai.lastRequest().body.messages ?? []).map((m) => m.content);
    expect(byTurns).toEqual(['u9', 'a9', 'u10', 'a10', 'hello']);

    await agentFor({ maxHistoryChars: 6 }).respond(agentRequest({ history: exchanges(10) }), {
      signal: openSignal(),
    });
    const byChars = (ai.lastRequest().body.messages ?? []).map((m) => m.content);
    expect(byChars).toEqual(['u10', 'a10', 'hello']);
  });

  it('accepts a base URL with or without /v1, or the full completions URL', async () => {
    for (const baseUrl of [
      ai.url,
      `${ai.url}/`,
      ai.baseUrl,
      `${ai.baseUrl}/`,
      `${ai.baseUrl}/chat/completions`,
    ]) {
      await agentFor({ baseUrl }).respond(agentRequest(), { signal: openSignal() });
      expect(ai.lastRequest().path).toBe('/v1/chat/completions');
    }
    expect(chatCompletionsUrl('https://dashscope.aliyuncs.com/compatible-mode/v1')).toBe(
      'https://dashscope.aliyuncs.com/compatible-mode/v1/chat/completions',
    );
    expect(chatCompletionsUrl('http://localhost:11434')).toBe(
      'http://localhost:11434/v1/chat/completions',
    );
  });

  it('joins a reply given as content parts', async () => {
    ai.respondWith({
      text: [
        { type: 'text', text: 'part one, ' },
        { type: 'text', text: 'part two' },
      ],
    });
    const reply = await agentFor().respond(agentRequest(), { signal: openSignal() });
    expect(reply.text).toBe('part one, part two');
  });
});

describe('openai agent: media', () => {
  it('vision: pictures become image parts with a base64 data URL, after the text part', async () => {
    const media = [
      picture({ data: { base64: 'iVBORw0KGgo=', mimeType: 'image/png' }, url: 'http://x/tmp' }),
    ];
    await agentFor({ vision: true }).respond(agentRequest({ text: 'what is this?', media }), {
      signal: openSignal(),
    });
    const user = ai.lastRequest().body.messages?.at(-1);
    expect(user).toEqual({
      role: 'user',
      content: [
        { type: 'text', text: 'what is this?' },
        { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
      ],
    });
  });

  it('vision: a picture without bytes falls back to its download URL; no text part when empty', async () => {
    await agentFor({ vision: true }).respond(
      agentRequest({ text: '', media: [picture({ url: 'https://files.example/p.jpg' })] }),
      { signal: openSignal() },
    );
    expect(ai.lastRequest().body.messages?.at(-1)?.content).toEqual([
      { type: 'image_url', image_url: { url: 'https://files.example/p.jpg' } },
    ]);
  });

  it('non-vision: pictures and files are described in the text, no image parts', async () => {
    const media: AgentMedia[] = [
      picture({ data: { base64: 'AAAA', mimeType: 'image/jpeg' } }),
      { kind: 'file', downloadCode: 'f1', fileName: 'report.pdf' },
      { kind: 'video', downloadCode: 'v1' },
    ];
    await agentFor().respond(agentRequest({ text: 'see attached', media }), {
      signal: openSignal(),
    });
    const content = ai.lastRequest().body.messages?.at(-1)?.content;
    expect(content).toBe('see attached\n[picture]\n[file: report.pdf]\n[video]');
    expect(ai.lastRequest().rawBody).not.toContain('base64');
  });

  it('audio: the recognition text stands for the voice message', async () => {
    const media: AgentMedia[] = [{ kind: 'audio', downloadCode: 'a1' }];
    await agentFor().respond(agentRequest({ text: '明天开会', media }), { signal: openSignal() });
    expect(ai.lastRequest().body.messages?.at(-1)?.content).toBe('明天开会');
  });
});

describe('openai agent: openclaw protocol (the gateway keeps history)', () => {
  it('sends only the new turn, with the session key in the header and in `user`', async () => {
    const agent = agentFor({
      protocol: 'openclaw',
      model: 'openclaw:main',
      systemPrompt: 'Be brief.',
    });
    expect(agent.keepsHistory).toBe(true);
    expect(agent.name).toBe('openclaw');
    const sessionKey = 'dingtalk:work:group:cidAbC==';
    await agent.respond(
      agentRequest({ sessionKey, text: 'next question', history: exchanges(3) }),
      {
        signal: openSignal(),
      },
    );
    const req = ai.lastRequest();
    expect(req.headers['x-openclaw-session-key']).toBe(sessionKey);
    expect(req.body.user).toBe(sessionKey);
    expect(req.body.model).toBe('openclaw:main');
    expect(req.body.messages).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'next question' },
    ]);
  });
});

describe('openai agent: completions URL with a query string', () => {
  it('keeps the query after the path (built with the URL API)', async () => {
    expect(chatCompletionsUrl('https://llm.example/v1?api-key=k-1')).toBe(
      'https://llm.example/v1/chat/completions?api-key=k-1',
    );
    expect(chatCompletionsUrl('https://llm.example/openai/?api-version=2024-06-01')).toBe(
      'https://llm.example/openai/v1/chat/completions?api-version=2024-06-01',
    );
    await createOpenAiAgent({
      baseUrl: `${ai.baseUrl}?api-key=query-key-42`,
      model: 'm',
      protocol: 'openai',
      vision: false,
      maxHistoryTurns: 0,
      maxHistoryChars: 0,
    }).respond(agentRequest(), { signal: openSignal() });
    expect(ai.lastRequest().path).toBe('/v1/chat/completions?api-key=query-key-42');
  });
});
