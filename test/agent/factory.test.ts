import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AgentSettings, createAgent } from '../../lib/agent/index.js';
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
    expect(createAgent({ kind: 'http', url: 'https://agent.example/hook' }).keepsHistory).toBe(
      false,
    );
    expect(
      createAgent({ kind: 'http', url: 'https://agent.example/hook', keepsHistory: true })
        .keepsHistory,
    ).toBe(true);
  });

  it('names the key of every bad setting', () => {
    expect(configIssues({ kind: 'openai', baseUrl: 'not a url', model: 'm' })).toEqual([
      expect.stringMatching(/^agent\.baseUrl: must be an http\(s\) URL/),
    ]);
    expect(configIssues({ kind: 'openai', baseUrl: 'http://x', model: ' ' })[0]).toMatch(
      /^agent\.model:/,
    );
    expect(configIssues({ kind: 'http', url: 'ftp://x' })[0]).toMatch(/^agent\.url:/);
    expect(
      configIssues({ kind: 'openai', baseUrl: 'http://x', model: 'm', maxHistoryTurns: -1 })[0],
    ).toMatch(/^agent\.maxHistoryTurns:/);
    expect(configIssues({ kind: 'echo', modle: 'typo' }).join()).toContain('modle');
    expect(configIssues({ kind: 'claude' })[0]).toMatch(/^agent\.kind:/);
  });
});
