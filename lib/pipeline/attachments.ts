/**
 * Outbound attachments (issue 16): an answer's images and files are fetched (a URL, with a byte
 * cap and a timeout, never unbounded) or decoded (base64), checked against DingTalk's limits,
 * uploaded through `media/upload` (lib/dingtalk/media-upload.ts) and kept as media ids. That
 * happens BEFORE the reply is stored: the claim then stores media ids only (a few hundred
 * bytes, never the bytes), so a retry resumes the sends without fetching or asking the agent
 * again, and media ids do not expire.
 *
 * One attachment is handled at a time, so a reply holds at most one file's bytes (≤ 20 MB) in
 * memory. An attachment that cannot be sent costs only itself: it becomes a short note for the
 * user ("(file report.pdf could not be sent: larger than 20 MB)") and a log line with the reason;
 * the rest of the reply goes out.
 *
 * Markdown image links in the text (`![alt](https://…)`) are NOT fetched or uploaded: DingTalk
 * markdown renders images from URLs itself (dingtalk-protocol.md §5 "Markdown subset"), which
 * costs no paid call and keeps the image where the text puts it.
 */
import { cleanName, type ParsedAttachment, type ReplyAttachment } from '../agent/attachments.js';
import { type DingTalkApi, readBounded } from '../dingtalk/api.js';
import { extensionOf, MEDIA_FORMATS, MEDIA_MAX_BYTES } from '../dingtalk/media-upload.js';
import { ChannelError, DingTalkApiError, errorSummary } from '../errors.js';
import type { Logger } from '../log.js';

/** An uploaded attachment, as the claim stores it and the sends use it. */
export interface StoredAttachment {
  type: 'image' | 'file';
  name: string;
  mediaId: string;
  /** `sampleFile.fileType`: the name's extension. */
  fileType: string;
  size: number;
}

/** Attachments of one reply, at most (DingTalk counts every message against the bot's rate). */
export const MAX_ATTACHMENTS = 10;
/** Bound of one attachment URL fetch. */
export const ATTACHMENT_FETCH_TIMEOUT_MS = 20_000;

export interface PreparedAttachments {
  ready: StoredAttachment[];
  /** One short line per attachment that could not be sent, for the user. */
  notes: string[];
}

export interface PrepareDeps {
  api: DingTalkApi;
  signal: AbortSignal;
  logger: Logger;
  /** False where a file has no route (a DM whose sender has no staffId for the OpenAPI). */
  canSendFiles?: boolean;
  fetch?: typeof fetch;
}

/** Why one attachment could not be sent (the text after "could not be sent: "). */
class Unsendable extends Error {}

/** Fetches, checks and uploads `items` in order; never throws for one bad attachment. */
export async function prepareAttachments(
  items: readonly ParsedAttachment[],
  deps: PrepareDeps,
): Promise<PreparedAttachments> {
  const ready: StoredAttachment[] = [];
  const notes: string[] = [];
  for (const [index, item] of items.slice(0, MAX_ATTACHMENTS).entries()) {
    const label = labelOf(item, index);
    try {
      if ('invalid' in item) throw new Unsendable(item.invalid);
      // Out of time: the text still goes out, with a note for each attachment left.
      if (deps.signal.aborted) throw new Unsendable('no time was left to upload it');
      ready.push(await prepareOne(item, deps));
    } catch (err) {
      const unsendable = err instanceof Unsendable || deps.signal.aborted;
      if (!unsendable && !isAttachmentFailure(err)) throw err;
      const reason = unsendable
        ? err instanceof Unsendable
          ? err.message
          : 'no time was left to upload it'
        : reasonOf(err);
      deps.logger.warn('reply.attachment_failed', {
        attachment: index,
        type: 'type' in item ? item.type : undefined,
        reason,
        ...(err instanceof Unsendable ? {} : { error: errorSummary(err) }),
      });
      notes.push(`(${label} could not be sent: ${reason})`);
    }
  }
  const left = items.length - MAX_ATTACHMENTS;
  if (left > 0) {
    deps.logger.warn('reply.attachments_capped', { items: items.length, max: MAX_ATTACHMENTS });
    notes.push(
      `(${left} more attachment${left === 1 ? '' : 's'} not sent: at most ${MAX_ATTACHMENTS} per reply)`,
    );
  }
  return { ready, notes };
}

/** The reply text with the notes of unsent attachments as its last paragraph. */
export function withAttachmentNotes(text: string, notes: readonly string[]): string {
  if (notes.length === 0) return text;
  const body = text.trim();
  // Each note its own paragraph: DingTalk markdown would glue single lines together.
  const lines = notes.join('\n\n');
  return body === '' || body === 'NO_REPLY' ? lines : `${body}\n\n${lines}`;
}

