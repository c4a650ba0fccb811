/**
 * Download codes a payload carries but the simulator did not mint (raw replays of captured
 * payloads, codes named in an injection), registered so `messageFiles/download` answers them
 * (§6.3), and bytes a test puts behind a code (`downloads` of an injection).
 */
import { z } from 'zod';
import type { Directory, MediaFile } from './directory.js';
import { isRecord } from './http-io.js';
import { type MediaKind, sampleMedia } from './media.js';
import type { SimApp } from './options.js';

/** Bytes for one download code: `text` (UTF-8) or `base64`, with a content type. */
export const DownloadSchema = z
  .strictObject({
    contentType: z.string().min(1).optional(),
    text: z.string().optional(),
    base64: z.base64().optional(),
  })
  .refine((d) => d.text === undefined || d.base64 === undefined, {
    message: 'give `text` or `base64`, not both',
  });

/** `downloads` of an injection: download code → the bytes behind it. */
export const DownloadsSchema = z.record(z.string().min(1), DownloadSchema);
export type DownloadsInput = z.infer<typeof DownloadsSchema>;

/** Registers `downloads` for `app` (replacing a minted sample behind the same code). */
export function registerDownloads(
  directory: Directory,
  app: SimApp,
  downloads: DownloadsInput | undefined,
): void {
  for (const [code, spec] of Object.entries(downloads ?? {})) {
    const bytes =
      spec.base64 !== undefined
        ? Buffer.from(spec.base64, 'base64')
        : Buffer.from(spec.text ?? '', 'utf8');
    directory.addFile({
      code,
      app,
      bytes,
      contentType: spec.contentType ?? 'application/octet-stream',
    });
  }
}

/** How deep the payload walk goes (quotes in quotes, JSON-string contents). */
const MAX_DEPTH = 8;
const CODE_KEYS = ['downloadCode', 'videoDownloadCode'];

/**
 * Every download code in a payload with the media kind its surroundings suggest (the nearest
 * `msgtype`/`msgType`/`type`, or `fileName` for a file), read from objects and from `content`
 * given as a JSON string.
 */
export function downloadCodesIn(
  payload: unknown,
): { code: string; kind: MediaKind; fileName?: string }[] {
  const found = new Map<string, { code: string; kind: MediaKind; fileName?: string }>();
  const walk = (value: unknown, inherited: MediaKind | undefined, depth: number): void => {
    if (depth > MAX_DEPTH) return;
    if (typeof value === 'string') {
      if (value.trimStart().startsWith('{') || value.trimStart().startsWith('[')) {
        try {
          walk(JSON.parse(value), inherited, depth + 1);
        } catch {
          // plain text
        }
      }
      return;
    }
    if (Array.isArray(value)) {
      for (const item of value) walk(item, inherited, depth + 1);
      return;
    }
    if (!isRecord(value)) return;
    const kind = kindOf(value) ?? inherited;
    for (const key of CODE_KEYS) {
      const code = value[key];
      if (typeof code !== 'string' || code === '' || found.has(code)) continue;
      const fileName = typeof value.fileName === 'string' ? value.fileName : undefined;
      const entryKind =
        key === 'videoDownloadCode' ? 'video' : (kind ?? (fileName ? 'file' : 'picture'));
      found.set(code, { code, kind: entryKind, ...(fileName ? { fileName } : {}) });
    }
    for (const child of Object.values(value)) walk(child, kind, depth + 1);
  };
  walk(payload, undefined, 0);
  return [...found.values()];
}

const KINDS = new Set<string>(['picture', 'audio', 'video', 'file']);

function kindOf(object: Record<string, unknown>): MediaKind | undefined {
  for (const key of ['msgtype', 'msgType', 'type']) {
    const value = object[key];
    if (typeof value === 'string') {
      if (KINDS.has(value)) return value as MediaKind;
      if (value === 'richText') return 'picture';
    }
  }
  return undefined;
}

/** Registers sample bytes behind every code of `payload` the directory does not know yet. */
export function registerForeignCodes(
  directory: Directory,
  app: SimApp,
  payload: unknown,
): MediaFile[] {
  const added: MediaFile[] = [];
  for (const { code, kind, fileName } of downloadCodesIn(payload)) {
    if (directory.file(code)) continue;
    const file: MediaFile = { code, app, ...sampleMedia(kind, fileName ?? 'file.txt') };
    directory.addFile(file);
    added.push(file);
  }
  return added;
}
