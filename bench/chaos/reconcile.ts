/**
 * Reconciliation: the simulator's inbound log against its outbox and its AI cards. Every message
 * is alone in its conversation, so a reply belongs to the message whose conversation it went to
 * (webhook and group OpenAPI sends carry the conversationId; a DM OpenAPI send names the
 * sender's staffId), and a card to the message whose `outTrackId` it has (derived from account
 * and msgId). A reply must contain the message's unique text (echo) or the short error text.
 *
 * Card mode: the card is the answer; markdown beside it may only carry what the card could not
 * hold (the rest of a long reply), so a markdown line the card shows too is an answer given
 * twice (a fallback sent although the card was delivered). A card still open at the end (not
 * finished or failed) is a card left spinning.
 */
import { outTrackIdFor } from '../../lib/dingtalk/cards.js';
import { STOPPED_NOTE } from '../../lib/pipeline/card-turn.js';
import type { InboundRecord, OutboxEntry, SimCard } from '../../lib/simulator/index.js';
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
  cards: CardFigures;
}

/** What became of the AI cards. */
export interface CardFigures {
  /** Messages planned in card mode. */
  cardMessages: number;
  created: number;
  finished: number;
  failed: number;
  /** Cards still open (spinning) when the run ended: must be 0. */
  unfinished: number;
  /** Card-mode messages answered by markdown alone (card creation refused). */
  markdownFallbacks: number;
  /** Card-mode messages whose long reply went on as markdown after the card. */
  spilledOver: number;
  /** Cards the sender stopped (Stop clicked; finished with what they showed and the note). */
  stopped: number;
  /** outTrackIds of the unfinished cards. */
  open: string[];
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
  cards?: SimCard[];
  book: FaultBook;
}): Reconciliation {
  const cards = input.cards ?? [];
  const cardOf = new Map(cards.map((c) => [c.outTrackId, c]));
  const owned = new Set<string>();
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
    cards: {
      cardMessages: input.sent.filter((m) => m.card).length,
      created: cards.length,
      finished: cards.filter((c) => c.state === 'finished').length,
      failed: cards.filter((c) => c.state === 'failed').length,
      unfinished: cards.filter((c) => c.state === 'open').length,
      markdownFallbacks: 0,
      spilledOver: 0,
      stopped: cards.filter(
        (c) => c.state === 'finished' && (c.params.msgContent ?? '').endsWith(STOPPED_NOTE),
      ).length,
      open: cards.filter((c) => c.state === 'open').map((c) => c.outTrackId),
    },
  };
  for (const m of input.sent) {
    const got = replies.get(m) ?? [];
    const card = cardOf.get(outTrackIdFor(m.accountId, m.msgId));
    if (card) owned.add(card.outTrackId);
    const shown = card?.params.msgContent ?? '';
    if (card && !shown.includes(m.token) && !isErrorReply(shown)) result.wrongText += 1;
    if (m.card && !card && got.length > 0) result.cards.markdownFallbacks += 1;
    if (card && got.length > 0) result.cards.spilledOver += 1;
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
    const repeatsCard = card ? got.some((e) => sharesALine(shown, e.text, m.token)) : false;
    if ((got.length > 0 || card) && texts.size === got.length && !repeatsCard) {
      result.answeredOnce += 1;
      if (got.some((e) => isErrorReply(e.text)) || isErrorReply(shown)) result.errorReplies += 1;
    } else if (got.length === 0 && !card) {
      result.neverAnswered += 1;
      result.lost.push(anomaly(lostReason(records.get(m.messageId), input.book, m.msgId)));
    } else {
      result.answeredTwice += 1;
      const why = repeatsCard ? 'markdown repeats what the card shows; ' : '';
      result.doubled.push(anomaly(`${why}${handlerHistory(input.book, m.msgId)}`));
    }
  }
  result.strayReplies += cards.filter((c) => !owned.has(c.outTrackId)).length;
  return result;
}

/**
 * True when a markdown line holds a whole card line that names the message or an error (a group
 * reply may add an @-mention around it; a chunk cut mid-line holds only part of one).
 */
function sharesALine(card: string, markdown: string, token: string): boolean {
  const lines = card
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.includes(token) || isErrorReply(l));
  return markdown.split('\n').some((m) => lines.some((l) => m.includes(l)));
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
