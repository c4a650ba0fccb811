/**
 * What the simulator observed, as the control API reports it: the outbox (everything the bot
 * sent), upstream frames (ACKs), injected pushes, gateway requests, ping violations and counters.
 * It also wakes the `waitFor…` helpers whenever something is recorded.
 */
import type { Subscription } from '../dingtalk/payload.js';
import { mintMsgId } from './ids.js';

/** One message the bot sent, through a sessionWebhook or the robot OpenAPI. */
export interface OutboxEntry {
  seq: number;
  /** The msgId DingTalk gave the sent message (minted here, always set); an injection can quote it. */
  msgId?: string;
  at: number;
  via: 'webhook' | 'openapi';
  /** The app's accountId. */
  account: string;
  conversationId?: string;
  conversationType?: '1' | '2';
  userIds?: string[];
  /** Webhook msgtype, or the normalised OpenAPI msgKey (sampleMarkdown → markdown…). */
  msgtype: string;
  title?: string;
  text: string;
  atUserIds?: string[];
  /** Uploaded media the message shows: a `sampleImageMsg`/`sampleFile`, or markdown images. */
  attachments?: OutboxAttachment[];
  /** The webhook body's `at.atDingtalkIds` and `at.isAtAll`, when given. */
  atDingtalkIds?: string[];
  isAtAll?: boolean;
  /**
   * Ids of the at block with no `@<id>` in the text: DingTalk does not render those mentions
   * (§5), so the simulator flags them (and counts `mentionMismatches`).
   */
  unrenderedMentions?: string[];
  /**
   * Group sends: `@<staffId>` of a user the simulated org knows, written in the text but not in
   * the at block (shown as text, nobody notified). Also counted in `mentionMismatches`.
   */
  unnotifiedMentions?: string[];
  /** The request body as received (OpenAPI `msgParam` still a JSON string). */
  raw: unknown;
}

/** One uploaded file a sent message carries, as the outbox shows it. */
export interface OutboxAttachment {
  type: 'image' | 'voice' | 'video' | 'file';
  mediaId: string;
  name: string;
  size: number;
  contentType: string;
}

/** One `media/upload` call that succeeded (the bytes stay in the directory). */
export interface UploadRecord extends OutboxAttachment {
  seq: number;
  at: number;
  account: string;
}

/** One upstream frame, matched (or not) to what it answers. */
export interface AckRecord {
  seq: number;
  receivedAt: number;
  connectionId: string;
  account: string;
  messageId: string;
  /** What the frame answers: a pushed CALLBACK/EVENT, a SYSTEM ping or disconnect, or nothing known. */
  kind: 'callback' | 'event' | 'ping' | 'disconnect' | 'unknown';
  topic?: string;
  code: unknown;
  message: unknown;
  data: unknown;
  /** ms between the delivery it answers and its arrival. */
  latencyMs?: number;
  matched: boolean;
  /** An ACK for a push that was already acknowledged. */
  duplicate?: boolean;
  /** An ACK arriving after the simulator gave up redelivering. */
  late?: boolean;
  frame: unknown;
}

export type InboundState = 'queued' | 'delivered' | 'acked' | 'unacked' | 'dropped';

/**
 * What the channel says it did with a pushed message (`POST /__sim/outcomes`): the simulator
 * cannot see policy drops, so a channel in demo mode reports them (the pipeline's HandleOutcome).
 */
export interface OutcomeRecord {
  messageId: string;
  status: 'handled' | 'dropped' | 'duplicate' | 'failed';
  reason?: string;
  at: number;
}

/** One injected push (robot message or event) and its delivery and ACK history. */
export interface InboundRecord {
  messageId: string;
  msgId?: string;
  type: 'CALLBACK' | 'EVENT';
  topic: string;
  account: string;
  conversationId?: string;
  conversationType?: '1' | '2';
  msgtype?: string;
  eventType?: string;
  /** True for a raw injection (the payload exactly as given). */
  raw?: boolean;
  injectedAt: number;
  state: InboundState;
  deliveries: { connectionId: string; at: number; redelivery: boolean }[];
  ackedAt?: number;
  ackConnectionId?: string;
  ackData?: unknown;
  payload: unknown;
}

/** One call to the gateway `/open`, as received (for conformance tests, §8.3 #1). */
export interface GatewayRequestRecord {
  at: number;
  method: string;
  headers: Record<string, string>;
  /** The raw body text. */
  body: string;
  status: number;
  clientId?: string;
  subscriptions?: Subscription[];
}

export interface PingViolation {
  at: number;
  connectionId: string;
  messageId: string;
  reason: 'timeout' | 'mismatch';
}

/** Counters; `pushes` counts every CALLBACK/EVENT frame sent, `redeliveries` the repeats among them. */
export interface SimulatorStats {
  gatewayOpens: number;
  gatewayRejected: number;
  handshakesAccepted: number;
  handshakesRejected: number;
  connectionsOpen: number;
  connectionsClosed: number;
  injected: number;
  pushes: number;
  redeliveries: number;
  queued: number;
  dropped: number;
  gaveUp: number;
  acks: number;
  unmatchedAcks: number;
  malformedUpstream: number;
  pingsSent: number;
  pingViolations: number;
  disconnectsSent: number;
  webhookSends: number;
  webhookErrors: number;
  /** Webhook sends whose at block names ids the text does not @-mention. */
  mentionMismatches: number;
  openapiCalls: number;
  openapiErrors: number;
  qpsRejections: number;
  tokensIssued: number;
  uploads: number;
  uploadErrors: number;
}

