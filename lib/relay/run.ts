/**
 * Wires a running relay from configuration: the forwarder the settings name (for `inprocess`,
 * the message pipeline in this process), one stream client per enabled account, and the
 * health endpoint. Used by the relay container entry and by `npm start`.
 */
import type { LoadedConfig } from '../config/index.js';
import { createInboxForwarder } from '../forward/inbox.js';
import { createForwarder } from '../forward/index.js';
import type { Forwarder, HandleOutcome, MessageEvent, MessageHandler } from '../forward/port.js';
import { createLogger, type Logger } from '../log.js';
import { CardWatchdog } from '../pipeline/card-watchdog.js';
import { createMessageHandler } from '../pipeline/index.js';
import {
  apiCache,
  createRuntime,
  type PipelineRuntime,
  type RuntimeOverrides,
} from '../runtime/index.js';
import { createStateStore } from '../state/index.js';
import { stateStoreOptions } from '../state/options.js';
import type { StateStore } from '../state/port.js';
import { createPolicyGate, type PolicyGate } from './gate.js';
import { type HealthServer, startHealthServer } from './health.js';
import { RelayMetrics } from './metrics.js';
import { Relay, type RelayOptions } from './relay.js';

export interface RunningRelay {
  relay: Relay;
  health: HealthServer;
  forwarder: Forwarder;
  /** Prometheus metrics (served at the health server's `/metrics`). */
  metrics: RelayMetrics;
  /** The in-process pipeline, when the target is `inprocess`. */
  runtime?: PipelineRuntime;
  /** Closes AI cards nobody else will (card-watchdog.ts), when the relay can reach the store. */
  watchdog?: CardWatchdog;
  /** Graceful stop: drain hand-offs (within `deadlineMs`), close sockets, servers and the store. */
  stop(deadlineMs?: number): Promise<void>;
}

export interface RunRelayOptions {
  logger?: Logger;
  runtime?: RuntimeOverrides;
  healthHost?: string;
  stream?: RelayOptions['stream'];
  /** Called with each in-process outcome (demo mode reports it to the simulator's chat page). */
  onOutcome?: (event: MessageEvent, outcome: HandleOutcome) => void;
}

export async function runRelay(
  config: LoadedConfig,
  options: RunRelayOptions = {},
): Promise<RunningRelay> {
  const logger = options.logger ?? createLogger({ level: config.settings.log.level });
  for (const warning of config.warnings) logger.warn('config.warning', { warning });
  let runtime: PipelineRuntime | undefined;
  let handler: MessageHandler | undefined;
  if (config.settings.relay.target === 'inprocess') {
    const rt = await createRuntime(config, { logger, ...options.runtime });
    runtime = rt;
    const handle = createMessageHandler(rt);
    const { onOutcome } = options;
    handler = onOutcome
      ? async (event, context) => {
          const outcome = await handle(event, context);
          onOutcome(event, outcome);
          return outcome;
        }
      : handle;
  }
  const metrics = new RelayMetrics();
  // On one machine's durable store (`npm start`) the in-process hand-off is an inbox write
  // (inbox.ts): ACKed at once, handled by workers, resumed by the next start, which opens the
  // same store. Elsewhere (a shared table other relays may serve, or memory) the hand-off stays
  // the handler call itself: ACK after processing.
  const { backend } = config.settings.state;
  const inbox =
    runtime && handler && (backend === 'local' || backend === 'embedded')
      ? createInboxForwarder({
          store: runtime.store,
          handler,
          timeoutMs: config.settings.agent.timeoutMs + 30_000,
          concurrency: config.settings.relay.maxInflight,
          logger,
        })
      : undefined;
  const forwarder = metrics.instrument(
    inbox ?? (await createForwarder(config.settings, { handler, logger })),
  );
  const relay = new Relay({
    accounts: config.accounts.map((a) => ({
      accountId: a.accountId,
      clientId: a.clientId,
      clientSecret: a.clientSecret,
    })),
    forwarder,
    gatewayUrl: config.settings.dingtalk.gatewayUrl,
    logger,
    maxInflight: config.settings.relay.maxInflight,
    maxWaiting: config.settings.relay.maxWaiting,
    // Only where this process holds the pipeline's own configuration (see gate.ts).
    ...(runtime
      ? { gate: gateWithOutcomes(createPolicyGate(config, logger), options.onOutcome) }
      : {}),
    handoffRetryMs: config.settings.relay.handoffRetryMs,
    ...(options.stream ? { stream: options.stream } : {}),
  });
  metrics.observe(() => relay.status());
  const watch = await startWatchdog(config, runtime, logger);
  const health = await startHealthServer(() => relay.status(), {
    port: config.settings.server.port,
    metrics,
    host: options.healthHost ?? config.settings.server.host,
  });
  const stop = async (deadlineMs = 10_000) => {
    await relay.stop(deadlineMs);
    await watch?.watchdog.stop();
    await watch?.ownStore?.close();
    metrics.close();
    await health.close();
    await forwarder.close?.();
    await runtime?.store.close();
  };
  try {
    await relay.start();
  } catch (err) {
    await stop(0);
    throw err;
  }
  return {
    relay,
    health,
    forwarder,
    metrics,
    ...(runtime ? { runtime } : {}),
    ...(watch ? { watchdog: watch.watchdog } : {}),
    stop,
  };
}

/**
 * The card watchdog runs where the relay shares the pipeline's store: in process (its runtime's
 * store), or beside remote functions on a shared table (DynamoDB, Tablestore), which the relay
 * then opens itself. A remote target on a process-local store has nothing the relay could read.
 */
async function startWatchdog(
  config: LoadedConfig,
  runtime: PipelineRuntime | undefined,
  logger: Logger,
): Promise<{ watchdog: CardWatchdog; ownStore?: StateStore } | undefined> {
  const { cardSweepMs } = config.settings.relay;
  const { backend } = config.settings.state;
  if (cardSweepMs <= 0) return undefined;
  if (!runtime && backend !== 'dynamodb' && backend !== 'tablestore') return undefined;
  const ownStore = runtime
    ? undefined
    : await createStateStore(stateStoreOptions(config.settings), { logger });
  const watchdog = new CardWatchdog({
    store: runtime?.store ?? ownStore!,
    accounts: config.accounts,
    apiFor: runtime ? (account) => runtime.apiFor(account) : apiCache(config),
    now: runtime?.now ?? Date.now,
    logger,
    sweepMs: cardSweepMs,
  });
  watchdog.start();
  return { watchdog, ...(ownStore ? { ownStore } : {}) };
}

/** The gate, reporting each drop as the pipeline would have (`dropped` with its reason). */
function gateWithOutcomes(gate: PolicyGate, onOutcome: RunRelayOptions['onOutcome']): PolicyGate {
  if (!onOutcome) return gate;
  return (accountId, payload, messageId) => {
    const reason = gate(accountId, payload, messageId);
    if (reason && messageId) {
      onOutcome(
        { version: 1, accountId, messageId, data: JSON.stringify(payload), receivedAt: Date.now() },
        { status: 'dropped', reason },
      );
    }
    return reason;
  };
}

export { waitForShutdownSignal } from '../shutdown.js';
