/**
 * Quote-replies (dingtalk-protocol.md §4.4): `text.isReplyMsg` with `text.repliedMsg`
 * `{msgType, msgId, senderId, createdAt, content}`, or the legacy `quoteMessage`
 * `{msgId, msgtype, text:{content}, senderNick, senderId}`. The quoted message becomes context
 * separate from the new text, with the same body rules as a message (inbound-body.ts).
 */
import { type MessageBody, messageBody } from './inbound-body.js';
import {
  assignDefined,
  field,
  isObject,
  type Json,
  objectField,
  optionalNumber,
  optionalString,
} from './inbound-fields.js';
import type { InboundQuote } from './inbound-types.js';

/** Quotes inside quotes are followed this deep; deeper ones are cut (a payload is untrusted). */
const MAX_QUOTE_DEPTH = 3;

/** The message's own sender: a quote of their own earlier message gets their nick. */
export interface QuotingSender {
  senderId?: string;
  senderNick?: string;
}

/** The quoted message of a payload, or undefined when it quotes nothing readable. */
export function quoteOf(
  payload: Json,
  chatbotUserId: string | undefined,
  self: QuotingSender = {},
): InboundQuote | undefined {
  const text = objectField(payload, 'text');
  let quote: InboundQuote | undefined;
  if (field(text, 'isReplyMsg') === true) {
    const replied = objectField(text, 'repliedMsg');
    if (Object.keys(replied).length > 0) quote = repliedQuote(replied, chatbotUserId, 1);
  }
  const legacy = objectField(payload, 'quoteMessage');
  if (!quote && Object.keys(legacy).length > 0) quote = legacyQuote(legacy, chatbotUserId);
  if (!quote && field(text, 'isReplyMsg') === true) {
    // A quote-reply whose quoted message DingTalk left out (only `originalMsgId`, SOIMY fixtures).
    quote = {
      msgtype: 'unknown',
      fromBot: false,
      text: '[a quoted message that was not included]',
      media: [],
    };
    assignDefined(quote, { msgId: optionalString(payload, 'originalMsgId') });
  }
  // DingTalk sends no nick with repliedMsg: the sender's own earlier messages get theirs.
  for (let q = quote; q; q = q.quote) {
    if (!q.senderNick && self.senderNick && q.senderId === self.senderId)
      q.senderNick = self.senderNick;
  }
  return quote;
}

function repliedQuote(replied: Json, botId: string | undefined, depth: number): InboundQuote {
  const content = objectField(replied, 'content');
  // Without msgType, a content.richText is a richText quote (older deliveries, SOIMY fixtures).
  const msgtype =
    optionalString(replied, 'msgType') ??
    optionalString(replied, 'msgtype') ??
    (Array.isArray(field(content, 'richText')) ? 'richText' : 'text');
  const senderId = optionalString(replied, 'senderId');
  const fromBot = botId !== undefined && senderId === botId;
  // The text may also sit on repliedMsg itself, and a card's link beside content (DTAI source).
  const textContent =
    optionalString(content, 'text') ??
    optionalString(content, 'content') ??
    optionalString(replied, 'text') ??
    '';
  const cardUrl = optionalString(replied, 'biz_custom_action_url');
  const body =
    cardUrl && !field(content, 'biz_custom_action_url')
      ? { ...content, biz_custom_action_url: cardUrl }
      : content;
  const quote: InboundQuote = {
    msgtype,
    fromBot,
    ...quotedBody(msgtype, body, textContent, fromBot),
  };
  assignDefined(quote, {
    msgId: optionalString(replied, 'msgId'),
    senderId,
    senderNick: optionalString(replied, 'senderNick'),
    createdAt: optionalNumber(field(replied, 'createdAt')),
  });
  const inner = nestedReplied(replied, content);
  if (inner && depth < MAX_QUOTE_DEPTH) quote.quote = repliedQuote(inner, botId, depth + 1);
  return quote;
}

/** A quote inside the quoted message, wherever the payload put it. */
function nestedReplied(replied: Json, content: Json): Json | undefined {
  for (const candidate of [field(replied, 'repliedMsg'), field(content, 'repliedMsg')]) {
    if (isObject(candidate) && Object.keys(candidate).length > 0) return candidate;
  }
  return undefined;
}

function legacyQuote(legacy: Json, botId: string | undefined): InboundQuote {
  const msgtype = optionalString(legacy, 'msgtype') ?? optionalString(legacy, 'msgType') ?? 'text';
  const senderId = optionalString(legacy, 'senderId');
  const fromBot = botId !== undefined && senderId === botId;
  const textContent = optionalString(objectField(legacy, 'text'), 'content') ?? '';
  const quote: InboundQuote = {
    msgtype,
    fromBot,
    ...quotedBody(msgtype, objectField(legacy, 'content'), textContent, fromBot),
  };
  assignDefined(quote, {
    msgId: optionalString(legacy, 'msgId'),
    senderId,
    senderNick: optionalString(legacy, 'senderNick'),
  });
  return quote;
}

function quotedBody(
  msgtype: string,
  content: Json,
  textContent: string,
  fromBot: boolean,
): MessageBody {
  // The bot's own AI/interactive card carries no readable content in the quote.
  if (
    msgtype === 'interactiveCard' &&
    fromBot &&
    !optionalString(content, 'biz_custom_action_url')
  ) {
    return { text: '[a card the bot sent earlier]', media: [] };
  }
  return messageBody(msgtype, content, textContent);
}
