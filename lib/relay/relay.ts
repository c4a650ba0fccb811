/**
 * The relay: the only long-lived piece. One stream client per enabled account; every robot
 * message is handed to the forwarder and ACKed to DingTalk only after the hand-off is accepted.
 *
 * Invariants (guarded by test/relay/{handoff,backpressure,stop,sigterm,replicas}.test.ts):
 * 1. Durable before ack (architecture invariant 1): `ack()` runs only after `accepted`.
 * 2. A failed hand-off is retried with backoff for at most `handoffRetryMs`; then the message is
 *    left unacked (DingTalk delivers it again), logged and counted as `failed`.
 * 3. Bounded memory: at most `maxInflight` remote hand-offs run and at most `maxWaiting` wait for a
 *    slot; a message beyond that is left unacked for DingTalk to redeliver (counted `shed`).
 *    A redelivery of a message still in hand-off joins it (counted `joined`) and takes no slot.
 * 4. A message the configuration alone drops is ACKed before it takes a slot (gate.ts).
 *    A payload that is not a robot message is ACKed (redelivering it cannot help), logged with
 *    its size and counted `malformed`; it never reaches the forwarder.
 * 5. `stop()` takes no new message, lets in-flight hand-offs finish (and ACK) within the
 *    deadline, then closes every socket.
 *
 * 6. A card callback (TOPIC_CARD, a click on a card button) takes the same path as a message:
 *    handed off (carrying its topic), ACKed once accepted; never gated here (the function applies
 *    the policy, lib/pipeline/card-stop.ts). One that is not a JSON object with an `outTrackId`
 *    is ACKed, logged and counted `malformed`.
 *
 * Two replicas with the same credentials are safe: DingTalk pushes each message to one
 * connection, and the message function deduplicates redeliveries and overlaps by msgId.
 */
import { setMaxListeners } from 'node:events';
import { sleep } from '../dingtalk/http.js';
import { TOPIC_CARD } from '../dingtalk/payload.js';
import {
  type RobotDelivery,
  StreamClient,
  type StreamClientOptions,
  type StreamClientStatus,
} from '../dingtalk/stream-client.js';
import { errorSummary } from '../errors.js';
import type { Forwarder, MessageEvent } from '../forward/port.js';
import { createLogger, type Logger } from '../log.js';
import { Slots } from './slots.js';

export interface RelayAccount {
  accountId: string;
  clientId: string;
  clientSecret: string;
}

export interface RelayOptions {
  accounts: RelayAccount[];
  forwarder: Forwarder;
  gatewayUrl: string;
  logger?: Logger;
  maxInflight?: number;
  /** Deliveries allowed to wait for a free slot (each holds its payload, ~1–4 KB); default 1024. */
  maxWaiting?: number;
  handoffRetryMs?: number;
  /** Drops what configuration alone drops before it takes a slot (gate.ts); ACKed, counted. */
  gate?: (
    accountId: string,
    payload: Record<string, unknown>,
    messageId: string,
  ) => string | undefined;
  /** Extra stream client options (tests shorten backoff and heartbeat). */
  stream?: Partial<
    Omit<StreamClientOptions, 'accountId' | 'clientId' | 'clientSecret' | 'onRobotMessage'>
  >;
}

export interface RelayCounters {
  received: number;
  forwarded: number;
  acked: number;
  failed: number;
  shed: number;
  malformed: number;
  retries: number;
  /** Redeliveries that arrived while the same message was still being handed off. */
  joined: number;
  /** Dropped by the policy gate before a hand-off (ACKed). */
  dropped: number;
  /** Card callbacks received (also counted in `received`). */
  cardCallbacks: number;
}

/** Counters of an account that has seen nothing yet. */
export function emptyRelayCounters(): RelayCounters {
  return {
    received: 0,
    forwarded: 0,
    acked: 0,
    failed: 0,
    shed: 0,
    malformed: 0,
    retries: 0,
    joined: 0,
    dropped: 0,
    cardCallbacks: 0,
  };
}

