/**
 * One chaos run through the full local path: the simulator (real WebSockets, the real
 * `dingtalk-stream` based stream client) → the relay → the in-process forwarder → the message
 * handler → session webhook / robot OpenAPI → the simulator's outbox. It is wired like
 * `runRelay` does for `npm start`, with the fault wrappers (wrappers.ts) slotted into the ports.
 *
 *   plan (seeded) ─► traffic + timed faults ─► drain (every message settled, nothing in flight)
 *                                             ─► reconcile inbound log ⇄ outbox
 */
import { loadConfig } from '../../lib/config/index.js';
import { outTrackIdFor } from '../../lib/dingtalk/cards.js';
import { createInProcessForwarder } from '../../lib/forward/inprocess.js';
import { createLogger, type Logger } from '../../lib/log.js';
import { createMessageHandler } from '../../lib/pipeline/index.js';
import { emptyRelayCounters, Relay, type RelayCounters } from '../../lib/relay/relay.js';
import { createRuntime } from '../../lib/runtime/index.js';
import type { Simulator, SimulatorStats } from '../../lib/simulator/index.js';
import { benchApp, channelEnv, startBenchSimulator } from '../rig.js';
import { openBenchStore } from '../stores.js';
import { CardLedger, CHAOS_CARD, cardConfig, startStreamingAgent } from './cards.js';
import type { ChaosOptions, FaultKind } from './options.js';
import { type ChaosPlan, countPlannedFaults, planChaos } from './plan.js';
import { type Reconciliation, reconcile } from './reconcile.js';
import { seededRng } from './rng.js';
import { CHAOS_WEBHOOK_TIMEOUT_MS, sendTraffic } from './traffic.js';
import { chaosAgent, chaosForwarder, chaosHandler, chaosStore, FaultBook } from './wrappers.js';

export interface ChaosResult extends Reconciliation {
  ok: boolean;
  seed: number;
  options: ChaosOptions;
  dms: number;
  groups: number;
  faults: {
    planned: Partial<Record<FaultKind, number>>;
    /** Faults that acted (a per-message fault whose message reached that point; a timed fault with a target). */
    fired: Partial<Record<FaultKind, number>>;
  };
  simulator: Pick<
    SimulatorStats,
    | 'pushes'
    | 'redeliveries'
    | 'gaveUp'
    | 'acks'
    | 'disconnectsSent'
    | 'gatewayRejected'
    | 'handshakesRejected'
    | 'webhookSends'
    | 'webhookErrors'
    | 'openapiCalls'
    | 'openapiErrors'
  >;
  relay: RelayCounters & { reconnects: number; malformedFrames: number };
  /** Paid card calls (403 QPS refusals not counted, as the card budget does not count them). */
  cardCalls: {
    budget: number;
    /** Most calls one handler attempt spent on its card: must be ≤ budget. */
    maxPerAttempt: number;
    /** Most calls one message's card cost over all its attempts (a retry resumes the card). */
    maxPerMessage: number;
    /** Card-mode messages whose card cost more than one attempt's budget in total. */
    messagesOverOneBudget: number;
    overBudgetAttempts: number;
    /** `msgId#attempt` of each attempt over the budget, with its calls. */
    overBudget: string[];
    total: number;
    qpsRefused: number;
    authRefused: number;
  };
  durationMs: { traffic: number; drain: number; total: number };
  /** True when the drain gave up waiting (some work still running when reconciled). */
  drainTimedOut: boolean;
}

/** Grace past the handler budget the in-process forwarder allows (lib/forward/inprocess.ts). */
const FORWARDER_GRACE_MS = 2_000;
const SETTLE_MS = 1_000;

interface Channel {
  sim: Simulator;
  relay: Relay;
  book: FaultBook;
  ledger: CardLedger;
  close(): Promise<void>;
}

