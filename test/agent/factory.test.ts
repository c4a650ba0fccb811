import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AgentSettings, createAgent } from '../../lib/agent/index.js';
import { loadConfig } from '../../lib/config/index.js';
import { ConfigError } from '../../lib/errors.js';
import { type FakeOpenAi, startFakeOpenAi } from '../support/fake-openai.js';
import { agentRequest, exchanges, openSignal } from './fixtures.js';

function configIssues(settings: unknown): string[] {
  try {
    createAgent(settings as AgentSettings);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return [...(err as ConfigError).issues];
  }
  throw new Error('expected a ConfigError');
}

describe('createAgent', () => {
  let ai: FakeOpenAi;
  beforeEach(async () => {
    ai = await startFakeOpenAi({ respond: { text: 'ok' } });
  });
  afterEach(async () => {
    await ai.close();
  });

  it('creates the echo agent', async () => {
    const agent = createAgent({ kind: 'echo' });
    expect(agent.name).toBe('echo');
    expect((await agent.respond(agentRequest(), { signal: openSignal() })).text).toContain(
      'Echo agent',
    );
  });

  it('creates an openai agent with defaults (protocol openai, no vision, bounded history)', async () => {
    const agent = createAgent({ kind: 'openai', baseUrl: ai.baseUrl, model: 'qwen-plus' });
    expect(agent).toMatchObject({ name: 'openai', keepsHistory: false, model: 'qwen-plus' });
    await agent.respond(agentRequest({ history: exchanges(30) }), { signal: openSignal() });
    // 20 turns of history by default, plus the user turn.
    expect(ai.lastRequest().body.messages).toHaveLength(21);
  });

  it('creates an openclaw agent that keeps history', () => {
    const agent = createAgent({
      kind: 'openai',
      baseUrl: ai.url,
      model: 'openclaw:main',
      protocol: 'openclaw',
    });
    expect(agent).toMatchObject({ name: 'openclaw', keepsHistory: true });
  });

  it('creates an http agent, keepsHistory configurable', () => {
    expect(createAgent({ kind: 'http', httpUrl: 'https://agent.example/hook' }).keepsHistory).toBe(
      false,
    );
    expect(
      createAgent({ kind: 'http', httpUrl: 'https://agent.example/hook', httpKeepsHistory: true })
        .keepsHistory,
    ).toBe(true);
  });

  it('reaches the http agent keepsHistory from the configuration (AGENT_HTTP_KEEPS_HISTORY)', () => {
    const config = loadConfig({
      AGENT: 'http',
      AGENT_HTTP_URL: 'https://agent.example/hook',
      AGENT_HTTP_KEEPS_HISTORY: 'true',
    });
    expect(createAgent(config.settings.agent).keepsHistory).toBe(true);
  });

  it('takes its defaults from the config schema: tests run with production defaults', async () => {
    // A history longer than the config default (24,000 chars) but under it per turn: the
    // config default, not another one, decides how much is sent.
    const config = loadConfig({ AGENT: 'openai', AGENT_BASE_URL: ai.baseUrl, AGENT_MODEL: 'm' });
    expect(config.settings.agent).toMatchObject({ timeoutMs: 60000, maxHistoryChars: 24000 });
    const turns = Array.from({ length: 10 }, (_, i) => ({
      role: (i % 2 === 0 ? 'user' : 'assistant') as 'user' | 'assistant',
      content: `${i}`.repeat(2000),
    }));
    const fromFactory = createAgent({ kind: 'openai', baseUrl: ai.baseUrl, model: 'm' });
    await fromFactory.respond(agentRequest({ history: turns }), { signal: openSignal() });
    const sentByFactory = (ai.lastRequest().body.messages ?? []).length;
    await createAgent(config.settings.agent).respond(agentRequest({ history: turns }), {
      signal: openSignal(),
    });
    expect((ai.lastRequest().body.messages ?? []).length).toBe(sentByFactory);
    // 10 turns × 2,000 chars = 20,000 ≤ 24,000: all ten are sent, plus the user turn.
    expect(sentByFactory).toBe(11);
  });

  it('names the key of every bad setting', () => {
    expect(configIssues({ kind: 'openai', baseUrl: 'not a url', model: 'm' })).toEqual([
      expect.stringMatching(/^dingtalkChannel\.agent\.baseUrl:/),
    ]);
    expect(configIssues({ kind: 'openai', baseUrl: 'http://x', model: ' ' })[0]).toMatch(
      /^dingtalkChannel\.agent\.model:/,
    );
    expect(configIssues({ kind: 'openai', baseUrl: 'http://x' })[0]).toMatch(
      /^dingtalkChannel\.agent\.model: is required/,
    );
    expect(configIssues({ kind: 'http', httpUrl: 'ftp://x' })[0]).toMatch(
      /^dingtalkChannel\.agent\.httpUrl:/,
    );
    expect(configIssues({ kind: 'http' })[0]).toMatch(
      /^dingtalkChannel\.agent\.httpUrl: is required/,
    );
    expect(
      configIssues({ kind: 'openai', baseUrl: 'http://x', model: 'm', maxHistoryTurns: -1 })[0],
    ).toMatch(/^dingtalkChannel\.agent\.maxHistoryTurns:/);
    expect(configIssues({ kind: 'echo', modle: 'typo' }).join()).toContain('modle');
    expect(configIssues({ kind: 'claude' })[0]).toMatch(/^dingtalkChannel\.agent\.kind:/);
  });
});
