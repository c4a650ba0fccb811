/**
 * What the message pipeline needs from the world (ports only: configuration, the state store,
 * the agent, one DingTalkApi per account, a clock and the timing knobs). Built by the wiring in
 * lib/runtime/, which is the only place that picks adapters.
 */
import type { Agent } from '../agent/port.js';
import type { AccountConfig, LoadedConfig } from '../config/index.js';
import type { DingTalkApi } from '../dingtalk/api.js';
import type { Logger } from '../log.js';
import type { StateStore } from '../state/port.js';

export interface PipelineRuntime {
  config: LoadedConfig;
  store: StateStore;
  agent: Agent;
  apiFor(account: AccountConfig): DingTalkApi;
  now(): number;
  logger: Logger;
  /** Longest a message waits for its busy session before it is handled anyway. */
  sessionMaxWaitMs: number;
  /** Time kept back from the agent call for sending the reply. */
  replyReserveMs: number;
  /** Life of a dedup claim or session lease between renewals (renewed every third of it). */
  leaseMs: number;
}
