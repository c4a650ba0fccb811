/**
 * The agent factory: plain settings (from the config module) → an `Agent`. Settings are checked
 * here with a strict schema, so a typo or a bad URL fails at start naming the key
 * (architecture.md invariant 7), not at the first message.
 */
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { createEchoAgent } from './echo.js';
import { DEFAULT_HISTORY_LIMITS } from './history.js';
import { createHttpAgent } from './http.js';
import { createOpenAiAgent } from './openai.js';
import type { Agent } from './port.js';
import type { FetchFn } from './transport.js';

export { createEchoAgent } from './echo.js';
export {
  appendExchange,
  boundHistory,
  DEFAULT_HISTORY_LIMITS,
  type HistoryLimits,
} from './history.js';
export { createHttpAgent, type HttpAgentOptions } from './http.js';
export { chatCompletionsUrl, createOpenAiAgent, type OpenAiAgentOptions } from './openai.js';
export * from './port.js';

/** Default upper bound for one remote agent call; the function's deadline usually ends it first. */
export const DEFAULT_AGENT_TIMEOUT_MS = 120_000;

const httpUrl = z
  .string()
  .trim()
  .refine((value) => /^https?:$/.test(safeProtocol(value)), 'must be an http(s) URL');

const historyFields = {
  maxHistoryTurns: z.number().int().min(0).default(DEFAULT_HISTORY_LIMITS.maxTurns),
  maxHistoryChars: z.number().int().min(0).default(DEFAULT_HISTORY_LIMITS.maxChars),
};
const timeoutMs = z.number().int().positive().default(DEFAULT_AGENT_TIMEOUT_MS);

/** The settings `createAgent` accepts (unknown keys are errors). */
export const agentSettingsSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('echo') }),
  z.strictObject({
    kind: z.literal('openai'),
    baseUrl: httpUrl,
    apiKey: z.string().min(1).optional(),
    model: z.string().trim().min(1, 'must name a model'),
    systemPrompt: z.string().optional(),
    protocol: z.enum(['openai', 'openclaw']).default('openai'),
    vision: z.boolean().default(false),
    ...historyFields,
    timeoutMs,
  }),
  z.strictObject({
    kind: z.literal('http'),
    url: httpUrl,
    token: z.string().min(1).optional(),
    keepsHistory: z.boolean().default(false),
    model: z.string().optional(),
    ...historyFields,
    timeoutMs,
  }),
]);

export type AgentSettings = z.input<typeof agentSettingsSchema>;

function safeProtocol(value: string): string {
  try {
    return new URL(value).protocol;
  } catch {
    return '';
  }
}

/**
 * Creates the configured agent. Throws `ConfigError` naming the key (`agent.baseUrl …`).
 * `deps.fetch` replaces the global fetch (tests, proxies).
 */
export function createAgent(settings: AgentSettings, deps: { fetch?: FetchFn } = {}): Agent {
  const parsed = agentSettingsSchema.safeParse(settings);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const key = ['agent', ...issue.path.map(String)].join('.');
        return `${key}: ${issue.message}`;
      }),
    );
  }
  const s = parsed.data;
  switch (s.kind) {
    case 'echo':
      return createEchoAgent();
    case 'openai':
      return createOpenAiAgent({ ...s, fetch: deps.fetch });
    case 'http':
      return createHttpAgent({
        url: s.url,
        token: s.token,
        keepsHistory: s.keepsHistory,
        model: s.model,
        history: { maxTurns: s.maxHistoryTurns, maxChars: s.maxHistoryChars },
        timeoutMs: s.timeoutMs,
        fetch: deps.fetch,
      });
  }
}
