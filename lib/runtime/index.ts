/**
 * The wiring: builds what the message pipeline needs (`PipelineRuntime`, lib/pipeline/runtime.ts)
 * from configuration, once per process (a warm function reuses it): the state store, the agent,
 * one DingTalkApi per account and a clock. Lives outside lib/pipeline/, which imports only ports
 * (architecture.md "Layout"). Configuration errors surface here, at start, naming the key
 * (architecture invariant 7).
 */
import { type Agent, createAgent } from '../agent/index.js';
import type { AccountConfig, LoadedConfig } from '../config/index.js';
import { type ApiCall, DingTalkApi, type DingTalkApiOptions } from '../dingtalk/api.js';
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
  // The agent takes its parsed section (the config schema holds the only defaults); the store
  // its options mapped from the parsed state section (lib/state/options.ts).
  const built =
    overrides.agent ??
    createAgent(config.settings.agent, overrides.fetch ? { fetch: overrides.fetch } : {});
  const agent = overrides.wrapAgent ? overrides.wrapAgent(built) : built;
  const store =
    overrides.store ?? (await createStateStore(stateStoreOptions(config.settings), { logger }));
  return {
    config,
    store,
    agent,
    logger,
    now: overrides.now ?? Date.now,
    sessionMaxWaitMs: overrides.sessionMaxWaitMs ?? 60_000,
    replyReserveMs: overrides.replyReserveMs ?? 5_000,
    leaseMs: overrides.leaseMs ?? 20_000,
    apiFor: apiCache(config, {
      ...(overrides.fetch ? { fetch: overrides.fetch } : {}),
      ...(overrides.onApiCall ? { onCall: overrides.onApiCall } : {}),
      ...(overrides.webhookTimeoutMs ? { webhookTimeoutMs: overrides.webhookTimeoutMs } : {}),
    }),
  };
}

/** One DingTalkApi per account (its token cache lives there), built on first use. */
export function apiCache(
  config: LoadedConfig,
  extra: Pick<DingTalkApiOptions, 'fetch' | 'onCall' | 'webhookTimeoutMs'> = {},
): (account: AccountConfig) => DingTalkApi {
  const apis = new Map<string, DingTalkApi>();
  return (account) => {
    let api = apis.get(account.accountId);
    if (!api) {
      api = new DingTalkApi({
        clientId: account.clientId,
        clientSecret: account.clientSecret,
        robotCode: account.robotCode,
        apiBase: config.settings.dingtalk.apiBase,
        oapiBase: config.settings.dingtalk.oapiBase,
        ...extra,
      });
      apis.set(account.accountId, api);
    }
    return api;
  };
}
