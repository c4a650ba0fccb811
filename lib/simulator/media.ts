/**
 * Sample bytes behind minted downloadCodes, so a client can run the whole §6.3 download path:
 * a valid 1×1 PNG for pictures, short recognisable blobs for audio, video and files.
 */

import type { MediaFile } from './directory.js';
import { mintDownloadCode } from './ids.js';
import type { SimApp } from './options.js';

export type MediaKind = 'picture' | 'audio' | 'video' | 'file';

/** A valid 1×1 PNG (signature, IHDR, IDAT, IEND). */
export const TINY_PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);

// An MP4 `ftyp` box: enough for content sniffers to call it video/mp4.
const TINY_MP4 = Buffer.from([
  0x00, 0x00, 0x00, 0x18, 0x66, 0x74, 0x79, 0x70, 0x69, 0x73, 0x6f, 0x6d, 0x00, 0x00, 0x02, 0x00,
  0x69, 0x73, 0x6f, 0x6d, 0x6d, 0x70, 0x34, 0x31,
]);

/** Sample bytes and content type for a media kind. */
export function sampleMedia(
  kind: MediaKind,
  fileName: string,
): { bytes: Buffer; contentType: string } {
  switch (kind) {
    case 'picture':
      return { bytes: TINY_PNG, contentType: 'image/png' };
    case 'audio':
      return { bytes: Buffer.from('#!AMR\n\u0000\u0000simulated audio'), contentType: 'audio/amr' };
    case 'video':
      return { bytes: TINY_MP4, contentType: 'video/mp4' };
    case 'file':
      return {
        bytes: Buffer.from(`simulated file ${fileName}\n`, 'utf8'),
        contentType: 'application/octet-stream',
      };
  }
}

/** Mints a downloadCode with sample bytes behind it. */
export function mintMedia(app: SimApp, kind: MediaKind, fileName = 'file.txt'): MediaFile {
  return { code: mintDownloadCode(), app, ...sampleMedia(kind, fileName) };
}