/** Runs the chaos plan for `options` and reconciles; never throws for lost or doubled messages. */
export async function runChaos(
  options: ChaosOptions,
  deps: { logger?: Logger } = {},
): Promise<ChaosResult> {
  const started = performance.now();
  const plan = planChaos(options);
  const channel = await startChannel(
    options,
    plan,
    deps.logger ?? createLogger({ level: 'silent' }),
  );
  try {
    const traffic = await sendTraffic(channel.sim, plan, {
      rate: options.rate,
      rng: seededRng(options.seed ^ 0x5eed),
      book: channel.book,
    });
    const trafficDone = performance.now();
    const drained = await drain(channel, traffic.sent.length, options.drainTimeoutMs);
    const drainDone = performance.now();
    const reconciliation = reconcile({
      sent: traffic.sent,
      poison: traffic.poison,
      inbound: channel.sim.inbound(),
      outbox: channel.sim.outbox(),
      cards: channel.sim.cards(),
      book: channel.book,
    });
    const cardCalls = cardCallFigures(channel.ledger);
    return {
      ...reconciliation,
      ok:
        reconciliation.neverAnswered === 0 &&
        reconciliation.answeredTwice === 0 &&
        reconciliation.strayReplies === 0 &&
        reconciliation.cards.unfinished === 0 &&
        cardCalls.overBudgetAttempts === 0,
      seed: options.seed,
      options,
      dms: traffic.sent.filter((m) => m.conversation === 'dm').length,
      groups: traffic.sent.filter((m) => m.conversation === 'group').length,
      faults: {
        planned: countPlannedFaults(plan),
        fired: { ...channel.book.firedCounts, ...traffic.timedFired },
      },
      simulator: simulatorFigures(channel.sim.stats()),
      relay: relayTotals(channel.relay),
      cardCalls,
      durationMs: {
        traffic: trafficDone - started,
        drain: drainDone - trafficDone,
        total: performance.now() - started,
      },
      drainTimedOut: !drained,
    };
  } finally {
    await channel.close();
  }
}

function simulatorFigures(stats: SimulatorStats): ChaosResult['simulator'] {
  const { pushes, redeliveries, gaveUp, acks, disconnectsSent, gatewayRejected } = stats;
  const { handshakesRejected, webhookSends, webhookErrors, openapiCalls, openapiErrors } = stats;
  return {
    pushes,
    redeliveries,
    gaveUp,
    acks,
    disconnectsSent,
    gatewayRejected,
    handshakesRejected,
    webhookSends,
    webhookErrors,
    openapiCalls,
    openapiErrors,
  };
}

function cardCallFigures(ledger: CardLedger): ChaosResult['cardCalls'] {
  const attempts = [...ledger.byAttempt.values()];
  const cards = [...ledger.byCard.values()];
  const budget = CHAOS_CARD.maxCalls;
  return {
    budget,
    maxPerAttempt: Math.max(0, ...attempts),
    maxPerMessage: Math.max(0, ...cards),
    messagesOverOneBudget: cards.filter((c) => c > budget).length,
    overBudgetAttempts: attempts.filter((c) => c > budget).length,
    overBudget: [...ledger.byAttempt]
      .filter(([, calls]) => calls > budget)
      .map(([key, calls]) => `${key}: ${calls} calls`),
    total: cards.reduce((a, b) => a + b, 0),
    qpsRefused: ledger.qpsRefused,
    authRefused: ledger.authRefused,
  };
}

/** The channel's configuration: open policies, one entry per app, card mode where planned. */
function chaosEnv(sim: Simulator, options: ChaosOptions, plan: ChaosPlan) {
  const env = channelEnv(sim, options.accounts, { RELAY_TARGET: 'inprocess' });
  const channel = JSON.parse(env.DINGTALK_CONFIG!) as {
    accounts: Record<string, Record<string, unknown>>;
  };
  const cards = cardConfig(options, plan.messages);
  Object.assign(channel, cards.root);
  for (let i = 0; i < options.accounts; i++) {
    const entry = channel.accounts[`acct${i}`];
    if (entry) Object.assign(entry, cards.account(i));
  }
  return { ...env, DINGTALK_CONFIG: JSON.stringify(channel) };
}

