/**
 * The relay's operator metrics: Prometheus text at `/metrics` (prom-client), with conventional
 * names and units, and a rolling one-hour window of the same counters for
 * `dingtalk-channel status` (`/stats/hour`).
 *
 * The counters are the relay's own (`Relay.status()`), read at scrape time, so the relay keeps
 * one source of truth and needs no hooks; only the hand-off latency is measured here, by
 * wrapping the forwarder: receipt (`event.receivedAt`) to the hand-off being accepted, retries
 * and the wait for a slot included — the time DingTalk waits for its ACK.
 *
 * The hour window is kept in memory (a snapshot of the counters each minute, 61 kept): free per
 * message and per scrape, but per replica and lost on restart. The durable, fleet-wide view is
 * the functions' metrics (CloudWatch / SLS) or Prometheus itself.
 */
import {
  Counter,
  type CounterConfiguration,
  collectDefaultMetrics,
  Gauge,
  Histogram,
  Registry,
} from 'prom-client';
import type { Forwarder } from '../forward/port.js';
import type { RelayCounters, RelayStatus } from './relay.js';

/** Hand-off latency buckets (seconds): an in-process echo takes ms, a slow agent tens of seconds. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const SNAPSHOT_MS = 60_000;
const WINDOW_MS = 60 * 60_000;

type CounterName = keyof RelayCounters;

// Node's process metrics (CPU, memory, event loop, GC) watch the process, not one relay: one
// registry per process, merged into each relay's exposition (tests start many relays).
let processRegistry: Registry | undefined;
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

/** Relay counter → metric name and help (all `_total`, labelled by account). */
const COUNTERS: [CounterName, string, string][] = [
  ['received', 'dingtalk_relay_messages_received_total', 'Robot messages received on the stream'],
  [
    'forwarded',
    'dingtalk_relay_messages_handed_off_total',
    'Messages handed off and accepted by the forwarder',
  ],
  ['acked', 'dingtalk_relay_messages_acked_total', 'Messages ACKed to DingTalk'],
  [
    'shed',
    'dingtalk_relay_messages_shed_total',
    'Messages left unacked because every hand-off slot and wait place was taken',
  ],
  [
    'malformed',
    'dingtalk_relay_messages_malformed_total',
    'Payloads that were not robot messages (ACKed, never forwarded)',
  ],
  [
    'failed',
    'dingtalk_relay_handoff_failures_total',
    'Hand-offs given up (message left unacked for redelivery)',
  ],
  [
    'retries',
    'dingtalk_relay_handoff_retries_total',
    'Hand-off attempts retried after a rejection',
  ],
  [
    'joined',
    'dingtalk_relay_redeliveries_joined_total',
    'Redeliveries that joined a hand-off still under way',
  ],
  [
    'dropped',
    'dingtalk_relay_messages_dropped_by_policy_total',
    'Messages the configuration alone drops, ACKed before any hand-off (in-process target)',
  ],
  [
    'cardCallbacks',
    'dingtalk_relay_card_callbacks_received_total',
    'Card callbacks (button clicks) received on the stream',
  ],
];

/** Counter deltas of one account over the window. */
export interface HourlyCounts {
  accountId: string;
  counters: RelayCounters;
}

/** What `/stats/hour` answers. */
export interface HourlyStats {
  /** Epoch ms of the oldest snapshot used (the window is shorter while the relay is young). */
  since: number;
  until: number;
  accounts: HourlyCounts[];
}

interface Snapshot {
  at: number;
  counters: Map<string, RelayCounters>;
}

export interface RelayMetricsOptions {
  /** Node process metrics (CPU, memory, event loop, GC); default true. */
  processMetrics?: boolean;
  now?: () => number;
}

