/**
 * The live feed behind the chat page (`GET /__sim/stream`, server-sent events). Every recorded
 * change (inject, delivery, redelivery, ACK, reported outcome, outbox entry, connection) wakes
 * the ledger; the feed then sends what changed since the last look as one SSE event per item:
 *   event: message     a pushed robot message with its delivery history and outcome
 *   event: reply       one outbox entry (what the bot sent)
 *   event: connections the stream connections (state per connection)
 *   event: card        an AI card's summary (card-view.ts) when it is created, updated or closed
 * A new client first gets every current item, then `event: ready`. A card streaming many
 * updates costs one event per card per flush (the card book names the changed cards; a burst
 * within one turn of the event loop is sent once, as the card then stands). Nothing is computed while
 * no client listens, so tests and benchmarks that never open the page pay nothing.
 */
import type { ServerResponse } from 'node:http';
import { cardView } from './card-view.js';
import type { CardBook } from './cards.js';
import type { ConnectionRegistry } from './connections.js';
import type { InboundRecord, Ledger, OutboxEntry, OutcomeRecord } from './ledger.js';

/** A robot message as the chat page shows it. */
export interface MessageView {
  messageId: string;
  msgId?: string;
  account: string;
  conversationId?: string;
  conversationType?: '1' | '2';
  conversationTitle?: string;
  senderStaffId?: string;
  senderNick?: string;
  msgtype?: string;
  text?: string;
  atBot: boolean;
  atStaffIds: string[];
  injectedAt: number;
  state: InboundRecord['state'];
  deliveries: number;
  redeliveries: number;
  ackedAt?: number;
  outcome?: Omit<OutcomeRecord, 'messageId'>;
}

/** An outbox entry as the chat page shows it (the raw request body is left out). */
export type ReplyView = Omit<OutboxEntry, 'raw'>;

const HEARTBEAT_MS = 15_000;

/** The page's view of one inbound record and its reported outcome. */
export function messageView(record: InboundRecord, outcome?: OutcomeRecord): MessageView {
  const payload = (record.payload ?? {}) as Record<string, unknown>;
  const text = (payload.text as { content?: unknown } | undefined)?.content;
  const atUsers = Array.isArray(payload.atUsers)
    ? (payload.atUsers as { staffId?: unknown }[])
    : [];
  const view: MessageView = {
    messageId: record.messageId,
    account: record.account,
    atBot: payload.isInAtList === true,
    atStaffIds: atUsers.flatMap((u) => (typeof u.staffId === 'string' ? [u.staffId] : [])),
    injectedAt: record.injectedAt,
    state: record.state,
    deliveries: record.deliveries.length,
    redeliveries: record.deliveries.filter((d) => d.redelivery).length,
  };
  const strings = {
    msgId: record.msgId,
    conversationId: record.conversationId,
    conversationTitle: payload.conversationTitle,
    senderStaffId: payload.senderStaffId,
    senderNick: payload.senderNick,
    msgtype: record.msgtype ?? record.eventType,
    text,
  };
  for (const [key, value] of Object.entries(strings)) {
    if (typeof value === 'string') Object.assign(view, { [key]: value });
  }
  if (record.conversationType) view.conversationType = record.conversationType;
  if (record.ackedAt !== undefined) view.ackedAt = record.ackedAt;
  if (outcome) {
    const { messageId: _id, ...rest } = outcome;
    view.outcome = rest;
  }
  return view;
}

function replyView(entry: OutboxEntry): ReplyView {
  const { raw: _raw, ...rest } = entry;
  return rest;
}

