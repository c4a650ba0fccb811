/**
 * The wiring: builds what the message pipeline needs (`PipelineRuntime`, lib/pipeline/runtime.ts)
 * from configuration, once per process (a warm function reuses it): the state store, the agent,
 * one DingTalkApi per account and a clock. Lives outside lib/pipeline/, which imports only ports
 * (architecture.md "Layout"). Configuration errors surface here, at start, naming the key
 * (architecture invariant 7).
 */
import { type Agent, type AgentSettings, createAgent } from '../agent/index.js';
import type { AppSettings, LoadedConfig } from '../config/index.js';
import { type ApiCall, DingTalkApi } from '../dingtalk/api.js';
import { ConfigError } from '../errors.js';
import { createLogger, type Logger } from '../log.js';
import type { PipelineRuntime } from '../pipeline/runtime.js';
import { createStateStore } from '../state/index.js';
import { stateStoreOptions } from '../state/options.js';
import type { StateStore } from '../state/port.js';

export type { PipelineRuntime } from '../pipeline/runtime.js';

export interface RuntimeOverrides {
  store?: StateStore;
  agent?: Agent;
  logger?: Logger;
  now?: () => number;
  fetch?: typeof fetch;
  onApiCall?: (call: ApiCall) => void;
  /** Bound of one session-webhook post (tests shorten it to produce a "no answer"). */
  webhookTimeoutMs?: number;
  /** Wraps the agent (the functions' metrics time its calls). */
  wrapAgent?: (agent: Agent) => Agent;
  sessionMaxWaitMs?: number;
  replyReserveMs?: number;
  leaseMs?: number;
}

/** Builds the runtime from loaded configuration; parts can be replaced (tests, local mode). */
export async function createRuntime(
  config: LoadedConfig,
  overrides: RuntimeOverrides = {},
): Promise<PipelineRuntime> {
  const logger = overrides.logger ?? createLogger({ level: config.settings.log.level });
  const built =
    overrides.agent ?? createAgent(agentSettings(config.settings), { fetch: overrides.fetch });
  const agent = overrides.wrapAgent ? overrides.wrapAgent(built) : built;
  const store =
    overrides.store ?? (await createStateStore(stateStoreOptions(config.settings), { logger }));
  const apis = new Map<string, DingTalkApi>();
  return {
    config,
    store,
    agent,
    logger,
    now: overrides.now ?? Date.now,
    sessionMaxWaitMs: overrides.sessionMaxWaitMs ?? 60_000,
    replyReserveMs: overrides.replyReserveMs ?? 5_000,
    leaseMs: overrides.leaseMs ?? 20_000,
    apiFor(account) {
      let api = apis.get(account.accountId);
      if (!api) {
        api = new DingTalkApi({
          clientId: account.clientId,
          clientSecret: account.clientSecret,
          robotCode: account.robotCode,
          apiBase: config.settings.dingtalk.apiBase,
          ...(overrides.fetch ? { fetch: overrides.fetch } : {}),
          ...(overrides.onApiCall ? { onCall: overrides.onApiCall } : {}),
          ...(overrides.webhookTimeoutMs ? { webhookTimeoutMs: overrides.webhookTimeoutMs } : {}),
        });
        apis.set(account.accountId, api);
      }
      return api;
    },
  };
}

/** Maps the `AGENT_*` settings onto the agent factory's options. */
export function agentSettings(settings: AppSettings): AgentSettings {
  const a = settings.agent;
  const history = {
    maxHistoryTurns: a.maxHistoryTurns,
    maxHistoryChars: a.maxHistoryChars,
    timeoutMs: a.timeoutMs,
  };
  switch (a.kind) {
    case 'echo':
      return { kind: 'echo' };
    case 'openai':
      if (!a.baseUrl || !a.model) {
        throw new ConfigError([
          `${a.baseUrl ? 'AGENT_MODEL' : 'AGENT_BASE_URL'} must be set when AGENT=openai`,
        ]);
      }
      return {
        kind: 'openai',
        baseUrl: a.baseUrl,
        model: a.model,
        protocol: a.protocol,
        vision: a.vision,
        ...(a.apiKey ? { apiKey: a.apiKey } : {}),
        ...(a.systemPrompt ? { systemPrompt: a.systemPrompt } : {}),
        ...history,
      };
    case 'http':
      if (!a.httpUrl) throw new ConfigError(['AGENT_HTTP_URL must be set when AGENT=http']);
      return {
        kind: 'http',
        url: a.httpUrl,
        ...(a.httpToken ? { token: a.httpToken } : {}),
        ...(a.model ? { model: a.model } : {}),
        ...history,
      };
  }
}
