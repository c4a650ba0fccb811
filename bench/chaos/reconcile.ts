/**
 * Reconciliation: the simulator's inbound log against its outbox. Every message is alone in its
 * conversation, so a reply belongs to the message whose conversation it went to (webhook and
 * group OpenAPI sends carry the conversationId; a DM OpenAPI send names the sender's staffId).
 * A reply must also contain the message's unique text (echo) or be the agent's short error text.
 */
import type { InboundRecord, OutboxEntry } from '../../lib/simulator/index.js';
import type { MessageFault } from './options.js';
import type { SentMessage, SentPoison } from './traffic.js';
import type { FaultBook } from './wrappers.js';

/** A message that was not answered exactly once, with what is known about why. */
export interface Anomaly {
  index: number;
  token: string;
  msgId: string;
  accountId: string;
  conversation: 'dm' | 'group';
  fault?: MessageFault;
  replies: number;
  via: string[];
  reason: string;
}

export interface Reconciliation {
  sent: number;
  answeredOnce: number;
  answeredTwice: number;
  neverAnswered: number;
  /** Answered (once) with the agent's short error message. */
  errorReplies: number;
  lost: Anomaly[];
  doubled: Anomaly[];
  /** Outbox entries no sent message explains. */
  strayReplies: number;
  /** Replies in the right conversation with text that is neither the echo nor the error. */
  wrongText: number;
  poison: { sent: number; acked: number };
}

/** The short texts a sender gets instead of an answer (agent failure, final failure, input bound). */
const ERROR_REPLIES = [
  'Sorry, the agent',
  'Sorry, this message could not',
  'Your message is too long',
];
const isErrorReply = (text: string) => ERROR_REPLIES.some((e) => text.includes(e));

export function reconcile(input: {
  sent: SentMessage[];
  poison: SentPoison[];
  inbound: InboundRecord[];
  outbox: OutboxEntry[];
  book: FaultBook;
}): Reconciliation {
  const byConversation = new Map<string, SentMessage>();
  const byStaffId = new Map<string, SentMessage>();
  for (const m of input.sent) {
    byConversation.set(`${m.accountId}|${m.conversationId}`, m);
    if (m.conversation === 'dm') byStaffId.set(`${m.accountId}|${m.staffId}`, m);
  }
  const replies = new Map<SentMessage, OutboxEntry[]>();
  let strayReplies = 0;
  let wrongText = 0;
  for (const entry of input.outbox) {
    const owner = entry.conversationId
      ? byConversation.get(`${entry.account}|${entry.conversationId}`)
      : byStaffId.get(`${entry.account}|${entry.userIds?.[0] ?? ''}`);
    if (!owner) {
      strayReplies += 1;
      continue;
    }
    if (!entry.text.includes(owner.token) && !isErrorReply(entry.text)) wrongText += 1;
    replies.set(owner, [...(replies.get(owner) ?? []), entry]);
  }
  const records = new Map(input.inbound.map((r) => [r.messageId, r]));
  const result: Reconciliation = {
    sent: input.sent.length,
    answeredOnce: 0,
    answeredTwice: 0,
    neverAnswered: 0,
    errorReplies: 0,
    lost: [],
    doubled: [],
    strayReplies,
    wrongText,
    poison: {
      sent: input.poison.length,
      acked: input.poison.filter((p) => records.get(p.messageId)?.state === 'acked').length,
    },
  };
  for (const m of input.sent) {
    const got = replies.get(m) ?? [];
    const anomaly = (reason: string): Anomaly => ({
      index: m.index,
      token: m.token,
      msgId: m.msgId,
      accountId: m.accountId,
      conversation: m.conversation,
      ...(m.fault ? { fault: m.fault } : {}),
      replies: got.length,
      via: got.map((e) => e.via),
      reason,
    });
    // A long reply is several messages (chunks); answered twice means some text arrived twice.
    const texts = new Set(got.map((e) => e.text));
    if (got.length > 0 && texts.size === got.length) {
      result.answeredOnce += 1;
      if (got.some((e) => isErrorReply(e.text))) result.errorReplies += 1;
    } else if (got.length === 0) {
      result.neverAnswered += 1;
      result.lost.push(anomaly(lostReason(records.get(m.messageId), input.book, m.msgId)));
    } else {
      result.answeredTwice += 1;
      result.doubled.push(anomaly(handlerHistory(input.book, m.msgId)));
    }
  }
  return result;
}

/** Why a message got no reply, from the simulator's record and the handler's attempts. */
function lostReason(record: InboundRecord | undefined, book: FaultBook, msgId: string): string {
  const history = handlerHistory(book, msgId);
  if (!record) return `no simulator record (only the last 10,000 pushes are kept); ${history}`;
  const deliveries = record.deliveries.length;
  const where =
    record.state === 'unacked'
      ? `the simulator gave up after ${deliveries} deliveries without an ACK`
      : record.state === 'acked'
        ? `ACKed after ${deliveries} deliveries, yet no reply was sent`
        : record.state === 'queued'
          ? 'never delivered: no connection took it'
          : `still ${record.state} (${deliveries} deliveries) when the run ended`;
  return `${where}; ${history}`;
}

function handlerHistory(book: FaultBook, msgId: string): string {
  const attempts = book.attempts.get(msgId);
  return attempts ? `handler attempts: ${attempts.join(' → ')}` : 'the handler never ran';
}
