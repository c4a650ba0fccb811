/**
 * Robot callback `data` → InboundMessage (dingtalk-protocol.md §4).
 *
 * Invariants (guarded by test/dingtalk/inbound.test.ts):
 * - any input either yields an InboundMessage or throws InboundParseError, nothing else
 *   ("never throws anything but its own error", property tests);
 * - the error names the field and carries messageId and raw size, never the raw content;
 * - unknown fields, unknown msgtypes and malformed richText elements are tolerated.
 */

import { messageBody } from './inbound-body.js';
import {
  assignDefined,
  describe,
  field,
  isObject,
  type Json,
  objectField,
  optionalNumber,
  optionalString,
} from './inbound-fields.js';
import { quoteOf } from './inbound-quote.js';
import { type InboundMessage, InboundParseError } from './inbound-types.js';

export type {
  InboundMedia,
  InboundMediaKind,
  InboundMessage,
  InboundQuote,
} from './inbound-types.js';
export { InboundParseError } from './inbound-types.js';

interface ParseContext {
  messageId?: string;
  msgId?: string;
  rawSize?: number;
}

/** Parses the `data` of a robot CALLBACK (JSON text or an already parsed object). */
export function parseRobotMessage(
  data: unknown,
  meta: { messageId?: string; accountId?: string } = {},
): InboundMessage {
  const ctx: ParseContext = { messageId: meta.messageId, rawSize: rawSizeOf(data) };
  const payload = toObject(data, ctx);
  const msgId = requiredId(payload, 'msgId', ctx);
  ctx.msgId = msgId; // lets the log line of a later error point at the message
  const conversationId = requiredId(payload, 'conversationId', ctx);
  const conversationType = requiredConversationType(payload, ctx);
  const sender = requiredSender(payload, ctx);
  const createAt = requiredTimestamp(payload, 'createAt', ctx);
  const msgtype = msgtypeOf(payload, ctx);
  const chatbotUserId = optionalString(payload, 'chatbotUserId');
  const quote = quoteOf(payload, chatbotUserId, {
    senderId: optionalString(payload, 'senderId'),
    senderNick: optionalString(payload, 'senderNick'),
  });
  const textContent = optionalString(objectField(payload, 'text'), 'content') ?? '';
  // A quote-reply with no new text: the quote carries the turn, no "empty" placeholder.
  const body =
    quote && msgtype === 'text' && textContent.trim() === ''
      ? { text: '', media: [] }
      : messageBody(msgtype, objectField(payload, 'content'), textContent);
  const message: InboundMessage = {
    msgId,
    msgtype,
    conversationType,
    conversationId,
    sender,
    text: body.text,
    media: body.media,
    isInAtList: field(payload, 'isInAtList') === true,
    atUserIds: mentionedStaffIds(field(payload, 'atUsers'), chatbotUserId),
    createAt,
  };
  const webhook = sessionWebhookOf(payload);
  assignDefined(message, {
    accountId: meta.accountId,
    messageId: meta.messageId,
    conversationTitle: optionalString(payload, 'conversationTitle'),
    quote,
    mentionedUserIds: 'mentionedUserIds' in body ? body.mentionedUserIds : undefined,
    sessionWebhook: webhook.url,
    ignored: webhook.ignored,
    sessionWebhookExpiredTime: optionalNumber(field(payload, 'sessionWebhookExpiredTime')),
    robotCode: optionalString(payload, 'robotCode'),
    chatbotUserId,
  });
  return message;
}

// ---------------------------------------------------------------------------------------------
// Envelope and required fields

function rawSizeOf(data: unknown): number | undefined {
  if (typeof data === 'string') return Buffer.byteLength(data, 'utf8');
  try {
    const text = JSON.stringify(data);
    return typeof text === 'string' ? Buffer.byteLength(text, 'utf8') : undefined;
  } catch {
    return undefined; // BigInt or cycles: size unknown, still a parse error below if invalid
  }
}

function toObject(data: unknown, ctx: ParseContext): Json {
  let value = data;
  if (typeof data === 'string') {
    try {
      value = JSON.parse(data);
    } catch {
      // The SyntaxError quotes the raw text, so it is deliberately not kept as the cause.
      throw new InboundParseError('data', 'is not valid JSON', ctx);
    }
  }
  if (!isObject(value)) {
    throw new InboundParseError('data', `must be a JSON object, got ${describe(value)}`, ctx);
  }
  return value;
}

