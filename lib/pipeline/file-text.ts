/**
 * Files as extracted text (setting `agent.mediaFiles: text`, issue 16): a pdf, docx or plain
 * text file (txt, md, csv, json, code…) is read into text for the agent, bounded in characters.
 * pdf goes through `unpdf` (pdf.js in a serverless build, pure JS) and docx through `mammoth`;
 * both are loaded only when a file needs them, so the default `reference` mode costs neither
 * the import nor a paid download. A file that cannot be read (wrong bytes, encrypted pdf,
 * binary "text", a docx whose zip would inflate past the bound) raises FileTextError: the
 * caller marks that item unavailable and the turn goes on.
 */
import { extname } from 'node:path';
import { ChannelError } from '../errors.js';

/** The reader a file name calls for, or undefined when its text is not extracted. */
export type FileReader = 'pdf' | 'docx' | 'plain';

const PLAIN = new Set(
  (
    'txt text md markdown csv tsv json jsonl ndjson yaml yml toml ini cfg conf log xml html htm ' +
    'js mjs cjs ts tsx jsx py rb go rs java kt kts scala c h cc cpp hpp cs swift php sh bash zsh ' +
    'ps1 sql r lua pl css scss vue svelte dart m ex exs erl hs clj graphql proto tf env diff patch'
  ).split(' '),
);

/** Which reader a file takes, from its name (DingTalk sends no MIME type with a file). */
export function readerFor(fileName: string | undefined): FileReader | undefined {
  if (!fileName) return undefined;
  const ext = extname(fileName).slice(1).toLowerCase();
  if (ext === 'pdf') return 'pdf';
  if (ext === 'docx') return 'docx';
  if (PLAIN.has(ext)) return 'plain';
  // Dotfiles and well-known names without an extension (Dockerfile, Makefile, .gitignore).
  return /^(\.[\w-]+|dockerfile|makefile|readme|license)$/i.test(fileName) ? 'plain' : undefined;
}

/** The file's text could not be extracted (final for that item; the turn goes on). */
export class FileTextError extends ChannelError {
  override name = 'FileTextError';
  constructor(message: string, cause?: unknown) {
    super('file_text_failed', message, { retryable: false, cause });
  }
}

/** Extracted text, at most `maxChars` code points. */
export interface FileText {
  text: string;
  truncated: boolean;
}

/** A docx is a zip: this is the most its parts may inflate to before it is refused. */
export const MAX_DOCX_INFLATED_BYTES = 50 * 1024 * 1024;