function zeroStats(): SimulatorStats {
  return {
    gatewayOpens: 0,
    gatewayRejected: 0,
    handshakesAccepted: 0,
    handshakesRejected: 0,
    connectionsOpen: 0,
    connectionsClosed: 0,
    injected: 0,
    pushes: 0,
    redeliveries: 0,
    queued: 0,
    dropped: 0,
    gaveUp: 0,
    acks: 0,
    unmatchedAcks: 0,
    malformedUpstream: 0,
    pingsSent: 0,
    pingViolations: 0,
    disconnectsSent: 0,
    webhookSends: 0,
    webhookErrors: 0,
    mentionMismatches: 0,
    openapiCalls: 0,
    openapiErrors: 0,
    qpsRejections: 0,
    tokensIssued: 0,
    uploads: 0,
    uploadErrors: 0,
  };
}

// Bounds for the logs that can grow with traffic (the outbox is kept whole: tests read it all).
const MAX_ACKS = 10_000;
const MAX_INBOUND = 10_000;
const MAX_GATEWAY = 500;
const MAX_VIOLATIONS = 1_000;
const MAX_UPLOADS = 1_000;

interface Waiter {
  check(): boolean;
  fail(err: Error): void;
}

export class Ledger {
  readonly outbox: OutboxEntry[] = [];
  readonly uploads: UploadRecord[] = [];
  readonly acks: AckRecord[] = [];
  readonly inbound: InboundRecord[] = [];
  readonly gatewayRequests: GatewayRequestRecord[] = [];
  readonly pingViolations: PingViolation[] = [];
  readonly stats: SimulatorStats = zeroStats();
  /** Reported outcomes by messageId (bounded like the inbound log). */
  readonly outcomes = new Map<string, OutcomeRecord>();
  private readonly listeners = new Set<() => void>();
  private outboxSeq = 0;
  private ackSeq = 0;
  private uploadSeq = 0;
  private readonly waiters = new Set<Waiter>();
  private closed = false;

  recordOutbox(entry: Omit<OutboxEntry, 'seq' | 'msgId'>): OutboxEntry {
    const full = { seq: ++this.outboxSeq, msgId: mintMsgId(), ...entry };
    this.outbox.push(full);
    this.changed();
    return full;
  }

  recordUpload(record: Omit<UploadRecord, 'seq'>): UploadRecord {
    const full = { seq: ++this.uploadSeq, ...record };
    pushBounded(this.uploads, full, MAX_UPLOADS);
    this.stats.uploads += 1;
    this.changed();
    return full;
  }

  recordAck(record: Omit<AckRecord, 'seq'>): AckRecord {
    const full = { seq: ++this.ackSeq, ...record };
    pushBounded(this.acks, full, MAX_ACKS);
    this.stats.acks += 1;
    if (!full.matched) this.stats.unmatchedAcks += 1;
    this.changed();
    return full;
  }

  recordInbound(record: InboundRecord): void {
    pushBounded(this.inbound, record, MAX_INBOUND);
    this.stats.injected += 1;
    this.changed();
  }

  recordGateway(record: GatewayRequestRecord): void {
    pushBounded(this.gatewayRequests, record, MAX_GATEWAY);
    this.changed();
  }

  recordPingViolation(violation: PingViolation): void {
    pushBounded(this.pingViolations, violation, MAX_VIOLATIONS);
    this.stats.pingViolations += 1;
    this.changed();
  }

  /**
   * Keeps the channel's outcome of a message. A `duplicate` (a redelivery the channel had
   * already handled) never hides the first attempt's handled/dropped outcome.
   */
  recordOutcome(outcome: OutcomeRecord): void {
    const known = this.outcomes.get(outcome.messageId);
    if (known && known.status !== 'duplicate' && outcome.status === 'duplicate') return;
    this.outcomes.delete(outcome.messageId);
    this.outcomes.set(outcome.messageId, outcome);
    if (this.outcomes.size > MAX_INBOUND) {
      const oldest = this.outcomes.keys().next().value;
      if (oldest !== undefined) this.outcomes.delete(oldest);
    }
    this.changed();
  }

  /** Calls `listener` after every change until the returned function is called. */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Outbox entries with `seq` greater than `since`. */
  outboxSince(since = 0): OutboxEntry[] {
    return this.outbox.filter((e) => e.seq > since);
  }

  /** Wakes the waiters; call after any state change a test might wait for. */
  changed(): void {
    for (const waiter of [...this.waiters]) waiter.check();
    for (const listener of this.listeners) listener();
  }

  /**
   * Resolves with the first non-undefined result of `probe`, re-checked on every change.
   * Rejects after `timeoutMs` with `describe()` in the message, or when the simulator closes.
   */
  waitFor<T>(probe: () => T | undefined, timeoutMs: number, describe: () => string): Promise<T> {
    const first = probe();
    if (first !== undefined) return Promise.resolve(first);
    if (this.closed) return Promise.reject(new Error('simulator is closed'));
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter = {
        check: () => {
          const value = probe();
          if (value === undefined) return false;
          this.waiters.delete(waiter);
          clearTimeout(timer);
          resolve(value);
          return true;
        },
        fail: (err) => {
          this.waiters.delete(waiter);
          clearTimeout(timer);
          reject(err);
        },
      };
      const timer = setTimeout(
        () => waiter.fail(new Error(`timed out after ${timeoutMs} ms waiting for ${describe()}`)),
        timeoutMs,
      );
      this.waiters.add(waiter);
    });
  }

  /** Rejects every pending waiter; later waits reject at once. */
  close(): void {
    this.closed = true;
    this.listeners.clear();
    for (const waiter of [...this.waiters]) waiter.fail(new Error('simulator closed'));
  }
}

function pushBounded<T>(list: T[], item: T, max: number): void {
  list.push(item);
  if (list.length > max) list.splice(0, list.length - max);
}
