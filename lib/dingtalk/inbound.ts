/**
 * Robot callback `data` → InboundMessage (dingtalk-protocol.md §4).
 *
 * Invariants (guarded by test/dingtalk/inbound.test.ts):
 * - any input either yields an InboundMessage or throws InboundParseError, nothing else
 *   ("never throws anything but its own error", property tests);
 * - the error names the field and carries messageId and raw size, never the raw content;
 * - unknown fields, unknown msgtypes and malformed richText elements are tolerated.
 */

import { type InboundMedia, type InboundMessage, InboundParseError } from './inbound-types.js';

export type { InboundMedia, InboundMediaKind, InboundMessage } from './inbound-types.js';
export { InboundParseError } from './inbound-types.js';

type Json = Record<string, unknown>;

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
  const msgtype = requiredString(payload, 'msgtype', ctx);
  const body = messageBody(msgtype, payload);
  const chatbotUserId = optionalString(payload, 'chatbotUserId');
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
    quotedText: quotedTextOf(payload),
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
// Message body per msgtype (§4.2)

interface MessageBody {
  text: string;
  media: InboundMedia[];
}

function messageBody(msgtype: string, payload: Json): MessageBody {
  const content = objectField(payload, 'content');
  switch (msgtype) {
    case 'text':
      // Group text keeps a leading space where the @Bot token was (§4.1 reception rules).
      return {
        text: (optionalString(objectField(payload, 'text'), 'content') ?? '').trim(),
        media: [],
      };
    case 'richText':
      return richTextBody(field(content, 'richText'));
    case 'picture':
      return { text: '', media: compact([pictureMedia(content)]) };
    case 'audio':
      return audioBody(content);
    case 'video':
      return { text: '', media: compact([videoMedia(content)]) };
    case 'file':
      return { text: '', media: compact([fileMedia(content)]) };
    case 'markdown':
      return { text: (optionalString(content, 'text') ?? '').trim(), media: [] };
    default:
      return { text: unsupportedPlaceholder(msgtype), media: [] };
  }
}

function unsupportedPlaceholder(msgtype: string): string {
  const shown = Array.from(msgtype.trim()).slice(0, 40).join('');
  return `[unsupported message type: ${shown}]`;
}

function audioBody(content: Json): MessageBody {
  const code = downloadCodeOf(content);
  const recognition = optionalString(content, 'recognition');
  const text = (recognition ?? '').trim();
  if (code === undefined) return { text, media: [] };
  const media: InboundMedia = { kind: 'audio', downloadCode: code };
  assignDefined(media, { recognition, duration: optionalNumber(field(content, 'duration')) });
  return { text, media: [media] };
}

function pictureMedia(content: Json): InboundMedia | undefined {
  const code = downloadCodeOf(content);
  return code === undefined ? undefined : { kind: 'picture', downloadCode: code };
}

function videoMedia(content: Json): InboundMedia | undefined {
  const code = downloadCodeOf(content);
  if (code === undefined) return undefined;
  const media: InboundMedia = { kind: 'video', downloadCode: code };
  assignDefined(media, {
    duration: optionalNumber(field(content, 'duration')),
    videoType: optionalString(content, 'videoType'),
  });
  return media;
}

function fileMedia(content: Json): InboundMedia | undefined {
  const code = downloadCodeOf(content);
  if (code === undefined) return undefined;
  const media: InboundMedia = { kind: 'file', downloadCode: code };
  assignDefined(media, { fileName: optionalString(content, 'fileName') });
  return media;
}

function downloadCodeOf(content: Json): string | undefined {
  // `downloadCode` is what the download API takes; pictures also carry `pictureDownloadCode`.
  return optionalString(content, 'downloadCode') ?? optionalString(content, 'pictureDownloadCode');
}

/**
 * richText elements: `{text}`, `{type:'text',text}`, `{type:'picture',…}`, `{type:'at',atName}`
 * (§4.2). Text and @names run inline; a picture ends the line it interrupts. Anything else
 * is skipped.
 */
function richTextBody(elements: unknown): MessageBody {
  const lines: string[] = [''];
  const media: InboundMedia[] = [];
  if (!Array.isArray(elements)) return { text: '', media };
  for (const element of elements) {
    if (!isObject(element)) continue;
    const type = field(element, 'type');
    const text = field(element, 'text');
    if ((type === undefined || type === 'text') && typeof text === 'string') {
      appendInline(lines, text);
    } else if (type === 'at') {
      const name = optionalString(element, 'atName') ?? optionalString(element, 'atUserId');
      if (name !== undefined) appendInline(lines, `@${name}`, true);
    } else if (type === 'picture') {
      const picture = pictureMedia(element);
      if (picture) media.push(picture);
      if (lines[lines.length - 1] !== '') lines.push('');
    }
  }
  return { text: lines.join('\n').trim(), media };
}

function appendInline(lines: string[], piece: string, spaced = false): void {
  const last = lines.length - 1;
  const current = lines[last] ?? '';
  const needsSpace = spaced && current !== '' && !/\s$/.test(current);
  lines[last] = current + (needsSpace ? ' ' : '') + piece;
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

/** Quote-replies (§4.4): `text.repliedMsg.content.text`, or the legacy `quoteMessage.text.content`. */
function quotedTextOf(payload: Json): string | undefined {
  const text = objectField(payload, 'text');
  if (field(text, 'isReplyMsg') === true) {
    const replied = objectField(objectField(text, 'repliedMsg'), 'content');
    const quoted = optionalString(replied, 'text')?.trim();
    if (quoted) return quoted;
  }
  const legacy = optionalString(
    objectField(objectField(payload, 'quoteMessage'), 'text'),
    'content',
  );
  return legacy?.trim() || undefined;
}

// ---------------------------------------------------------------------------------------------
// Lenient field access: own properties only, wrong types read as absent

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function field(object: Json, key: string): unknown {
  return Object.hasOwn(object, key) ? object[key] : undefined;
}

function objectField(object: Json, key: string): Json {
  const value = field(object, key);
  return isObject(value) ? value : {};
}

function optionalString(object: Json, key: string): string | undefined {
  const value = field(object, key);
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** A finite number, or a numeric string (DingTalk sends some numbers as strings, e.g. duration). */
function optionalNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(value)) return Number(value);
  return undefined;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}

function compact<T>(items: (T | undefined)[]): T[] {
  return items.filter((item): item is T => item !== undefined);
}

/** Copies only the defined values, so optional fields are absent rather than `undefined`. */
function assignDefined<T extends object>(target: T, values: Partial<T>): void {
  for (const [key, value] of Object.entries(values)) {
    if (value !== undefined) (target as Record<string, unknown>)[key] = value;
  }
}
