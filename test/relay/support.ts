/**
 * Shared parts of the relay tests: the simulator app, a scripted Forwarder (the port is the
 * documented test seam of the relay), a gated agent, a relay config pointing at a simulator,
 * and a cleanup stack. Everything runs against real parts: the simulator, dynalite, the real
 * stream client, pipeline and health server.
 */
import type { Agent } from '../../lib/agent/index.js';
import { type LoadedConfig, loadConfig } from '../../lib/config/index.js';
import type { Forwarder, HandoffResult, MessageEvent } from '../../lib/forward/port.js';
import { memoryLogger } from '../../lib/log.js';
import { Relay, type RelayOptions } from '../../lib/relay/relay.js';
import type { InboundRecord, Simulator } from '../../lib/simulator/index.js';

export const APP = {
  clientId: 'dingrelayapp',
  clientSecret: 'relay-secret-1',
  accountId: 'default',
};
export const APP2 = {
  clientId: 'dingrelayother',
  clientSecret: 'relay-secret-2',
  accountId: 'other',
};

/** Short stream-client timings so reconnects happen within a test. */
export const FAST_STREAM = { backoffBaseMs: 20, backoffMaxMs: 100, retireGraceMs: 200 };

/** A cleanup stack; register with `cleanups.push(fn)`, run in afterEach with `runCleanups`. */
export const cleanups: (() => unknown)[] = [];
export async function runCleanups(): Promise<void> {
  while (cleanups.length) await cleanups.pop()?.();
}

/** Polls a condition that lives outside the simulator (relay status, agent calls). */
export async function until<T>(
  probe: () => T | undefined | false,
  what: string,
  timeoutMs = 10_000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A promise with its resolver. */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

export interface ForwardCall {
  seq: number;
  messageId: string;
  data: string;
  /** Whether the simulator had already recorded an ACK of this message when the call began. */
  ackedBefore: boolean;
  result?: HandoffResult;
  /** Date.now() when the call returned its result (same clock as the simulator's `ackedAt`). */
  returnedAt?: number;
}

/**
 * A Forwarder whose answer the test scripts per call (`attempt` counts calls per messageId).
 * It records every call, whether the message was already acked then, and its concurrency.
 */
export class ScriptedForwarder implements Forwarder {
  readonly kind = 'scripted';
  readonly calls: ForwardCall[] = [];
  active = 0;
  maxActive = 0;
  private readonly attempts = new Map<string, number>();

  constructor(
    private readonly sim: Simulator,
    private readonly decide: (
      event: MessageEvent,
      attempt: number,
    ) => HandoffResult | Promise<HandoffResult> = () => ({ accepted: true }),
  ) {}

  async forward(event: MessageEvent): Promise<HandoffResult> {
    const attempt = (this.attempts.get(event.messageId) ?? 0) + 1;
    this.attempts.set(event.messageId, attempt);
    const call: ForwardCall = {
      seq: this.calls.length + 1,
      messageId: event.messageId,
      data: event.data,
      ackedBefore: this.sim.acks().some((a) => a.messageId === event.messageId),
    };
    this.calls.push(call);
    this.active += 1;
    this.maxActive = Math.max(this.maxActive, this.active);
    try {
      call.result = await this.decide(event, attempt);
      return call.result;
    } finally {
      this.active -= 1;
      call.returnedAt = Date.now();
    }
  }

  callsFor(messageId: string): ForwardCall[] {
    return this.calls.filter((c) => c.messageId === messageId);
  }
}

/** A relay on the simulator's gateway with the given forwarder; stopped after the test. */
export function relayOn(
  sim: Simulator,
  forwarder: Forwarder,
  options: Partial<RelayOptions> = {},
): { relay: Relay; logger: ReturnType<typeof memoryLogger> } {
  const logger = memoryLogger();
  const relay = new Relay({
    accounts: [APP],
    forwarder,
    gatewayUrl: sim.gatewayUrl,
    logger,
    stream: FAST_STREAM,
    ...options,
  });
  cleanups.push(() => relay.stop(0));
  return { relay, logger };
}

/** The relay counters of one account. */
export function countersOf(relay: Relay, accountId = APP.accountId) {
  const account = relay.status().accounts.find((a) => a.accountId === accountId);
  if (!account) throw new Error(`no account ${accountId} in the relay status`);
  return account.relay;
}

/** The configuration `runRelay` loads for a relay on this simulator (memory store by default). */
export function relayConfig(sim: Simulator, env: Record<string, string> = {}): LoadedConfig {
  return loadConfig(relayEnv(sim, env), { requireCredentials: true });
}

/** Environment variables of an in-process relay on this simulator (also used for child processes). */
export function relayEnv(sim: Simulator, env: Record<string, string> = {}): Record<string, string> {
  return {
    DINGTALK_CLIENT_ID: APP.clientId,
    DINGTALK_CLIENT_SECRET: APP.clientSecret,
    DINGTALK_GATEWAY_URL: sim.gatewayUrl,
    DINGTALK_API_BASE: sim.apiBase,
    DINGTALK_OAPI_BASE: sim.oapiBase,
    DINGTALK_DM_POLICY: 'open',
    DINGTALK_DM_ALLOW_FROM: '*',
    RELAY_TARGET: 'inprocess',
    STATE_BACKEND: 'memory',
    PORT: '0',
    LOG_LEVEL: 'warn',
    ...env,
  };
}

/** An agent that answers `reply to <text>` once the test opens its gate (or at once without one). */
export function gatedAgent(): Agent & { calls: string[]; release(): void } {
  const current = gate();
  const calls: string[] = [];
  return {
    name: 'gated',
    keepsHistory: false,
    mediaAccess: 'none',
    calls,
    release: () => current.open(),
    async respond(request) {
      calls.push(request.text);
      await current.promise;
      return { text: `reply to ${request.text}` };
    },
  };
}

/** `count` DMs from distinct senders (so their sessions run in parallel), texts `m<i>.`. */
export function injectBurst(sim: Simulator, count: number, from = 0): string[] {
  const ids: string[] = [];
  for (let i = from; i < from + count; i += 1) {
    const injected = sim.injectMessage({
      conversationType: '1',
      sender: { staffId: `user${i}` },
      text: `m${i}.`,
    });
    ids.push(injected.messageId);
  }
  return ids;
}

/** How many outbox entries answer the message with text `m<i>.` (one per message expected). */
export function repliesPerMessage(sim: Simulator, count: number): number[] {
  const texts = sim.outbox().map((e) => e.text);
  return Array.from({ length: count }, (_, i) => texts.filter((t) => t.includes(`m${i}.`)).length);
}

/** Resolves once every injected record is acked by someone. */
export function allAcked(sim: Simulator, timeoutMs = 15_000): Promise<InboundRecord[]> {
  return sim.waitFor(
    () => {
      const records = sim.inbound();
      return records.every((r) => r.state === 'acked') ? records : undefined;
    },
    timeoutMs,
    'every injected message to be acked',
  );
}

/** A deterministic stand-in for Math.random (a small LCG), for a reproducible push spread. */
export function seededRandom(seed = 7): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
}
