/**
 * Agent failures (channel-semantics §7): each failure mode maps to one AgentError code, no
 * message carries a secret (architecture invariant 6), and the user sees one short sentence.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHttpAgent } from '../../lib/agent/http.js';
import { createOpenAiAgent } from '../../lib/agent/openai.js';
import { type Agent, AgentError, userFacingAgentError } from '../../lib/agent/port.js';
import { memoryLogger } from '../../lib/log.js';
import { startFakeAgentHttp } from '../support/fake-agent-http.js';
import { refusedUrl } from '../support/fake-json-server.js';
import { type FakeOpenAiAnswer, startFakeOpenAi } from '../support/fake-openai.js';
import { agentRequest, openSignal } from './fixtures.js';

const API_KEY = 'sk-proj-SUPERSECRET-abcdef123456';
const TOKEN = 'webhook-token-SUPERSECRET-987';

function openAiAgent(baseUrl: string, timeoutMs?: number): Agent {
  return createOpenAiAgent({
    baseUrl,
    apiKey: API_KEY,
    model: 'gpt-test',
    protocol: 'openai',
    vision: false,
    maxHistoryTurns: 10,
    maxHistoryChars: 1000,
    timeoutMs,
  });
}

function httpAgent(url: string, timeoutMs?: number): Agent {
  return createHttpAgent({
    url,
    token: TOKEN,
    keepsHistory: false,
    history: { maxTurns: 10, maxChars: 1000 },
    timeoutMs,
  });
}

/** Runs the call, expects an AgentError, and checks no secret leaked into it or its log line. */
async function failure(agent: Agent, signal: AbortSignal = openSignal()): Promise<AgentError> {
  const err = await agent.respond(agentRequest(), { signal }).then(
    () => {
      throw new Error('expected the agent call to fail');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AgentError);
  const agentError = err as AgentError;
  const log = memoryLogger();
  log.error('agent.failed', { err: agentError, code: agentError.code });
  for (const text of [agentError.message, String(agentError.stack), JSON.stringify(log.lines)]) {
    expect(text).not.toContain('SUPERSECRET');
  }
  expect(agentError.retryable).toBe(false);
  return agentError;
}

describe('openai agent failures', () => {
  let ai: Awaited<ReturnType<typeof startFakeOpenAi>>;
  beforeEach(async () => {
    ai = await startFakeOpenAi();
  });
  afterEach(async () => {
    await ai.close();
  });

  it('an aborted signal (the deadline) gives agent_timeout', async () => {
    ai.respondWith({ text: 'too late', delayMs: 10_000 });
    const err = await failure(openAiAgent(ai.baseUrl), AbortSignal.timeout(50));
    expect(err.code).toBe('agent_timeout');
    expect(userFacingAgentError(err)).toBe(
      'Sorry, the agent did not answer in time. Please try again.',
    );
  });

  it("the adapter's own timeout gives agent_timeout too", async () => {
    ai.respondWith({ text: 'too late', delayMs: 10_000 });
    const err = await failure(openAiAgent(ai.baseUrl, 50));
    expect(err.code).toBe('agent_timeout');
  });

  it('HTTP 500 gives agent_http with the status; an echoed key is masked', async () => {
    ai.respondWith({ status: 500, body: { error: { message: `upstream rejected ${API_KEY}` } } });
    const err = await failure(openAiAgent(ai.baseUrl));
    expect(err.code).toBe('agent_http');
    expect(err.status).toBe(500);
    expect(err.message).toContain('HTTP 500');
    expect(err.message).toContain('upstream rejected');
  });

  it('HTTP 401 carries no body excerpt at all (it may quote part of the key)', async () => {
    const partial: FakeOpenAiAnswer = {
      status: 401,
      body: { error: { message: 'Incorrect API key provided: sk-proj-***************3456' } },
    };
    ai.respondWith(partial);
    const err = await failure(openAiAgent(ai.baseUrl));
    expect(err).toMatchObject({ code: 'agent_http', status: 401 });
    expect(err.message).not.toContain('3456');
    expect(err.message).not.toContain('Incorrect');
  });

  it('a body that is not JSON gives agent_bad_response', async () => {
    ai.respondWith({ malformed: '<html>Bad Gateway</html>' });
    const err = await failure(openAiAgent(ai.baseUrl));
    expect(err.code).toBe('agent_bad_response');
    expect(userFacingAgentError(err)).toBe('Sorry, the agent failed to answer. Please try again.');
  });

  it('JSON without choices gives agent_bad_response', async () => {
    ai.respondWith({ json: { id: 'x', object: 'chat.completion' } });
    expect((await failure(openAiAgent(ai.baseUrl))).code).toBe('agent_bad_response');
    ai.respondWith({ json: { choices: [{ message: { role: 'assistant', content: null } }] } });
    expect((await failure(openAiAgent(ai.baseUrl))).code).toBe('agent_bad_response');
  });

  it('connection refused gives agent_network naming the endpoint, not the key', async () => {
    const err = await failure(openAiAgent(`${await refusedUrl()}/v1`));
    expect(err.code).toBe('agent_network');
    expect(err.message).toContain('ECONNREFUSED');
    expect(err.message).toContain('/v1/chat/completions');
  });
});

describe('http agent failures', () => {
  let hook: Awaited<ReturnType<typeof startFakeAgentHttp>>;
  beforeEach(async () => {
    hook = await startFakeAgentHttp();
  });
  afterEach(async () => {
    await hook.close();
  });

  it('maps deadline, HTTP error, malformed body, wrong shape and refusal to their codes', async () => {
    hook.respondWith({ text: 'late', delayMs: 10_000 });
    expect((await failure(httpAgent(hook.url), AbortSignal.timeout(50))).code).toBe(
      'agent_timeout',
    );

    hook.respondWith({ status: 502, body: `bad gateway, token was ${TOKEN}` });
    expect(await failure(httpAgent(hook.url))).toMatchObject({ code: 'agent_http', status: 502 });

    hook.respondWith({ malformed: 'not json' });
    expect((await failure(httpAgent(hook.url))).code).toBe('agent_bad_response');

    hook.respondWith({ json: { reply: 'wrong field' } });
    expect((await failure(httpAgent(hook.url))).code).toBe('agent_bad_response');

    const refused = `${await refusedUrl()}/agent?token=${TOKEN}`;
    expect((await failure(httpAgent(refused))).code).toBe('agent_network');
  });
});

describe('userFacingAgentError', () => {
  it('is one short sentence without details, whatever the error', () => {
    const messages = [
      new AgentError('agent_http', `HTTP 500 with ${API_KEY}`),
      new Error(`stack ${API_KEY}`),
      'a string',
      undefined,
    ].map(userFacingAgentError);
    for (const message of messages) {
      expect(message).toBe('Sorry, the agent failed to answer. Please try again.');
    }
    expect(userFacingAgentError(new DOMException('aborted', 'AbortError'))).toBe(
      'Sorry, the agent did not answer in time. Please try again.',
    );
  });
});