/** The relay's metrics registry; `observe(status)` once the relay exists. */
export class RelayMetrics {
  readonly registry = new Registry();
  private status: (() => RelayStatus) | undefined;
  private readonly latency: Histogram<'account'>;
  private readonly snapshots: Snapshot[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly now: () => number;
  private readonly withProcess: boolean;

  constructor(options: RelayMetricsOptions = {}) {
    this.now = options.now ?? Date.now;
    this.withProcess = options.processMetrics !== false;
    const metrics = this;
    for (const [field, name, help] of COUNTERS) {
      const config: CounterConfiguration<'account'> = {
        name,
        help,
        labelNames: ['account'],
        registers: [this.registry],
        collect() {
          this.reset();
          for (const account of metrics.status?.().accounts ?? []) {
            this.inc({ account: account.accountId }, account.relay[field]);
          }
        },
      };
      new Counter(config);
    }
    new Counter({
      name: 'dingtalk_relay_stream_reconnects_total',
      help: 'Stream reconnections after a lost or rotated connection',
      labelNames: ['account'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const account of metrics.status?.().accounts ?? []) {
          this.inc({ account: account.accountId }, account.counters.reconnects);
        }
      },
    });
    new Gauge({
      name: 'dingtalk_relay_stream_connected',
      help: 'Whether the account holds a connected stream (1) or not (0)',
      labelNames: ['account', 'state'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const account of metrics.status?.().accounts ?? []) {
          const connected = account.state === 'connected' ? 1 : 0;
          this.set({ account: account.accountId, state: account.state }, connected);
        }
      },
    });
    new Gauge({
      name: 'dingtalk_relay_handoffs_inflight',
      help: 'Hand-offs running now',
      registers: [this.registry],
      collect() {
        this.set(metrics.status?.().inflight ?? 0);
      },
    });
    new Gauge({
      name: 'dingtalk_relay_handoffs_waiting',
      help: 'Deliveries waiting for a hand-off slot',
      registers: [this.registry],
      collect() {
        this.set(metrics.status?.().waiting ?? 0);
      },
    });
    this.latency = new Histogram({
      name: 'dingtalk_relay_handoff_latency_seconds',
      help: 'Receipt of a message to its hand-off being accepted (retries and slot wait included)',
      labelNames: ['account'],
      buckets: LATENCY_BUCKETS,
      registers: [this.registry],
    });
  }

  /** Reads the relay's counters from `status` from now on, and starts the hour window. */
  observe(status: () => RelayStatus): void {
    this.status = status;
    this.snapshot();
    this.timer = setInterval(() => this.snapshot(), SNAPSHOT_MS);
    this.timer.unref();
  }

  /** Wraps a forwarder so every accepted hand-off records its latency. */
  instrument(forwarder: Forwarder): Forwarder {
    const latency = this.latency;
    const now = this.now;
    return {
      kind: forwarder.kind,
      ...(forwarder.local ? { local: true } : {}),
      async forward(event, signal) {
        const result = await forwarder.forward(event, signal);
        if (result.accepted) {
          const seconds = Math.max(0, now() - event.receivedAt) / 1000;
          latency.observe({ account: event.accountId }, seconds);
        }
        return result;
      },
      ...(forwarder.close ? { close: () => forwarder.close!() } : {}),
    };
  }

  /** The Prometheus text exposition. */
  text(): Promise<string> {
    if (!this.withProcess) return this.registry.metrics();
    return Registry.merge([processMetrics(), this.registry]).metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** Counter deltas over the last hour (or since start, when younger). */
  lastHour(): HourlyStats {
    const current = this.capture();
    const cutoff = current.at - WINDOW_MS;
    const oldest = this.snapshots.find((s) => s.at >= cutoff) ?? current;
    const accounts = [...current.counters.entries()].map(([accountId, now]) => {
      const then = oldest.counters.get(accountId);
      const counters = Object.fromEntries(
        Object.entries(now).map(([key, value]) => [key, value - (then?.[key as CounterName] ?? 0)]),
      ) as unknown as RelayCounters;
      return { accountId, counters };
    });
    return { since: oldest.at, until: current.at, accounts };
  }

  /** Stops the snapshot timer. */
  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private capture(): Snapshot {
    const counters = new Map<string, RelayCounters>();
    for (const account of this.status?.().accounts ?? []) {
      counters.set(account.accountId, { ...account.relay });
    }
    return { at: this.now(), counters };
  }

  private snapshot(): void {
    this.snapshots.push(this.capture());
    const keep = Math.ceil(WINDOW_MS / SNAPSHOT_MS) + 1;
    if (this.snapshots.length > keep) this.snapshots.splice(0, this.snapshots.length - keep);
  }
}