/** Reads `bytes` with `reader`, bounded to `maxChars`; throws FileTextError when unreadable. */
export async function extractFileText(
  bytes: Buffer,
  reader: FileReader,
  maxChars: number,
  signal?: AbortSignal,
): Promise<FileText> {
  const raw = await readText(bytes, reader, maxChars, signal);
  const text = raw
    .replace(/\r\n?/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
  const chars = Array.from(text);
  if (chars.length <= maxChars) return { text, truncated: false };
  return { text: chars.slice(0, maxChars).join(''), truncated: true };
}

async function readText(
  bytes: Buffer,
  reader: FileReader,
  maxChars: number,
  signal?: AbortSignal,
): Promise<string> {
  switch (reader) {
    case 'plain':
      return plainText(bytes);
    case 'pdf':
      return pdfText(bytes, maxChars, signal);
    case 'docx':
      return docxText(bytes);
  }
}

function plainText(bytes: Buffer): string {
  // UTF-8 (a BOM is dropped); NUL bytes mean a binary file under a text name.
  if (bytes.includes(0)) throw new FileTextError('the file holds binary data, not text');
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch (err) {
    throw new FileTextError('the file is not UTF-8 text', err);
  }
}

/** The part of pdf.js's document proxy used here (unpdf's bundled declarations are loose). */
interface PdfDocument {
  numPages: number;
  getPage(n: number): Promise<{
    getTextContent(): Promise<{ items: { str?: string; hasEOL?: boolean }[] }>;
  }>;
  destroy?: () => Promise<void>;
}

/**
 * Page by page, stopping once `maxChars` are read: a long PDF costs the pages it takes to fill
 * the bound, not all of them, and an aborted call (the message's deadline) stops between pages.
 */
async function pdfText(bytes: Buffer, maxChars: number, signal?: AbortSignal): Promise<string> {
  if (bytes.subarray(0, 5).toString('latin1') !== '%PDF-') {
    throw new FileTextError('the file is not a PDF (no %PDF- header)');
  }
  let pdf: PdfDocument;
  try {
    const { getDocumentProxy } = await import('unpdf');
    // verbosity 0: errors only (pdf.js otherwise warns on the console about damaged files).
    pdf = (await getDocumentProxy(new Uint8Array(bytes), {
      verbosity: 0,
    })) as unknown as PdfDocument;
  } catch (err) {
    throw new FileTextError('the PDF could not be read (damaged or encrypted)', err);
  }
  try {
    const pages: string[] = [];
    let chars = 0;
    for (let n = 1; n <= pdf.numPages && chars <= maxChars; n++) {
      if (signal?.aborted) throw new FileTextError('no time left to read the PDF');
      const content = await (await pdf.getPage(n)).getTextContent();
      const text = content.items
        .map((item) => `${item.str ?? ''}${item.hasEOL ? '\n' : ''}`)
        .join('');
      pages.push(text);
      chars += text.length;
    }
    return pages.join('\n\n'); // a blank line between pages
  } catch (err) {
    if (err instanceof FileTextError) throw err;
    throw new FileTextError('the PDF could not be read (damaged or encrypted)', err);
  } finally {
    await pdf.destroy?.();
  }
}

async function docxText(bytes: Buffer): Promise<string> {
  const inflated = zipInflatedSize(bytes);
  if (inflated === undefined) throw new FileTextError('the file is not a docx (no zip directory)');
  if (inflated > MAX_DOCX_INFLATED_BYTES) {
    throw new FileTextError(
      `the docx would inflate to ${inflated} bytes (at most ${MAX_DOCX_INFLATED_BYTES})`,
    );
  }
  try {
    const mammoth = await import('mammoth');
    const result = await (mammoth.default ?? mammoth).extractRawText({ buffer: bytes });
    return result.value;
  } catch (err) {
    throw new FileTextError('the docx could not be read', err);
  }
}

/**
 * The uncompressed size of a zip's entries summed from its central directory (PKWARE APPNOTE
 * 4.3.12 and 4.3.16), read before anything is inflated; undefined when there is no directory.
 */
export function zipInflatedSize(bytes: Buffer): number | undefined {
  const EOCD = 0x06054b50;
  const CENTRAL = 0x02014b50;
  // The end record is 22 bytes plus a comment of at most 65,535.
  const from = Math.max(0, bytes.length - 22 - 0xffff);
  let end = -1;
  for (let i = bytes.length - 22; i >= from; i--) {
    if (bytes.readUInt32LE(i) === EOCD) {
      end = i;
      break;
    }
  }
  if (end < 0) return undefined;
  const entries = bytes.readUInt16LE(end + 10);
  let offset = bytes.readUInt32LE(end + 16);
  let total = 0;
  for (let n = 0; n < entries; n++) {
    if (offset + 46 > bytes.length || bytes.readUInt32LE(offset) !== CENTRAL) return undefined;
    const size = bytes.readUInt32LE(offset + 24);
    // 0xFFFFFFFF: the real size is in a zip64 field; count it as too large rather than parse it.
    total += size === 0xffffffff ? Number.MAX_SAFE_INTEGER / 2 : size;
    offset +=
      46 +
      bytes.readUInt16LE(offset + 28) +
      bytes.readUInt16LE(offset + 30) +
      bytes.readUInt16LE(offset + 32);
  }
  return total;
}