export interface AccountStatus extends StreamClientStatus {
  relay: RelayCounters;
}

export interface RelayStatus {
  ready: boolean;
  stopping: boolean;
  inflight: number;
  waiting: number;
  forwarder: string;
  accounts: AccountStatus[];
}

const FIRST_RETRY_MS = 100;
const MAX_RETRY_MS = 5_000;

export class Relay {
  private readonly clients = new Map<string, StreamClient>();
  private readonly counters = new Map<string, RelayCounters>();
  private readonly slots: Slots;
  private readonly log: Logger;
  private readonly handoffRetryMs: number;
  /** Hand-offs under way (or waiting for a slot), by account and messageId. */
  private readonly inflight = new Map<string, Promise<boolean>>();
  private stopping = false;
  private readonly stopController = new AbortController();

  constructor(private readonly options: RelayOptions) {
    this.log = options.logger ?? createLogger();
    const maxInflight = options.maxInflight ?? 64;
    this.slots = new Slots(maxInflight, options.maxWaiting ?? 1024);
    // Every running hand-off listens on the stop signal (its forward call or its retry sleep);
    // Node's default of 10 listeners would warn of a leak as soon as 11 run at once.
    setMaxListeners(maxInflight * 2 + 10, this.stopController.signal);
    this.handoffRetryMs = options.handoffRetryMs ?? 30_000;
    for (const account of options.accounts) {
      this.counters.set(account.accountId, emptyRelayCounters());
      this.clients.set(
        account.accountId,
        new StreamClient({
          ...options.stream,
          accountId: account.accountId,
          clientId: account.clientId,
          clientSecret: account.clientSecret,
          gatewayUrl: options.gatewayUrl,
          logger: this.log,
          onRobotMessage: (delivery) => this.onMessage(delivery),
          onCardCallback: (delivery) => this.onMessage(delivery),
        }),
      );
    }
  }

  /** Connects every account; resolves when all are connected, rejects on bad credentials. */
  async start(): Promise<void> {
    await Promise.all([...this.clients.values()].map((c) => c.start()));
  }

