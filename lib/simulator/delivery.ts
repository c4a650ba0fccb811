/**
 * Pushes CALLBACK/EVENT frames and tracks their ACKs (§2.5, §8.1 "Robot CALLBACK delivery",
 * "Redelivery").
 *
 *   submit ─► one random open connection of the app subscribed to the topic ─► delivered
 *      │ none open: queue (queueWhenOffline) or drop          │
 *      ▼                                                      ├─ ACK (EVENT: not LATER) ─► acked
 *   queued ─► first matching connection opens ─► delivered    └─ callbackAckTimeoutMs, no ACK:
 *                                                                redeliver with the SAME
 *                                                                messageId and data, up to
 *                                                                maxRedeliveries, then unacked
 */
import type { FrameType } from '../dingtalk/payload.js';
import type { ConnectionRegistry, StreamConnection } from './connections.js';
import type { ParsedUpstream } from './frames.js';
import { pushFrame } from './frames.js';
import { callbackMessageId } from './ids.js';
import type { AckRecord, InboundRecord, Ledger } from './ledger.js';
import type { ResolvedOptions, SimApp } from './options.js';

/** One push the dispatcher is responsible for until it is acked or given up. */
export interface Push {
  messageId: string;
  type: Exclude<FrameType, 'SYSTEM'>;
  topic: string;
  app: SimApp;
  data: string;
  eventHeaders?: Record<string, string>;
  record: InboundRecord;
}

interface Tracked extends Push {
  timer?: NodeJS.Timeout;
  lastDeliveredAt?: number;
}

/** How an upstream frame related to the pushes, for the ACK log. */
export type AckMatch = Pick<
  AckRecord,
  'kind' | 'matched' | 'topic' | 'latencyMs' | 'duplicate' | 'late'
>;

// Finished pushes are remembered only to label late and duplicate ACKs.
const MAX_FINISHED = 10_000;

export class Dispatcher {
  private readonly pending = new Map<string, Tracked>();
  private readonly queue: Tracked[] = [];
  private readonly finished = new Map<string, Tracked>();
  private seq = 0x1000;

  constructor(
    private readonly options: ResolvedOptions,
    private readonly ledger: Ledger,
    private readonly connections: ConnectionRegistry,
  ) {}

  /** A fresh CALLBACK/EVENT messageId. */
  nextMessageId(): string {
    this.seq += 1;
    return callbackMessageId(Date.now(), this.seq);
  }

  /** Takes responsibility for a new push and delivers or queues it. */
  submit(push: Push): void {
    const tracked: Tracked = { ...push };
    this.pending.set(push.messageId, tracked);
    this.ledger.recordInbound(push.record);
    this.deliverOrQueue(tracked);
  }

  /** Delivers queued pushes this new connection can take. */
  onConnectionReady(conn: StreamConnection): void {
    const ready = this.queue.filter((p) => p.app === conn.app && conn.canTake(p.type, p.topic));
    for (const push of ready) {
      this.queue.splice(this.queue.indexOf(push), 1);
      this.deliverOrQueue(push);
    }
  }

  /** Matches an upstream frame to a push; marks it acked unless an EVENT answered LATER. */
  onAck(conn: StreamConnection, up: ParsedUpstream): AckMatch {
    const push = this.pending.get(up.messageId);
    if (!push) {
      const done = this.finished.get(up.messageId);
      if (!done) return { kind: 'unknown', matched: false };
      const acked = done.record.state === 'acked';
      return { ...this.describe(done), matched: false, duplicate: acked, late: !acked };
    }
    const match: AckMatch = { ...this.describe(push), matched: true };
    if (push.type === 'EVENT' && eventStatus(up.data) === 'LATER') return match;
    const now = Date.now();
    push.record.state = 'acked';
    push.record.ackedAt = now;
    push.record.ackConnectionId = conn.id;
    push.record.ackData = up.data;
    this.finish(push);
    return match;
  }

  close(): void {
    for (const push of this.pending.values()) clearTimeout(push.timer);
    this.pending.clear();
    this.queue.length = 0;
  }

  private describe(push: Tracked): Omit<AckMatch, 'matched'> {
    const latencyMs =
      push.lastDeliveredAt === undefined ? undefined : Date.now() - push.lastDeliveredAt;
    return { kind: push.type === 'EVENT' ? 'event' : 'callback', topic: push.topic, latencyMs };
  }

  private deliverOrQueue(push: Tracked): void {
    if (this.deliver(push)) return;
    const firstAttempt = push.record.deliveries.length === 0;
    if (this.options.queueWhenOffline) {
      this.queue.push(push);
      if (firstAttempt) {
        push.record.state = 'queued';
        this.ledger.stats.queued += 1;
      }
      this.ledger.changed();
      return;
    }
    push.record.state = firstAttempt ? 'dropped' : 'unacked';
    this.ledger.stats[firstAttempt ? 'dropped' : 'gaveUp'] += 1;
    this.finish(push);
  }

  private deliver(push: Tracked): boolean {
    const candidates = this.connections.deliverable(push.app, push.type, push.topic);
    const conn = candidates[Math.floor(this.options.random() * candidates.length)];
    if (!conn) return false;
    const now = Date.now();
    const frame = pushFrame({ ...push, appId: push.app.appId, connectionId: conn.id, now });
    if (!conn.send(frame)) return false;
    const redelivery = push.record.deliveries.length > 0;
    push.record.deliveries.push({ connectionId: conn.id, at: now, redelivery });
    if (push.record.state !== 'acked') push.record.state = 'delivered';
    push.lastDeliveredAt = now;
    conn.pushes += 1;
    this.ledger.stats.pushes += 1;
    if (redelivery) this.ledger.stats.redeliveries += 1;
    clearTimeout(push.timer);
    push.timer = setTimeout(() => this.onAckTimeout(push), this.options.callbackAckTimeoutMs);
    this.options.logger.debug('sim.push', {
      messageId: push.messageId,
      connectionId: conn.id,
      redelivery,
    });
    this.ledger.changed();
    return true;
  }

  private onAckTimeout(push: Tracked): void {
    push.timer = undefined;
    if (!this.pending.has(push.messageId)) return;
    if (push.record.deliveries.length <= this.options.maxRedeliveries) {
      this.deliverOrQueue(push);
      return;
    }
    push.record.state = 'unacked';
    this.ledger.stats.gaveUp += 1;
    this.finish(push);
  }

  private finish(push: Tracked): void {
    clearTimeout(push.timer);
    push.timer = undefined;
    this.pending.delete(push.messageId);
    const queued = this.queue.indexOf(push);
    if (queued >= 0) this.queue.splice(queued, 1);
    this.finished.set(push.messageId, push);
    if (this.finished.size > MAX_FINISHED) {
      const oldest = this.finished.keys().next().value;
      if (oldest !== undefined) this.finished.delete(oldest);
    }
    this.ledger.changed();
  }
}

function eventStatus(data: unknown): string | undefined {
  if (typeof data !== 'string') return undefined;
  try {
    const parsed = JSON.parse(data) as { status?: unknown };
    return typeof parsed?.status === 'string' ? parsed.status : undefined;
  } catch {
    return undefined;
  }
}
