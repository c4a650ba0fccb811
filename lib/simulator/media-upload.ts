/**
 * `POST /media/upload?access_token=…` on the legacy OAPI host (dingtalk-protocol.md §6.2, the
 * facts and sources in lib/dingtalk/media-upload.ts): multipart/form-data with `type` (form
 * field or query) and the file part `media`. Like every legacy endpoint it answers HTTP 200,
 * errors included, with `{errcode, errmsg}`; success adds `media_id`, `type` and `created_at`.
 *
 * Checks, in order: the access token (40014 unknown, 42001 expired [INF]), an injected
 * `upload` fault, the multipart body (40035 when it does not parse or has no `media` file),
 * `type` (40004), the file format by its name's extension (40005, the documented lists), the
 * size (40006 over the documented limit, or an empty file). A success keeps the bytes behind
 * the new media id, so later image and file messages can be checked and shown.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  extensionOf,
  MEDIA_FORMATS,
  MEDIA_MAX_BYTES,
  type UploadMediaType,
} from '../dingtalk/media-upload.js';
import type { SimContext } from './context.js';
import { header, requestUrl, sendJson } from './http-io.js';
import { mintMediaId } from './ids.js';

/** The route's body bound: the 20 MB limit plus the multipart envelope. */
export const UPLOAD_BODY_MAX_BYTES = MEDIA_MAX_BYTES.file + 64 * 1024;

const TYPES = new Set<string>(Object.keys(MEDIA_MAX_BYTES));

export async function handleMediaUpload(
  ctx: SimContext,
  req: IncomingMessage,
  res: ServerResponse,
  body: Buffer,
): Promise<void> {
  const { stats } = ctx.ledger;
  const answer = (errcode: number, errmsg: string, extra: Record<string, unknown> = {}) => {
    if (errcode !== 0) stats.uploadErrors += 1;
    ctx.ledger.changed();
    sendJson(res, 200, { errcode, errmsg, ...extra });
  };
  const query = requestUrl(req).searchParams;
  const check = ctx.tokens.check(query.get('access_token') ?? '');
  if (!check.ok) {
    if (check.reason === 'expired') answer(42001, 'access_token超时');
    else answer(40014, '不合法的access_token');
    return;
  }
  const fault = ctx.faults.upload.take();
  if (fault?.status !== undefined) {
    stats.uploadErrors += 1;
    sendJson(res, fault.status, { message: 'simulated upload fault' });
    return;
  }
  if (fault) {
    answer(fault.errcode ?? -1, fault.errmsg ?? UPLOAD_ERRMSG[fault.errcode ?? -1] ?? 'fault');
    return;
  }
  const form = await parseForm(header(req, 'content-type'), body);
  if (!form) {
    answer(40035, '不合法的参数: the body is not multipart/form-data');
    return;
  }
  const media = form.get('media');
  if (!(media instanceof File)) {
    answer(40035, '不合法的参数: no file part `media`');
    return;
  }
  const field = form.get('type');
  const type = typeof field === 'string' && field !== '' ? field : query.get('type');
  if (!type || !TYPES.has(type)) {
    answer(40004, UPLOAD_ERRMSG[40004]!);
    return;
  }
  const kind = type as UploadMediaType;
  if (!MEDIA_FORMATS[kind].includes(extensionOf(media.name))) {
    answer(40005, `${UPLOAD_ERRMSG[40005]}: ${kind} takes ${MEDIA_FORMATS[kind].join(', ')}`);
    return;
  }
  if (media.size === 0 || media.size > MEDIA_MAX_BYTES[kind]) {
    answer(40006, `${UPLOAD_ERRMSG[40006]}: ${media.size} bytes`);
    return;
  }
  const mediaId = mintMediaId();
  const bytes = Buffer.from(await media.arrayBuffer());
  const contentType = media.type || 'application/octet-stream';
  const now = ctx.options.clock.now();
  ctx.directory.addUpload({
    mediaId,
    app: check.app,
    type: kind,
    fileName: media.name,
    contentType,
    bytes,
    at: now,
  });
  ctx.ledger.recordUpload({
    at: Date.now(),
    account: check.app.accountId,
    type: kind,
    mediaId,
    name: media.name,
    size: bytes.length,
    contentType,
  });
  answer(0, 'ok', { media_id: mediaId, type: kind, created_at: now });
}

const UPLOAD_ERRMSG: Record<number, string> = {
  [-1]: '系统繁忙',
  40004: '不合法的媒体文件类型',
  40005: '不合法的文件类型',
  40006: '不合法的文件大小',
};

/** The body as form data, with the platform's multipart parser; undefined when it is not one. */
async function parseForm(contentType: string | undefined, body: Buffer) {
  if (!contentType?.toLowerCase().startsWith('multipart/form-data')) return undefined;
  try {
    return await new Response(body, { headers: { 'content-type': contentType } }).formData();
  } catch {
    return undefined;
  }
}