function sse(res: ServerResponse, event: string, data: unknown): void {
  res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

/** Fans the ledger's changes out to the connected chat pages. */
export class ChatFeed {
  private readonly clients = new Set<ServerResponse>();
  /** What each message looked like when last sent, to send only the changed ones. */
  private readonly sent = new Map<string, string>();
  private lastOutboxSeq = 0;
  private lastConnections = '';
  /** Cards changed since the last flush (outTrackIds, filled by the card book's observer). */
  private readonly dirtyCards = new Set<string>();
  private unobserveCards: (() => void) | undefined;
  private scheduled = false;
  private unsubscribe: (() => void) | undefined;
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(
    private readonly ledger: Ledger,
    private readonly connections: ConnectionRegistry,
    private readonly cards?: CardBook,
  ) {}

  /** Turns `res` into an event stream: the current state first, then every change. */
  attach(res: ServerResponse): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
    });
    for (const record of this.ledger.inbound) {
      sse(res, 'message', messageView(record, this.ledger.outcomes.get(record.messageId)));
    }
    for (const entry of this.ledger.outbox) sse(res, 'reply', replyView(entry));
    for (const card of this.cards?.all() ?? []) sse(res, 'card', cardView(card));
    sse(res, 'connections', this.connectionList());
    sse(res, 'ready', {});
    if (this.clients.size === 0) this.start();
    this.clients.add(res);
    res.on('close', () => {
      this.clients.delete(res);
      if (this.clients.size === 0) this.stop();
    });
  }

  /** Ends every stream (the simulator is closing). */
  close(): void {
    for (const res of this.clients) res.end();
    this.clients.clear();
    this.stop();
  }

  private start(): void {
    // The baseline: what a new first client was just sent.
    this.sent.clear();
    for (const record of this.ledger.inbound)
      this.sent.set(record.messageId, this.signature(record));
    this.lastOutboxSeq = this.ledger.outbox.at(-1)?.seq ?? 0;
    this.lastConnections = JSON.stringify(this.connectionList());
    this.unsubscribe = this.ledger.subscribe(() => this.schedule());
    this.dirtyCards.clear();
    this.unobserveCards = this.cards?.observe((id) => {
      this.dirtyCards.add(id);
      this.schedule();
    });
    this.heartbeat = setInterval(() => {
      for (const res of this.clients) res.write(': keep-alive\n\n');
    }, HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  private stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.unobserveCards?.();
    this.unobserveCards = undefined;
    this.dirtyCards.clear();
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }

  /** Coalesces a burst of changes (an inject records, delivers and logs) into one diff. */
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (this.clients.size > 0) this.flush();
    });
  }

  private flush(): void {
    const events: [string, unknown][] = [];
    for (const record of this.ledger.inbound) {
      const signature = this.signature(record);
      if (this.sent.get(record.messageId) === signature) continue;
      this.sent.set(record.messageId, signature);
      events.push(['message', messageView(record, this.ledger.outcomes.get(record.messageId))]);
    }
    for (const entry of this.ledger.outboxSince(this.lastOutboxSeq)) {
      events.push(['reply', replyView(entry)]);
      this.lastOutboxSeq = entry.seq;
    }
    // The ledger forgets its oldest messages; so does the feed (bounded memory under load).
    if (this.sent.size > this.ledger.inbound.length + 1_000) {
      const live = new Set(this.ledger.inbound.map((r) => r.messageId));
      for (const id of this.sent.keys()) if (!live.has(id)) this.sent.delete(id);
    }
    for (const id of this.dirtyCards) {
      const card = this.cards?.get(id);
      if (card) events.push(['card', cardView(card)]);
    }
    this.dirtyCards.clear();
    const connections = this.connectionList();
    const text = JSON.stringify(connections);
    if (text !== this.lastConnections) {
      this.lastConnections = text;
      events.push(['connections', connections]);
    }
    for (const res of this.clients) for (const [event, data] of events) sse(res, event, data);
  }

  private signature(record: InboundRecord): string {
    const outcome = this.ledger.outcomes.get(record.messageId);
    return `${record.state}|${record.deliveries.length}|${outcome?.status}|${outcome?.reason}`;
  }

  private connectionList() {
    return this.connections.all().map((c) => {
      const { id, account, state, openedAt, closedAt } = c.info();
      return { id, account, state, openedAt, ...(closedAt ? { closedAt } : {}) };
    });
  }
}