/** The channel under test, wired as `runRelay` wires `npm start`, with the fault wrappers. */
async function startChannel(
  options: ChaosOptions,
  plan: ChaosPlan,
  logger: Logger,
): Promise<Channel> {
  const sim = await startBenchSimulator(options.accounts, {
    callbackAckTimeoutMs: options.callbackAckTimeoutMs,
    maxRedeliveries: options.maxRedeliveries,
    disconnectGraceMs: 1_000,
    random: seededRng(options.seed ^ 0xc0ffee).next,
  });
  const store = await openBenchStore(options.store).catch(async (err: unknown) => {
    await sim.close();
    throw err;
  });
  const book = new FaultBook();
  const ledger = new CardLedger();
  const plannedByToken = new Map(plan.messages.map((m) => [m.token, m]));
  let relay: Relay | undefined;
  let streaming: Awaited<ReturnType<typeof startStreamingAgent>> | undefined;
  const close = async () => {
    await relay?.stop(2_000);
    await streaming?.hook.close();
    await store.close();
    await sim.close();
  };
  try {
    streaming = await startStreamingAgent();
    const config = loadConfig(chaosEnv(sim, options, plan), { requireCredentials: true });
    const overrunMs = options.handlerBudgetMs + FORWARDER_GRACE_MS + 500;
    const rt = await createRuntime(config, {
      store: chaosStore(store.store, book),
      agent: chaosAgent(book, overrunMs, streaming.agent, (request) => {
        // The sender clicks Stop on the card of this message (the §2.4 frame, via the relay).
        const token = request.text.split(/\s/)[0] ?? '';
        const planned = plannedByToken.get(token);
        if (!planned) return;
        const outTrackId = outTrackIdFor(request.accountId, request.messageId);
        sim.tryClickCard(outTrackId, { userId: planned.staffId, action: 'stop' });
      }),
      logger,
      replyReserveMs: options.replyReserveMs,
      webhookTimeoutMs: CHAOS_WEBHOOK_TIMEOUT_MS,
      fetch: ledger.fetch,
    });
    const handler = chaosHandler(createMessageHandler(rt), book, (msgId, run) =>
      ledger.attempt(msgId, run),
    );
    const forwarder = chaosForwarder(
      createInProcessForwarder({ handler, timeoutMs: options.handlerBudgetMs, logger }),
      book,
    );
    relay = new Relay({
      accounts: Array.from({ length: options.accounts }, (_, i) => {
        const app = benchApp(i);
        return { accountId: app.accountId, clientId: app.clientId, clientSecret: app.clientSecret };
      }),
      forwarder,
      gatewayUrl: sim.gatewayUrl,
      logger,
      handoffRetryMs: 30_000,
      // Short reconnect backoff and heartbeat, so a dropped or stalled connection heals in ~2 s.
      stream: {
        backoffBaseMs: 100,
        backoffMaxMs: 1_000,
        heartbeatIntervalMs: 500,
        heartbeatTimeoutMs: 2_000,
        retireGraceMs: 1_000,
        gatewayTimeoutMs: 2_000,
      },
    });
    await relay.start();
    return { sim, relay, book, ledger, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/**
 * Waits until every message is settled: each one answered or given up on by the simulator, no
 * push awaiting its ACK, and no hand-off or handler call still running (a late handler could
 * still send a second reply). Then waits a little longer for stragglers.
 */
async function drain(channel: Channel, sent: number, timeoutMs: number): Promise<boolean> {
  const giveUpAt = Date.now() + timeoutMs;
  const settled = () => {
    const status = channel.relay.status();
    if (status.inflight > 0 || status.waiting > 0 || channel.book.inflight > 0) return false;
    const records = channel.sim.inbound();
    const open = records.some((r) => r.state === 'delivered' || r.state === 'queued');
    return !open && records.length >= sent;
  };
  while (Date.now() < giveUpAt) {
    if (settled()) {
      await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
      if (settled()) return true;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return false;
}

function relayTotals(relay: Relay): ChaosResult['relay'] {
  const totals: ChaosResult['relay'] = {
    ...emptyRelayCounters(),
    reconnects: 0,
    malformedFrames: 0,
  };
  for (const account of relay.status().accounts) {
    for (const key of Object.keys(account.relay) as (keyof RelayCounters)[]) {
      totals[key] += account.relay[key];
    }
    totals.reconnects += account.counters.reconnects;
    totals.malformedFrames += account.counters.malformedFrames;
  }
  return totals;
}
