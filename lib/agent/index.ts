/**
 * The agent factory: the parsed `agent` configuration section → an `Agent`. The section's schema
 * is the configuration's own (lib/config/settings.ts `AgentSection`): one set of keys and
 * defaults for production and tests, every key reachable from the config (README table). Bad
 * input fails at start naming the key (architecture.md invariant 7), not at the first message.
 */
import { type AgentConfig, type AgentConfigInput, AgentSection } from '../config/settings.js';
import { ConfigError } from '../errors.js';
import { createEchoAgent } from './echo.js';
import { createHttpAgent } from './http.js';
import { createOpenAiAgent } from './openai.js';
import type { Agent } from './port.js';
import type { FetchFn } from './transport.js';

export { createEchoAgent } from './echo.js';
export { appendExchange, boundHistory, type HistoryLimits } from './history.js';
export { createHttpAgent, type HttpAgentOptions } from './http.js';
export { chatCompletionsUrl, createOpenAiAgent, type OpenAiAgentOptions } from './openai.js';
export * from './port.js';

/** What `createAgent` accepts: the `agent` section, parsed or as written. */
export type AgentSettings = AgentConfigInput;

const KEY_ROOT = 'dingtalkChannel.agent';

/** Keys a kind cannot run without (the config loader reports the same: lib/config/rules.ts). */
export function missingAgentKeys(agent: AgentConfig): string[] {
  if (agent.kind === 'openai') {
    return (['baseUrl', 'model'] as const).filter((key) => !agent[key]?.trim());
  }
  if (agent.kind === 'http' && !agent.httpUrl) return ['httpUrl'];
  return [];
}

/**
 * Creates the configured agent. Throws `ConfigError` naming the key
 * (`dingtalkChannel.agent.baseUrl: …`). `deps.fetch` replaces the global fetch (tests, proxies).
 */
export function createAgent(section: AgentSettings, deps: { fetch?: FetchFn } = {}): Agent {
  const parsed = AgentSection.safeParse(section);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const key = [KEY_ROOT, ...issue.path.map(String)].join('.');
        const keys =
          'keys' in issue && Array.isArray(issue.keys) ? ` (${issue.keys.join(', ')})` : '';
        return `${key}: ${issue.message}${keys}`;
      }),
    );
  }
  const s = parsed.data;
  const missing = missingAgentKeys(s);
  if (missing.length > 0) {
    throw new ConfigError(
      missing.map((key) => `${KEY_ROOT}.${key}: is required when agent.kind is "${s.kind}"`),
    );
  }
  const history = { maxTurns: s.maxHistoryTurns, maxChars: s.maxHistoryChars };
  switch (s.kind) {
    case 'echo':
      return createEchoAgent();
    case 'openai':
      return createOpenAiAgent({
        baseUrl: s.baseUrl!,
        model: s.model!,
        protocol: s.protocol,
        vision: s.vision,
        maxHistoryTurns: history.maxTurns,
        maxHistoryChars: history.maxChars,
        timeoutMs: s.timeoutMs,
        ...(s.apiKey ? { apiKey: s.apiKey } : {}),
        ...(s.systemPrompt ? { systemPrompt: s.systemPrompt } : {}),
        ...(deps.fetch ? { fetch: deps.fetch } : {}),
      });
    case 'http':
      return createHttpAgent({
        url: s.httpUrl!,
        keepsHistory: s.httpKeepsHistory,
        history,
        timeoutMs: s.timeoutMs,
        ...(s.httpToken ? { token: s.httpToken } : {}),
        ...(s.model ? { model: s.model } : {}),
        ...(deps.fetch ? { fetch: deps.fetch } : {}),
      });
  }
}
