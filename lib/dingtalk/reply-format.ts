/**
 * Agent reply → the DingTalk markdown messages to send (channel-semantics.md §7).
 *
 * Order: chunk the ORIGINAL markdown first (so a code block cut across chunks is closed and
 * reopened, and each chunk converts on its own with balanced fences), then convert each chunk.
 * Conversion can lengthen a chunk (table labels, code indentation, JSON escaping), so when a
 * converted chunk overflows, the reply is chunked again with a smaller budget; a last pass
 * re-splits anything still over the character limit or a route's byte limit. `responsePrefix`
 * joins the reply before chunking, and the @mention's length is reserved from the limit.
 *
 * Every route has its own size rule (dingtalk-protocol.md §5 "Size", §6.2): the session webhook
 * takes a JSON body of at most 20,000 bytes, `groupMessages/send` a `msgParam` of at most 15,000
 * bytes (and `oToMessages/batchSend` is held to the same bound: its limit is not published).
 * A chunk is made to fit BOTH, because the route is only known while sending: the webhook can
 * expire or answer 300001 in the middle of a reply, and the remaining chunks then go out through
 * the OpenAPI unchanged (progress is counted in chunks, see lib/pipeline/dedup.ts).
 *
 * Invariants (guarded by test/dingtalk/reply-format.test.ts):
 * - empty, whitespace-only and `NO_REPLY` replies produce no message;
 * - every message's JSON webhook body is at most 20,000 UTF-8 bytes, and its OpenAPI
 *   `msgParam` at most 15,000;
 * - `responsePrefix` appears once, on the first message; in groups every message @-mentions.
 */

import {
  type ChunkMode,
  chunkText,
  codePointLength,
  DEFAULT_CHUNK_MAX_BYTES,
  utf8Length,
} from './chunk.js';
import { replyTitle, toDingTalkMarkdown } from './markdown.js';
import { mentionedIn, mentions } from './mentions.js';

/** One DingTalk markdown message of a reply. */
export interface FormattedChunk {
  title: string;
  /** DingTalk markdown body, @mention text included. */
  text: string;
  atUserIds: string[];
}

export interface ReplyFormatOptions {
  /** `textChunkLimit`, in code points. */
  limit: number;
  mode: ChunkMode;
  responsePrefix?: string;
  /** Group replies: the sender's staffId to @-mention in every message. */
  mentionStaffId?: string;
  /**
   * Group replies: further staffIds the reply @-mentions (lib/dingtalk/mentions.ts settles them
   * and puts `@<id>` in the text); each message's at block names those its own text mentions.
   */
  mentionIds?: string[];
  /** UTF-8 bytes per chunk body before the envelope; defaults to DEFAULT_CHUNK_MAX_BYTES. */
  maxBytes?: number;
}

/** The wire limit of a robot webhook body (errcode 460101 above it). */
export const WEBHOOK_BODY_MAX_BYTES = 20_000;
/** The limit of `msgParam` (a JSON string) on `groupMessages/send` (§6.2). */
export const OPENAPI_MSGPARAM_MAX_BYTES = 15_000;
/** A title is at most 20 code points; escaped as JSON each takes at most 6 bytes. */
const TITLE_RESERVE_BYTES = 20 * 6;
const NO_REPLY = 'NO_REPLY';

/** An answer that means "send nothing" (channel-semantics §7): empty, blank or `NO_REPLY`. */
export function isNoReply(text: string): boolean {
  const reply = text.trim();
  return reply === '' || reply === NO_REPLY;
}

/** The sessionWebhook / custom-robot JSON body for one formatted chunk (§5). */
export function markdownReplyBody(chunk: FormattedChunk) {
  return {
    msgtype: 'markdown' as const,
    markdown: { title: chunk.title, text: chunk.text },
    at: { atUserIds: chunk.atUserIds, isAtAll: false },
  };
}

/** Splits and converts an agent reply into DingTalk markdown messages; [] when nothing is to be sent. */
export function formatReply(text: string, options: ReplyFormatOptions): FormattedChunk[] {
  if (isNoReply(text)) return [];
  const reply = text.trim();
  const mention = mentionOf(options.mentionStaffId);
  const sender = options.mentionStaffId ? [options.mentionStaffId] : [];
  const others = (options.mentionIds ?? []).filter((id) => id !== options.mentionStaffId);
  const fitting: Fitting = {
    limit: Math.max(1, options.limit - mention.reserve),
    maxBytes: options.maxBytes ?? DEFAULT_CHUNK_MAX_BYTES,
    // Sizes are reserved as if every id were mentioned on every message (an upper bound).
    atUserIds: [...sender, ...others],
  };
  const prefix = options.responsePrefix ?? '';
  const sections = convertedSections(withPrefix(prefix, reply), prefix, options.mode, fitting);
  return sections.flatMap((section) =>
    fitBody(section.body, fitting).map((body, k) => {
      const text = mention.appendTo(body);
      // The at block names exactly the ids this message's text @-mentions (§5).
      return {
        title: k === 0 ? section.title : replyTitle(body),
        text,
        atUserIds: [...sender, ...mentionedIn(text, others)],
      };
    }),
  );
}

