/**
 * DingTalk's media upload for robot messages (dingtalk-protocol.md §6.2 "Media for these keys"):
 * `POST <oapi>/media/upload?access_token=…`, multipart/form-data with a `type` field and the
 * file part `media`; the answer is HTTP 200 `{errcode, errmsg, media_id, type, created_at}`.
 *
 * Facts, with their sources:
 * - Endpoint, fields and limits [SRC help.dingtalk.io/open/development/upload-media-files]:
 *   `image` ≤ 20 MB (jpg, gif, png, bmp), `voice` ≤ 2 MB (amr, mp3, wav), `video` ≤ 20 MB
 *   (mp4), `file` ≤ 20 MB (doc, docx, xls, xlsx, ppt, pptx, zip, pdf, rar). The same page
 *   advises also putting `type` in the URL when a client's form encoding loses it (error 40004),
 *   so it travels in both.
 * - media_id does not expire ("remains valid for ongoing use" while the org exists,
 *   help.dingtalk.io/open/development/apsara-file-storage-for-hdfs-overview), which is why a
 *   stored reply may keep media ids for its retry.
 * - The token is the app's OpenAPI access token (§6.1): the Python Stream SDK's
 *   `upload_to_dingtalk` posts the `/v1.0/oauth2/accessToken` token to this endpoint [SRC PY].
 * - media ids look like `@lAXP…` (answers recorded in public DingTalk tools); `sampleImageMsg`
 *   takes one as `photoURL` and markdown takes one as an image source (§5, §6.2).
 * - Error codes of this legacy endpoint [INF, DingTalk's legacy server error list]: 40004
 *   invalid media type, 40005 invalid file type, 40006 invalid file size, 40014 / 42001 an
 *   invalid or expired access_token, -1 system busy.
 *
 * Classification: a refusal of the file itself (type, format, size) is final; a busy server,
 * 5xx or no answer is retryable; a rejected token is retried once with a fresh one (api.ts).
 */
import { ChannelError, DingTalkApiError } from '../errors.js';
import { callDingTalk, type FetchLike } from './http.js';

export type UploadMediaType = 'image' | 'voice' | 'video' | 'file';

const MB = 1024 * 1024;

/** DingTalk's documented size limit per media type (bytes). */
export const MEDIA_MAX_BYTES: Record<UploadMediaType, number> = {
  image: 20 * MB,
  voice: 2 * MB,
  video: 20 * MB,
  file: 20 * MB,
};

/** The formats DingTalk documents per media type (lower-case file extensions). */
export const MEDIA_FORMATS: Record<UploadMediaType, readonly string[]> = {
  image: ['jpg', 'jpeg', 'gif', 'png', 'bmp'],
  voice: ['amr', 'mp3', 'wav'],
  video: ['mp4'],
  file: ['doc', 'docx', 'xls', 'xlsx', 'ppt', 'pptx', 'zip', 'pdf', 'rar'],
};

/** One upload: the bytes and the name DingTalk shows. */
export interface MediaUpload {
  type: UploadMediaType;
  bytes: Uint8Array;
  fileName: string;
  mimeType?: string;
}

/** An upload's bound, 60 s: 20 MB over a slow uplink; longer than a JSON call's 10 s. */
export const UPLOAD_TIMEOUT_MS = 60_000;

/** The errcodes of a rejected access token (heals with a new token). */
export const UPLOAD_TOKEN_ERRCODES = new Set(['40014', '42001']);

/** Lower-case extension of a file name, without the dot ('' when none). */
export function extensionOf(fileName: string): string {
  const dot = fileName.lastIndexOf('.');
  return dot > 0 && dot < fileName.length - 1 ? fileName.slice(dot + 1).toLowerCase() : '';
}

/** Checks an upload against DingTalk's documented limits; throws final `media_too_large` / `media_empty`. */
export function checkUpload(upload: MediaUpload): void {
  const max = MEDIA_MAX_BYTES[upload.type];
  if (upload.bytes.byteLength > max) {
    throw new ChannelError(
      'media_too_large',
      `media/upload: ${upload.fileName} is ${upload.bytes.byteLength} bytes; DingTalk takes at most ${max / MB} MB for type ${upload.type}`,
    );
  }
  if (upload.bytes.byteLength === 0) {
    throw new ChannelError('media_empty', `media/upload: ${upload.fileName} is empty`);
  }
}

/**
 * Posts one upload and returns its media id. `token` is the app's access token; the URL that
 * carries it is never put into an error (errors name the endpoint only).
 */
export async function postMediaUpload(
  oapiBase: string,
  token: string,
  upload: MediaUpload,
  options: { fetch?: FetchLike; signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<string> {
  checkUpload(upload);
  const form = new FormData();
  form.set('type', upload.type);
  form.set(
    'media',
    new Blob([upload.bytes], { type: upload.mimeType ?? 'application/octet-stream' }),
    upload.fileName,
  );
  const query = new URLSearchParams({ access_token: token, type: upload.type });
  // A refused file (40004/40005/40006) is final, -1 (busy) retryable: http.ts classifies errcodes.
  const answer = await callDingTalk<{ media_id?: unknown }>(
    'media/upload',
    `${oapiBase}/media/upload?${query.toString()}`,
    {
      body: form,
      signal: options.signal,
      timeoutMs: options.timeoutMs ?? UPLOAD_TIMEOUT_MS,
      fetch: options.fetch,
    },
  );
  if (typeof answer.media_id !== 'string' || answer.media_id === '') {
    throw new DingTalkApiError({
      code: 'bad_response',
      message: 'no media_id in the answer',
      status: 200,
      endpoint: 'media/upload',
      retryable: true,
    });
  }
  return answer.media_id;
}
