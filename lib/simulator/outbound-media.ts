/**
 * The uploaded media a sent message refers to (§6.2 msgKeys with media ids, §5 markdown images
 * by media id): the OpenAPI keys must name a media id this robot uploaded (else
 * `invalidParameter.msgParam.invalid`, naming the field), and the outbox shows what each message
 * carries (name, type, size, media id).
 */
import type { SimContext } from './context.js';
import type { UploadedMedia } from './directory.js';
import type { OutboxAttachment } from './ledger.js';
import type { SimApp } from './options.js';

/** The msgParam fields that hold a media id, per msgKey (`photoURL` may be a URL instead). */
const MEDIA_FIELDS: Record<string, string[]> = {
  sampleImageMsg: ['photoURL'],
  sampleFile: ['mediaId'],
  sampleAudio: ['mediaId'],
  sampleVideo: ['videoMediaId', 'picMediaId'],
};

export type MediaCheck =
  | { ok: true; attachments: OutboxAttachment[] }
  | { ok: false; error: string };

/** Checks the media ids of an OpenAPI send (msgParam already validated as a JSON object). */
export function checkOpenApiMedia(
  ctx: SimContext,
  app: SimApp,
  msgKey: string,
  msgParam: string,
): MediaCheck {
  const fields = MEDIA_FIELDS[msgKey];
  if (!fields) return { ok: true, attachments: [] };
  const param = JSON.parse(msgParam) as Record<string, unknown>;
  const attachments: OutboxAttachment[] = [];
  for (const field of fields) {
    const value = String(param[field]);
    if (field === 'photoURL' && /^https?:\/\//i.test(value)) continue;
    const media = ctx.directory.upload(value, app);
    if (!media) {
      return {
        ok: false,
        error: `msgParam for ${msgKey}: \`${field}\` "${value}" is not a media id this robot uploaded (media/upload)`,
      };
    }
    attachments.push(view(media, msgKey === 'sampleFile' ? String(param.fileName) : undefined));
  }
  return { ok: true, attachments };
}

const MARKDOWN_IMAGE = /!\[[^\]]*\]\(\s*(@[^)\s]+)\s*\)/g;

/** Markdown images whose source is a media id this robot uploaded (§5: `![](mediaId)`). */
export function markdownMedia(ctx: SimContext, app: SimApp, text: string): OutboxAttachment[] {
  const out: OutboxAttachment[] = [];
  for (const match of text.matchAll(MARKDOWN_IMAGE)) {
    const media = ctx.directory.upload(match[1]!, app);
    if (media) out.push(view(media));
  }
  return out;
}

function view(media: UploadedMedia, name?: string): OutboxAttachment {
  return {
    type: media.type,
    mediaId: media.mediaId,
    name: name ?? media.fileName,
    size: media.bytes.length,
    contentType: media.contentType,
  };
}
