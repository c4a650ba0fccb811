/**
 * A whole channel for integration tests: the simulator (a faithful fake DingTalk), dynalite (or
 * the memory store), the real configuration loader and the real message pipeline. Events are
 * built from what the simulator actually pushed, so tests exercise the real payloads.
 */
import { type Agent, createEchoAgent } from '../../lib/agent/index.js';
import { loadConfig } from '../../lib/config/index.js';
import { clearTokenCache } from '../../lib/dingtalk/api.js';
import type { HandleOutcome, MessageEvent } from '../../lib/forward/port.js';
import { type Logger, memoryLogger } from '../../lib/log.js';
import { createMessageHandler } from '../../lib/pipeline/index.js';
import {
  createRuntime,
  type PipelineRuntime,
  type RuntimeOverrides,
} from '../../lib/runtime/index.js';
import {
  type InjectMessageInput,
  type RawInjectInput,
  type Simulator,
  type SimulatorOptions,
  startSimulator,
} from '../../lib/simulator/index.js';
import { MemoryStateStore } from '../../lib/state/memory.js';
import type { StateStore } from '../../lib/state/port.js';
import { startTestDynalite } from './dynalite.js';
import { pushedEvent } from './pushed-event.js';

export const TEST_APP = {
  clientId: 'dingpipelineapp',
  clientSecret: 'pipeline-secret-1',
  accountId: 'default',
};

export interface TestChannel {
  sim: Simulator;
  rt: PipelineRuntime;
  store: StateStore;
  logger: Logger & { lines: Record<string, unknown>[] };
  /** The dynalite endpoint and table (store 'dynalite'), for child processes such as the CLI. */
  dynamo?: { endpoint: string; tableName: string };
  /** Injects a message and returns the event the relay would forward for it. */
  inject(input: InjectMessageInput | RawInjectInput): {
    event: MessageEvent;
    msgId: string;
    conversationId: string;
  };
  /** Runs the real handler on an event with a deadline `ms` from now. */
  handle(event: MessageEvent, ms?: number): Promise<HandleOutcome>;
  close(): Promise<void>;
}

export interface TestChannelOptions {
  /** `channels.dingtalk` JSON5 (DINGTALK_CONFIG); credentials are added. */
  channel?: Record<string, unknown>;
  env?: Record<string, string>;
  store?: 'memory' | 'dynalite';
  agent?: Agent;
  sim?: SimulatorOptions;
  runtime?: RuntimeOverrides;
}

export async function startTestChannel(options: TestChannelOptions = {}): Promise<TestChannel> {
  clearTokenCache();
  const sim = await startSimulator({ apps: [TEST_APP], ...options.sim });
  const dynalite = options.store === 'dynalite' ? await startTestDynalite() : undefined;
  const store = dynalite ? dynalite.store : new MemoryStateStore();
  const config = loadConfig({
    DINGTALK_CONFIG: JSON.stringify({
      dm: { policy: 'open', allowFrom: ['*'] },
      groupPolicy: 'open',
      ...options.channel,
      clientId: TEST_APP.clientId,
      clientSecret: TEST_APP.clientSecret,
    }),
    DINGTALK_API_BASE: sim.apiBase,
    DINGTALK_OAPI_BASE: sim.oapiBase,
    DINGTALK_GATEWAY_URL: sim.gatewayUrl,
    STATE_BACKEND: 'memory',
    ...options.env,
  });
  const logger = memoryLogger();
  const rt = await createRuntime(config, {
    store,
    logger,
    agent: options.agent ?? createEchoAgent(),
    sessionMaxWaitMs: 5_000,
    ...options.runtime,
  });
  const handler = createMessageHandler(rt);
  return {
    sim,
    rt,
    store,
    logger,
    ...(dynalite ? { dynamo: { endpoint: dynalite.endpoint, tableName: dynalite.tableName } } : {}),
    inject(input) {
      const injected = sim.injectMessage(input);
      // A raw injection is forwarded as the exact text the simulator pushed.
      const raw = 'raw' in input && typeof input.raw === 'string' ? input.raw : undefined;
      return {
        msgId: injected.msgId,
        conversationId: injected.conversationId,
        event: pushedEvent(sim, injected.messageId, raw === undefined ? {} : { data: raw }),
      };
    },
    handle: (event, ms = 30_000) => handler(event, { deadline: Date.now() + ms }),
    async close() {
      await sim.close();
      await (dynalite ? dynalite.close() : store.close());
    },
  };
}