/** `msgtype`; a payload without one is a text message (seen in other bots' recorded payloads). */
function msgtypeOf(payload: Json, ctx: ParseContext): string {
  if (field(payload, 'msgtype') === undefined || field(payload, 'msgtype') === null) return 'text';
  return requiredString(payload, 'msgtype', ctx);
}

function requiredString(payload: Json, key: string, ctx: ParseContext): string {
  const value = field(payload, key);
  if (typeof value === 'string' && value.trim() !== '') return value;
  const problem = value === undefined ? 'is missing' : `must be a non-empty string`;
  throw new InboundParseError(key, problem, ctx);
}

/**
 * Ids become parts of state keys (DynamoDB's sort key holds at most 1,024 bytes, Tablestore's
 * primary key column 1 KB) and of DingTalk API calls. DingTalk's own ids are 20–60 characters;
 * anything longer than this cannot be one, and retrying it could never succeed.
 */
export const MAX_ID_BYTES = 256;

function requiredId(payload: Json, key: string, ctx: ParseContext): string {
  const value = requiredString(payload, key, ctx);
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes > MAX_ID_BYTES) {
    throw new InboundParseError(key, `is ${bytes} bytes long (at most ${MAX_ID_BYTES})`, ctx);
  }
  return value;
}

/** The session webhook, when it is an http(s) URL; anything else is ignored (the OpenAPI answers). */
function sessionWebhookOf(payload: Json): { url?: string; ignored?: string[] } {
  const value = optionalString(payload, 'sessionWebhook');
  if (value === undefined) return {};
  try {
    const url = new URL(value);
    if (url.protocol === 'https:' || url.protocol === 'http:') return { url: value };
  } catch {
    // not a URL: fall through
  }
  return { ignored: ['sessionWebhook'] };
}

function requiredConversationType(payload: Json, ctx: ParseContext): 'dm' | 'group' {
  // A string on the wire ("1" DM, "2" group, §4.1); numbers are accepted for leniency.
  const value = field(payload, 'conversationType');
  if (value === '1' || value === 1) return 'dm';
  if (value === '2' || value === 2) return 'group';
  const problem = value === undefined ? 'is missing' : 'must be "1" (DM) or "2" (group)';
  throw new InboundParseError('conversationType', problem, ctx);
}

/** Milliseconds since 1970 with at most 13 digits (until the year 2286). */
const MAX_TIMESTAMP_MS = 9_999_999_999_999;

function requiredTimestamp(payload: Json, key: string, ctx: ParseContext): number {
  const value = optionalNumber(field(payload, key));
  if (value !== undefined && Number.isInteger(value) && value > 0 && value <= MAX_TIMESTAMP_MS)
    return value;
  const problem =
    field(payload, key) === undefined
      ? 'is missing'
      : 'must be a whole number of milliseconds since 1970 (1 to 13 digits)';
  throw new InboundParseError(key, problem, ctx);
}

function requiredSender(payload: Json, ctx: ParseContext): InboundMessage['sender'] {
  // senderStaffId is the org userId; senderId (encrypted) only when it is absent (§4.1).
  const staffId = optionalString(payload, 'senderStaffId');
  const id = staffId ?? optionalString(payload, 'senderId');
  if (id === undefined) {
    throw new InboundParseError('senderStaffId', 'and `senderId` are both missing', ctx);
  }
  const bytes = Buffer.byteLength(id, 'utf8');
  if (bytes > MAX_ID_BYTES) {
    const key = staffId ? 'senderStaffId' : 'senderId';
    throw new InboundParseError(key, `is ${bytes} bytes long (at most ${MAX_ID_BYTES})`, ctx);
  }
  const sender: InboundMessage['sender'] = { id };
  assignDefined(sender, {
    staffId,
    nick: optionalString(payload, 'senderNick'),
    corpId: optionalString(payload, 'senderCorpId'),
  });
  return sender;
}

// ---------------------------------------------------------------------------------------------
// Mentions and quotes

function mentionedStaffIds(atUsers: unknown, chatbotUserId: string | undefined): string[] {
  if (!Array.isArray(atUsers)) return [];
  const ids = new Set<string>();
  for (const user of atUsers) {
    if (!isObject(user)) continue;
    // atUsers includes the bot itself (dingtalkId == chatbotUserId, §4.1).
    if (chatbotUserId !== undefined && field(user, 'dingtalkId') === chatbotUserId) continue;
    const staffId = optionalString(user, 'staffId');
    if (staffId !== undefined) ids.add(staffId);
  }
  return [...ids];
}
