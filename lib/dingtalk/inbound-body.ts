/**
 * The body of a robot message per msgtype (dingtalk-protocol.md §4.2), shared by a message's
 * own content and by the message it quotes (§4.4). Every shape yields readable text or media:
 * anything that would reach the agent empty gets a placeholder instead (issue 16).
 */

import {
  assignDefined,
  clip,
  compact,
  field,
  isObject,
  type Json,
  optionalNumber,
  optionalString,
} from './inbound-fields.js';
import type { InboundMedia } from './inbound-types.js';

/** Text plus attachments of one message (or of a quoted one). */
export interface MessageBody {
  text: string;
  media: InboundMedia[];
  /** userIds of richText @ elements (`atUserId`/`userId`), when the shape carried them. */
  mentionedUserIds?: string[];
}

/** Records of a forwarded chat history passed on, and characters of each. */
const MAX_CHAT_RECORDS = 20;
const MAX_RECORD_CHARS = 500;

/**
 * The body for `msgtype`, from `content` (non-text types) and `textContent` (`text.content`).
 * richText items come as `{type, text}` in a message and `{msgType, content}` in a quote.
 */
export function messageBody(msgtype: string, content: Json, textContent: string): MessageBody {
  const body = rawBody(msgtype, content, textContent);
  if (body.text === '' && body.media.length === 0) {
    return { text: emptyPlaceholder(msgtype), media: [] };
  }
  return body;
}

function rawBody(msgtype: string, content: Json, textContent: string): MessageBody {
  switch (msgtype) {
    case 'text':
      // Group text keeps a leading space where the @Bot token was (§4.1 reception rules).
      return { text: textContent.trim(), media: [] };
    case 'richText':
      return richTextBody(field(content, 'richText'));
    case 'picture':
      return { text: '', media: compact([pictureMedia(content)]) };
    case 'audio':
      return audioBody(content);
    case 'video':
      return { text: '', media: compact([videoMedia(content)]) };
    case 'file': {
      const file = fileMedia(content);
      if (file) return { text: '', media: [file] };
      // A name without a code (seen in other bots' fixtures): say which file it was.
      const name = optionalString(content, 'fileName');
      return { text: name ? `[file: ${clip(name, 200)} (no download code)]` : '', media: [] };
    }
    case 'markdown':
      return { text: (optionalString(content, 'text') ?? '').trim(), media: [] };
    case 'chatRecord':
      return { text: chatRecordText(content), media: [] };
    case 'interactiveCard':
      return { text: cardText(content), media: [] };
    case 'unknownMsgType':
      // DingTalk's own notice ("the bot cannot receive this message"), §4.2.
      return { text: '[a message type DingTalk does not pass to bots]', media: [] };
    default:
      return { text: unsupportedPlaceholder(msgtype), media: [] };
  }
}