  /** Graceful stop: no new messages, in-flight hand-offs finish within `deadlineMs`, sockets close. */
  async stop(deadlineMs = 10_000): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.log.info('relay.stopping', { inflight: this.slots.active, waiting: this.slots.waiting });
    this.slots.rejectWaiting();
    const drained = await this.slots.idle(deadlineMs);
    if (!drained) {
      this.log.warn('relay.stop_deadline', { inflight: this.slots.active });
      this.stopController.abort(); // unfinished hand-offs stay unacked: DingTalk redelivers
    }
    await Promise.all([...this.clients.values()].map((c) => c.stop()));
    this.log.info('relay.stopped', {});
  }

  status(): RelayStatus {
    const accounts = [...this.clients.entries()].map(([id, c]) => ({
      ...c.status(),
      relay: { ...this.counters.get(id)! },
    }));
    return {
      ready:
        !this.stopping && accounts.length > 0 && accounts.every((a) => a.state === 'connected'),
      stopping: this.stopping,
      inflight: this.slots.active,
      waiting: this.slots.waiting,
      forwarder: this.options.forwarder.kind,
      accounts,
    };
  }

  private async onMessage(delivery: RobotDelivery): Promise<void> {
    const counters = this.counters.get(delivery.accountId)!;
    counters.received += 1;
    const card = delivery.topic === TOPIC_CARD;
    if (card) counters.cardCallbacks += 1;
    if (this.stopping) return; // unacked: DingTalk redelivers to a live replica or after restart
    const payload = card ? cardCallbackPayload(delivery.data) : robotPayload(delivery.data);
    if (!payload) {
      counters.malformed += 1;
      this.log.warn('relay.malformed', {
        account: delivery.accountId,
        messageId: delivery.messageId,
        topic: delivery.topic,
        size: delivery.data.length,
      });
      delivery.ack();
      return;
    }
    if (!card && this.options.gate?.(delivery.accountId, payload, delivery.messageId)) {
      counters.dropped += 1;
      if (delivery.ack()) counters.acked += 1;
      return;
    }
    // A redelivery of a message this relay is still handing off joins it instead of taking a
    // second slot: DingTalk matches ACKs by messageId, so one ACK answers both deliveries.
    const key = `${delivery.accountId}\n${delivery.messageId}`;
    for (let running = this.inflight.get(key); running; running = this.inflight.get(key)) {
      counters.joined += 1;
      if (await running) {
        if (delivery.ack()) counters.acked += 1;
        return;
      }
      // That hand-off was not accepted: this delivery makes its own attempt (or joins a newer one).
      if (this.stopping) return;
    }
    const work = this.handOffInSlot(delivery, counters);
    this.inflight.set(key, work);
    try {
      await work;
    } finally {
      this.inflight.delete(key);
    }
  }

  /** Waits for a slot and hands the message off; true once it is accepted (and ACKed). */
  private async handOffInSlot(delivery: RobotDelivery, counters: RelayCounters): Promise<boolean> {
    // A local durable hand-off (the inbox) is one write: no slot to wait for, nothing to shed.
    if (this.options.forwarder.local) return this.handOff(delivery, counters);
    if (!(await this.slots.acquire())) {
      counters.shed += 1;
      this.log.warn('relay.shed', { account: delivery.accountId, messageId: delivery.messageId });
      return false;
    }
    try {
      return await this.handOff(delivery, counters);
    } finally {
      this.slots.release();
    }
  }

  private async handOff(delivery: RobotDelivery, counters: RelayCounters): Promise<boolean> {
    const event: MessageEvent = {
      version: 1,
      accountId: delivery.accountId,
      messageId: delivery.messageId,
      data: delivery.data,
      receivedAt: delivery.receivedAt,
      ...(delivery.topic === TOPIC_CARD ? { topic: TOPIC_CARD } : {}),
    };
    const giveUpAt = Date.now() + this.handoffRetryMs;
    for (let wait = FIRST_RETRY_MS; ; wait = Math.min(MAX_RETRY_MS, wait * 2)) {
      const result = await this.options.forwarder
        .forward(event, this.stopController.signal)
        .catch((err) => ({
          accepted: false as const,
          reason: errorSummary(err).message,
          retryable: true,
        }));
      if (result.accepted) {
        counters.forwarded += 1;
        if (delivery.ack()) counters.acked += 1;
        return true;
      }
      const canRetry =
        result.retryable && !this.stopController.signal.aborted && Date.now() + wait < giveUpAt;
      if (!canRetry) {
        counters.failed += 1;
        this.log.error('relay.handoff_failed', {
          account: delivery.accountId,
          messageId: delivery.messageId,
          reason: result.reason,
          retryable: result.retryable,
        });
        return false;
      }
      counters.retries += 1;
      this.log.warn('relay.handoff_retry', {
        messageId: delivery.messageId,
        reason: result.reason,
        inMs: wait,
      });
      await sleep(wait, this.stopController.signal).catch(() => undefined);
    }
  }
}

/** A card callback at the relay's level of care: JSON text of an object with an outTrackId. */
function cardCallbackPayload(data: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(data) as { outTrackId?: unknown } | null;
    return value &&
      typeof value === 'object' &&
      typeof value.outTrackId === 'string' &&
      value.outTrackId !== ''
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** A robot payload at the relay's level of care: JSON text of an object with a msgId (parsed). */
function robotPayload(data: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(data) as { msgId?: unknown } | null;
    return value &&
      typeof value === 'object' &&
      typeof value.msgId === 'string' &&
      value.msgId !== ''
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
