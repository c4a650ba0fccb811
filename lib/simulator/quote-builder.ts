/**
 * The `quote` option of a message injection: a quote-reply of an earlier injected message, of a
 * message the bot sent (outbox) or of one of its AI cards, in the shape DingTalk delivers
 * (dingtalk-protocol.md §4.4): `text.isReplyMsg` + `text.repliedMsg {msgType, msgId, senderId,
 * createdAt, content}`, or the legacy `quoteMessage {msgId, msgtype, text:{content}, senderNick,
 * senderId}`. Quoted richText items are `{msgType, content}` (a message's own are `{type, text}`),
 * a quoted picture item carries its `downloadCode` on the item, and a quote of the bot's AI card
 * has no `content` at all (the shapes other bots record, README "Protocol notes").
 */
import type { RobotMessagePayload } from '../dingtalk/payload.js';
import type { SimCard } from './cards.js';
import { isRecord } from './http-io.js';
import type { InboundRecord, OutboxEntry } from './ledger.js';
import type { SimApp } from './options.js';

/** What a quote can point at. */
export type QuoteTarget =
  | { kind: 'inbound'; record: InboundRecord }
  | { kind: 'outbox'; entry: OutboxEntry }
  | { kind: 'card'; card: SimCard };

/** Finds the quote's target by msgId (inbound, outbox) or outTrackId (cards). */
export function findQuoteTarget(
  id: string,
  sources: { inbound: readonly InboundRecord[]; outbox: readonly OutboxEntry[]; card?: SimCard },
): QuoteTarget | undefined {
  const record = sources.inbound.find((r) => r.msgId === id && r.type === 'CALLBACK');
  if (record) return { kind: 'inbound', record };
  const entry = sources.outbox.find((e) => e.msgId === id);
  if (entry) return { kind: 'outbox', entry };
  return sources.card ? { kind: 'card', card: sources.card } : undefined;
}

/** Quotes inside quotes the builder copies (the parser reads three). */
const MAX_NESTING = 4;

/** The `text` object of a quote-reply (new shape) quoting `target`. */
export function repliedText(
  content: string,
  target: QuoteTarget,
  app: SimApp,
): { content: string; isReplyMsg: true; repliedMsg: Record<string, unknown> } {
  return { content, isReplyMsg: true, repliedMsg: repliedMsgOf(target, app, 1) };
}

/** The legacy `quoteMessage` of `target`. */
export function legacyQuoteMessage(target: QuoteTarget, app: SimApp): Record<string, unknown> {
  const replied = repliedMsgOf(target, app, MAX_NESTING);
  const content = isRecord(replied.content) ? replied.content : {};
  const quote: Record<string, unknown> = {
    msgId: replied.msgId,
    msgtype: replied.msgType,
    senderId: replied.senderId,
  };
  if (target.kind === 'inbound') {
    const nick = (target.record.payload as RobotMessagePayload).senderNick;
    if (nick) quote.senderNick = nick;
  }
  if (replied.msgType === 'text') quote.text = { content: content.text ?? '' };
  else if (replied.content !== undefined) quote.content = replied.content;
  return quote;
}

function repliedMsgOf(target: QuoteTarget, app: SimApp, depth: number): Record<string, unknown> {
  switch (target.kind) {
    case 'card':
      // The bot's AI card: DingTalk sends its type and sender only (SOIMY fixtures).
      return {
        msgType: 'interactiveCard',
        msgId: `card:${target.card.outTrackId}`,
        senderId: app.chatbotUserId,
        createdAt: target.card.createdAt,
      };
    case 'outbox':
      return outboxReplied(target.entry, app);
    case 'inbound':
      return inboundReplied(target.record.payload as RobotMessagePayload, depth);
  }
}

function outboxReplied(entry: OutboxEntry, app: SimApp): Record<string, unknown> {
  const base = { msgId: entry.msgId, senderId: app.chatbotUserId, createdAt: entry.at };
  if (entry.msgtype === 'text') return { ...base, msgType: 'text', content: { text: entry.text } };
  if (entry.msgtype === 'markdown') {
    // A markdown reply is quoted as markdown with its text (what the user saw).
    return { ...base, msgType: 'markdown', content: { text: entry.text } };
  }
  // actionCard, feedCard, link, image, file…: the bot's card-like message without content.
  return { ...base, msgType: 'interactiveCard' };
}

function inboundReplied(payload: RobotMessagePayload, depth: number): Record<string, unknown> {
  const msgType = typeof payload.msgtype === 'string' ? payload.msgtype : 'text';
  const replied: Record<string, unknown> = {
    msgType,
    msgId: payload.msgId,
    senderId: payload.senderId,
    createdAt: payload.createAt,
    content: quotedContent(msgType, payload),
  };
  const inner = payload.text?.repliedMsg;
  if (payload.text?.isReplyMsg === true && isRecord(inner) && depth < MAX_NESTING) {
    // A quoted quote-reply carries its own quote in its content (DTAI's nested-quote reading).
    replied.content = {
      ...(replied.content as Record<string, unknown>),
      isReplyMsg: true,
      repliedMsg: inner,
    };
  }
  return replied;
}

function quotedContent(msgType: string, payload: RobotMessagePayload): Record<string, unknown> {
  const content = isRecord(payload.content) ? payload.content : {};
  switch (msgType) {
    case 'text':
      return { text: (payload.text?.content ?? '').trim() };
    case 'richText': {
      const items = Array.isArray(content.richText) ? content.richText : [];
      return { richText: items.map(quotedItem) };
    }
    case 'picture':
      return { downloadCode: content.downloadCode };
    case 'file':
      return pick(content, ['spaceId', 'fileName', 'downloadCode', 'fileId']);
    case 'audio':
      return pick(content, ['duration', 'downloadCode', 'recognition']);
    case 'video':
      return pick(content, ['duration', 'downloadCode', 'videoType']);
    default:
      return content;
  }
}

/** A message's own richText item `{type, text}` in the quoted form `{msgType, content}`. */
function quotedItem(item: unknown): unknown {
  if (!isRecord(item)) return item;
  const type = typeof item.type === 'string' ? item.type : 'text';
  if (type === 'picture') return { msgType: 'picture', downloadCode: item.downloadCode };
  if (type === 'at') return { msgType: 'text', content: `@${String(item.atName ?? '')}` };
  return { msgType: type, content: item.text };
}

function pick(object: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of keys) if (object[key] !== undefined) out[key] = object[key];
  return out;
}