function emptyPlaceholder(msgtype: string): string {
  const shown = Array.from(msgtype.trim()).slice(0, 40).join('');
  if (['picture', 'audio', 'video', 'file'].includes(msgtype)) {
    return `[${shown} without a download code]`;
  }
  return `[empty ${shown} message]`;
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

/** A picture element or content; undefined without a download code. */
export function pictureMedia(content: Json): InboundMedia | undefined {
  const code = downloadCodeOf(content);
  return code === undefined ? undefined : { kind: 'picture', downloadCode: code };
}

function videoMedia(content: Json): InboundMedia | undefined {
  // Some deliveries carry the video's code as `videoDownloadCode` only.
  const code = downloadCodeOf(content) ?? optionalString(content, 'videoDownloadCode');
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
 * richText elements (§4.2): `{text}`, `{type:'text',text}`, `{type:'picture',…}`,
 * `{type:'at',atName|atUserId|userId}`; in a quote the same as `{msgType, content}` (§4.4).
 * Text and @names run inline; a picture ends the line it interrupts. Anything else is skipped.
 */
function richTextBody(elements: unknown): MessageBody {
  const lines: string[] = [''];
  const media: InboundMedia[] = [];
  const userIds = new Set<string>();
  if (!Array.isArray(elements)) return { text: '', media };
  for (const element of elements) {
    if (!isObject(element)) continue;
    const type = field(element, 'type') ?? field(element, 'msgType');
    const text = field(element, 'text') ?? stringContent(element);
    // Quoted items also come as {msgType:'emoji', content:'😀'} (SOIMY fixtures): inline text.
    if ((type === undefined || type === 'text' || type === 'emoji') && typeof text === 'string') {
      appendInline(lines, text);
    } else if (type === 'at') {
      const userId = optionalString(element, 'atUserId') ?? optionalString(element, 'userId');
      if (userId !== undefined) userIds.add(userId);
      const name =
        optionalString(element, 'atName') ??
        optionalString(element, 'atUserId') ??
        optionalString(element, 'userId') ??
        (typeof text === 'string' && text !== '' ? text.replace(/^@/, '') : undefined);
      if (name !== undefined) appendInline(lines, `@${name}`, true);
    } else if (type === 'picture') {
      const inner = field(element, 'content');
      const picture = pictureMedia(isObject(inner) ? inner : element);
      if (picture) media.push(picture);
      // A picture element may carry a caption in `text` (DTAI fixtures): keep it.
      if (typeof text === 'string' && text.trim() !== '') appendInline(lines, text);
      if (lines[lines.length - 1] !== '') lines.push('');
    }
  }
  const body: MessageBody = { text: lines.join('\n').trim(), media };
  if (userIds.size > 0) body.mentionedUserIds = [...userIds];
  return body;
}

/** The `content` of a quoted richText item when it is text. */
function stringContent(element: Json): string | undefined {
  const value = field(element, 'content');
  return typeof value === 'string' ? value : undefined;
}

function appendInline(lines: string[], piece: string, spaced = false): void {
  const last = lines.length - 1;
  const current = lines[last] ?? '';
  const needsSpace = spaced && current !== '' && !/\s$/.test(current);
  lines[last] = current + (needsSpace ? ' ' : '') + piece;
}

/**
 * A forwarded chat history (§4.2 [OBS]): `title`, `summary` and `chatRecord`, a JSON-string
 * array of records. Records are read leniently (sender name, text) and bounded.
 */
function chatRecordText(content: Json): string {
  const title = optionalString(content, 'title')?.trim();
  const summary = optionalString(content, 'summary')?.trim();
  const lines = [`[forwarded chat record${title ? `: ${clip(title, 200)}` : ''}]`];
  if (summary) lines.push(clip(summary, MAX_RECORD_CHARS));
  const records = recordsOf(field(content, 'chatRecord'));
  for (const record of records.slice(0, MAX_CHAT_RECORDS)) {
    const who =
      optionalString(record, 'senderNick') ??
      optionalString(record, 'senderName') ??
      optionalString(record, 'nick');
    const said =
      stringContent(record) ??
      optionalString(record, 'text') ??
      (field(record, 'msgType') ? `[${String(field(record, 'msgType'))}]` : undefined);
    if (said !== undefined)
      lines.push(`${who ?? 'someone'}: ${clip(said.trim(), MAX_RECORD_CHARS)}`);
  }
  if (records.length > MAX_CHAT_RECORDS) {
    lines.push(`[${records.length - MAX_CHAT_RECORDS} more records not shown]`);
  }
  return lines.join('\n');
}

function recordsOf(value: unknown): Json[] {
  let list = value;
  if (typeof value === 'string') {
    try {
      list = JSON.parse(value);
    } catch {
      return [];
    }
  }
  return Array.isArray(list) ? list.filter(isObject) : [];
}

/** A shared doc card (§4.2 [OBS] `biz_custom_action_url`): its title and link. */
function cardText(content: Json): string {
  const title = optionalString(content, 'title')?.trim();
  const url = optionalString(content, 'biz_custom_action_url');
  // Doc shares link with `dingtalk://dingtalkclient/page/yunpan?...` (SOIMY fixtures) or https.
  const link = url && /^(https?|dingtalk):\/\//.test(url) ? ` ${clip(url, 500)}` : '';
  return `[shared card${title ? `: ${clip(title, 200)}` : ''}]${link}`;
}