interface Section {
  title: string;
  body: string;
}

const MAX_CHUNK_ATTEMPTS = 4;

/**
 * Chunks the markdown and converts each chunk. Conversion lengthens text (labels, indentation,
 * escaping), so when a converted chunk overflows, the whole reply is chunked again with the
 * budget shrunk by the worst overflow; that keeps fence-aware split points, where re-splitting
 * the converted text (fitBody, the last resort) would leave small fragments.
 */
function convertedSections(
  text: string,
  prefix: string,
  mode: ChunkMode,
  fitting: Fitting,
): Section[] {
  let budget = { limit: fitting.limit, maxBytes: fitting.maxBytes };
  let sections: Section[] = [];
  for (let attempt = 0; attempt < MAX_CHUNK_ATTEMPTS; attempt++) {
    sections = chunkText(text, { ...budget, mode })
      .map((piece, k) => ({
        // The title describes the reply, not the prefix.
        title: replyTitle(
          k === 0 && prefix !== '' && piece.startsWith(prefix) ? piece.slice(prefix.length) : piece,
        ),
        body: toDingTalkMarkdown(piece),
      }))
      .filter((section) => /\S/u.test(section.body));
    const charGrowth = Math.max(1, ...sections.map((s) => codePointLength(s.body) / fitting.limit));
    const byteGrowth = Math.max(1, ...sections.map((s) => routeGrowth(s.body, fitting)));
    if (charGrowth === 1 && byteGrowth === 1) break;
    budget = {
      limit: Math.max(1, Math.floor((budget.limit / charGrowth) * SHRINK_MARGIN)),
      maxBytes: Math.max(4, Math.floor((budget.maxBytes / byteGrowth) * SHRINK_MARGIN)),
    };
  }
  return sections;
}

const SHRINK_MARGIN = 0.98;

interface Mention {
  /** Code points the mention may add. */
  reserve: number;
  appendTo(body: string): string;
}

/** DingTalk renders a mention only when `@staffId` is in the text (§5, last bullet). */
function mentionOf(staffId: string | undefined): Mention {
  if (!staffId) return { reserve: 0, appendTo: (body) => body };
  return {
    reserve: codePointLength(staffId) + 3,
    appendTo: (body) => {
      if (mentions(body, staffId)) return body; // the agent mentioned the sender itself
      const lastLine = body.slice(body.lastIndexOf('\n') + 1);
      // After a converted code line the mention would read as code; give it its own paragraph.
      return lastLine.startsWith('\u00a0') ? `${body}\n\n@${staffId}` : `${body} @${staffId}`;
    },
  };
}

/** `responsePrefix` goes before the first chunk: it is added to the reply before chunking. */
function withPrefix(prefix: string, reply: string): string {
  if (prefix === '') return reply;
  // Glued to "# Heading", "> quote", "- item", a table or a fence, the prefix would break it.
  const startsBlock = /^(#{1,6}\s|>|[-*+]\s|\d{1,9}[.)]\s|\||`{3}|~{3})/.test(reply);
  return startsBlock ? `${prefix}\n\n${reply}` : `${prefix}${reply}`;
}

interface Fitting {
  limit: number;
  maxBytes: number;
  atUserIds: string[];
}

/** Re-splits a converted body until each part fits the limit and the webhook body limit. */
function fitBody(body: string, fitting: Fitting): string[] {
  const tooLong = codePointLength(body) > fitting.limit;
  const tooBig = routeGrowth(body, fitting) > 1;
  if ((!tooLong && !tooBig) || codePointLength(body) <= 1) return [body];
  // JSON escaping ("\n", quotes, control characters) is what makes a body outgrow its UTF-8
  // size, so halve the byte budget until the escaped parts fit.
  const bytes = utf8Length(body);
  const maxBytes = tooBig
    ? Math.max(4, Math.floor(Math.min(fitting.maxBytes, bytes) / 2))
    : fitting.maxBytes;
  const parts = chunkText(body, { limit: fitting.limit, mode: 'length', maxBytes });
  if (parts.length === 1 && parts[0] === body) return [body];
  return parts.flatMap((part) => fitBody(part, fitting));
}

/** How far `body` overflows the tighter of the two routes' byte limits (≤ 1 = it fits both). */
function routeGrowth(body: string, fitting: Fitting): number {
  const text = body + fitting.atUserIds.map((id) => `\n\n@${id}`).join('');
  const webhook = markdownReplyBody({ title: '', text, atUserIds: fitting.atUserIds });
  const webhookBytes = utf8Length(JSON.stringify(webhook)) + TITLE_RESERVE_BYTES;
  const paramBytes = utf8Length(JSON.stringify({ title: '', text })) + TITLE_RESERVE_BYTES;
  return Math.max(webhookBytes / WEBHOOK_BODY_MAX_BYTES, paramBytes / OPENAPI_MSGPARAM_MAX_BYTES);
}