async function prepareOne(item: ReplyAttachment, deps: PrepareDeps): Promise<StoredAttachment> {
  if (item.type === 'file' && deps.canSendFiles === false)
    throw new Unsendable('files cannot be sent in this conversation');
  const max = MEDIA_MAX_BYTES[item.type];
  const { bytes, mimeType } = await bytesOf(item, max, deps);
  if (bytes.length > max) throw new Unsendable(`larger than ${max / (1024 * 1024)} MB`);
  if (bytes.length === 0) throw new Unsendable('it is empty');
  const name = nameOf(item, mimeType);
  const fileType = extensionOf(name);
  if (item.type === 'image' && !MEDIA_FORMATS.image.includes(fileType))
    throw new Unsendable('DingTalk shows jpg, gif, png or bmp images only');
  const upload = { type: item.type, bytes, fileName: name, ...(mimeType ? { mimeType } : {}) };
  let mediaId: string;
  try {
    mediaId = await deps.api.uploadMedia(upload, deps.signal);
  } catch (err) {
    // One more try for a busy server or a lost answer (an upload is invisible to the user).
    if (!(err instanceof ChannelError) || !err.retryable || deps.signal.aborted) throw err;
    mediaId = await deps.api.uploadMedia(upload, deps.signal);
  }
  return { type: item.type, name, mediaId, fileType: fileType || 'file', size: bytes.length };
}

async function bytesOf(
  item: ReplyAttachment,
  maxBytes: number,
  deps: PrepareDeps,
): Promise<{ bytes: Buffer; mimeType?: string }> {
  if ('bytes' in item.source) {
    return { bytes: item.source.bytes, ...(item.mimeType ? { mimeType: item.mimeType } : {}) };
  }
  const signal = AbortSignal.any([deps.signal, AbortSignal.timeout(ATTACHMENT_FETCH_TIMEOUT_MS)]);
  let response: Response;
  try {
    response = await (deps.fetch ?? fetch)(item.source.url, { signal, redirect: 'follow' });
  } catch (err) {
    if (deps.signal.aborted) throw err;
    throw new Unsendable(
      isTimeout(err) ? 'fetching it took too long' : 'it could not be fetched (no answer)',
    );
  }
  if (!response.ok) {
    await response.body?.cancel().catch(() => undefined);
    throw new Unsendable(`it could not be fetched (HTTP ${response.status})`);
  }
  let bytes: Buffer;
  try {
    bytes = await readBounded(response, maxBytes);
  } catch (err) {
    if (err instanceof ChannelError && err.code === 'media_too_large')
      throw new Unsendable(`larger than ${maxBytes / (1024 * 1024)} MB`);
    if (deps.signal.aborted) throw err;
    throw new Unsendable(
      isTimeout(err) ? 'fetching it took too long' : 'it could not be fetched (broken off)',
    );
  }
  const declared = response.headers.get('content-type')?.split(';')[0]?.trim();
  const mimeType = item.mimeType ?? (declared || undefined);
  return { bytes, ...(mimeType ? { mimeType } : {}) };
}

function isTimeout(err: unknown): boolean {
  return err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
}

/** Upload failures that end this attachment only: DingTalk's answer, or no answer twice. */
function isAttachmentFailure(err: unknown): boolean {
  return err instanceof ChannelError && err.code !== 'dedup_claim_lost';
}

function reasonOf(err: unknown): string {
  if (err instanceof DingTalkApiError) {
    if (err.code === '40006') return 'DingTalk refused its size';
    if (err.code === '40004' || err.code === '40005') return 'DingTalk refused the file type';
    return `DingTalk refused the upload (${err.code})`;
  }
  if (err instanceof ChannelError && err.code === 'media_too_large')
    return 'larger than DingTalk takes';
  return 'the upload to DingTalk failed';
}

const EXTENSION_BY_MIME: Record<string, string> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/jpg': 'jpg',
  'image/gif': 'gif',
  'image/bmp': 'bmp',
  'image/webp': 'webp',
  'image/svg+xml': 'svg',
  'application/pdf': 'pdf',
  'application/zip': 'zip',
  'text/plain': 'txt',
  'text/csv': 'csv',
  'application/json': 'json',
  'application/msword': 'doc',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'docx',
  'application/vnd.ms-excel': 'xls',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'xlsx',
  'application/vnd.ms-powerpoint': 'ppt',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation': 'pptx',
};

/**
 * The upload's file name: the given name, else the URL's last path segment, else the type; an
 * extension is added from the MIME type when the name has none (DingTalk checks formats by it).
 */
function nameOf(item: ReplyAttachment, mimeType: string | undefined): string {
  const fromUrl = 'url' in item.source ? urlFileName(item.source.url) : undefined;
  const base = item.name ?? fromUrl ?? item.type;
  if (extensionOf(base)) return base;
  const ext = mimeType ? EXTENSION_BY_MIME[mimeType.toLowerCase()] : undefined;
  return ext ? `${base}.${ext}` : base;
}

function urlFileName(url: string): string | undefined {
  try {
    const last = new URL(url).pathname.split('/').pop() ?? '';
    const name = cleanName(decodeURIComponent(last));
    return name || undefined;
  } catch {
    return undefined;
  }
}

function labelOf(item: ParsedAttachment, index: number): string {
  const type = 'type' in item && item.type ? item.type : 'attachment';
  const name = item.name ?? ('source' in item ? nameOf(item, item.mimeType) : undefined);
  return name && name !== type ? `${type} ${name}` : `${type} ${index + 1}`;
}
