/**
 * Splits a long reply into chunks DingTalk accepts (channel-semantics.md §7).
 *
 * Invariants (guarded by the property tests in test/dingtalk/chunk.test.ts):
 * - every chunk has at most `limit` code points and at most `maxBytes` UTF-8 bytes, counting the
 *   fence lines the chunker adds; a surrogate pair is never split;
 * - a fenced code block cut across chunks is closed at the end of one chunk and reopened with the
 *   same opener line at the start of the next, so each chunk has balanced fences (whenever the
 *   limit leaves room for the opener line);
 * - no content is lost: joining the chunks, minus added fence lines, gives the input back up to
 *   the whitespace at split points; empty and whitespace-only chunks are dropped.
 */

import { closesFence, type FenceOpener, parseFenceOpener } from './fence.js';

export type ChunkMode = 'length' | 'newline';

export interface ChunkOptions {
  /** Maximum code points per chunk (`textChunkLimit`). */
  limit: number;
  /** `length`: fill each chunk; `newline`: pack whole paragraphs (split at blank lines). */
  mode: ChunkMode;
  /** Maximum UTF-8 bytes per chunk; defaults to DEFAULT_CHUNK_MAX_BYTES. */
  maxBytes?: number;
}

/** Leaves room under DingTalk's 20,000-byte body limit for the JSON envelope, title and @mention. */
export const DEFAULT_CHUNK_MAX_BYTES = 18_000;

/** Splits `text` into chunks that respect `limit`, `maxBytes` and fenced code blocks. */
export function chunkText(text: string, options: ChunkOptions): string[] {
  const budget = checkedBudget(options);
  const normalized = text.replace(/\r\n?/g, '\n');
  return options.mode === 'newline'
    ? chunkByParagraph(normalized, budget)
    : chunkByLength(normalized, budget);
}

/** UTF-8 length of a string (a lone surrogate counts 3, as Buffer encodes it as U+FFFD). */
export function utf8Length(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** Length in code points, the unit of `limit`. */
export function codePointLength(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

interface Budget {
  chars: number;
  bytes: number;
}

function checkedBudget(options: ChunkOptions): Budget {
  const { limit, mode } = options;
  const maxBytes = options.maxBytes ?? DEFAULT_CHUNK_MAX_BYTES;
  if (!Number.isInteger(limit) || limit < 1) {
    throw new RangeError(`chunkText: limit must be a positive integer, got ${limit}`);
  }
  // 4 bytes is the longest UTF-8 code point; below that no chunk could make progress.
  if (!Number.isInteger(maxBytes) || maxBytes < 4) {
    throw new RangeError(`chunkText: maxBytes must be an integer >= 4, got ${maxBytes}`);
  }
  if (mode !== 'length' && mode !== 'newline') {
    throw new RangeError(`chunkText: mode must be "length" or "newline", got ${String(mode)}`);
  }
  return { chars: limit, bytes: maxBytes };
}

function fits(text: string, budget: Budget): boolean {
  return codePointLength(text) <= budget.chars && utf8Length(text) <= budget.bytes;
}

function hasContent(text: string): boolean {
  return /\S/u.test(text);
}

// ---------------------------------------------------------------------------------------------
// newline mode: paragraphs packed greedily; an oversized paragraph falls back to length mode

function chunkByParagraph(text: string, budget: Budget): string[] {
  const chunks: string[] = [];
  let current = '';
  for (const paragraph of paragraphsOf(text)) {
    const joined = current === '' ? paragraph : `${current}\n\n${paragraph}`;
    if (fits(joined, budget)) {
      current = joined;
      continue;
    }
    if (current !== '') chunks.push(current);
    if (fits(paragraph, budget)) {
      current = paragraph;
      continue;
    }
    const pieces = chunkByLength(paragraph, budget);
    current = pieces.pop() ?? '';
    chunks.push(...pieces);
  }
  if (current !== '') chunks.push(current);
  return chunks;
}

/** Paragraphs separated by blank lines outside fenced code blocks. */
function paragraphsOf(text: string): string[] {
  const paragraphs: string[] = [];
  let lines: string[] = [];
  let fence: FenceOpener | undefined;
  const flush = () => {
    const paragraph = lines.join('\n').replace(/^\n+|\s+$/g, '');
    if (hasContent(paragraph)) paragraphs.push(paragraph);
    lines = [];
  };
  for (const line of text.split('\n')) {
    if (fence) {
      if (closesFence(line, fence)) fence = undefined;
    } else if (/^[ \t]*$/.test(line)) {
      flush();
      continue;
    } else {
      fence = parseFenceOpener(line);
    }
    lines.push(line);
  }
  // Close a fence left open by the input, as length mode does, so every chunk is balanced.
  if (fence) lines.push(fence.marker);
  flush();
  return paragraphs;
}

// ---------------------------------------------------------------------------------------------
// length mode, on an array of code points so that no index can fall inside a surrogate pair

/** A fenced block, as code point indices into the text. */
interface FenceBlock {
  opener: FenceOpener;
  /** Start of the opener line. */
  open: number;
  /** End of the opener line (its newline, or the text end). */
  openerEnd: number;
  /** Start of the closing line (text end when unclosed). */
  closeStart: number;
  /** End of the closing line (text end when unclosed). */
  end: number;
}

interface Cut {
  /** The chunk is `cps[pos, end)`. */
  end: number;
  /** Where the next chunk starts (the separator between them is dropped). */
  next: number;
}

interface Piece {
  text: string;
  body: string;
  next: number;
}

function chunkByLength(text: string, budget: Budget): string[] {
  const cps = Array.from(text);
  const blocks = fenceBlocksOf(cps);
  const chunks: string[] = [];
  let pos = skipNewlines(cps, 0);
  while (pos < cps.length) {
    const piece = nextPiece(cps, blocks, pos, budget);
    if (hasContent(piece.body)) chunks.push(piece.text);
    pos = skipNewlines(cps, piece.next);
  }
  return chunks;
}

function fenceBlocksOf(cps: string[]): FenceBlock[] {
  const blocks: FenceBlock[] = [];
  let current: Omit<FenceBlock, 'closeStart' | 'end'> | undefined;
  let lineStart = 0;
  for (let i = 0; i <= cps.length; i++) {
    if (i < cps.length && cps[i] !== '\n') continue;
    const line = cps.slice(lineStart, i).join('');
    if (current === undefined) {
      const opener = parseFenceOpener(line);
      if (opener) current = { opener, open: lineStart, openerEnd: i };
    } else if (closesFence(line, current.opener)) {
      blocks.push({ ...current, closeStart: lineStart, end: i });
      current = undefined;
    }
    lineStart = i + 1;
  }
  if (current) blocks.push({ ...current, closeStart: cps.length, end: cps.length });
  return blocks;
}

function skipNewlines(cps: string[], from: number): number {
  let pos = from;
  while (pos < cps.length && cps[pos] === '\n') pos++;
  return pos;
}

/**
 * The chunk starting at `pos`. When `pos` is inside a block that an earlier chunk closed, the
 * block is reopened first; when the cut falls inside a block, a closing fence is added. The
 * close is paid for by a second, smaller cut, so the added lines never break the budget.
 */
function nextPiece(cps: string[], blocks: FenceBlock[], pos: number, budget: Budget): Piece {
  const continued = blocks.find((b) => b.openerEnd < pos && pos < b.end);
  // The previous chunk already closed this block; its own closing line would reopen an empty one.
  if (continued && pos >= continued.closeStart) return { text: '', body: '', next: continued.end };
  const reopen = continued ? `${continued.opener.line}\n` : '';
  const room = shrink(budget, codePointLength(reopen), utf8Length(reopen));
  const first = room && chooseCut(cps, blocks, pos, room, budget);
  if (!room || !first) return plainPiece(cps, pos, budget);

  let cut: Cut | undefined = first.cut;
  let split = blockSplitBy(blocks, pos, cut.end);
  if (split) {
    // Reserve the longest close any block in the first window could need: the second cut is
    // never later than the first window, so whichever block it splits fits the reserve.
    const reserve = 1 + longestMarker(blocks, pos, first.windowEnd);
    const smaller = shrink(room, reserve, reserve);
    cut = smaller && chooseCut(cps, blocks, pos, smaller, budget)?.cut;
    if (!cut) return plainPiece(cps, pos, budget);
    split = blockSplitBy(blocks, pos, cut.end);
  }
  const body = trimEnd(cps.slice(pos, cut.end).join(''));
  const close = split ? `\n${split.opener.marker}` : '';
  return { text: reopen + body + close, body, next: cut.next };
}

/** Fallback when the limit is too small for the fence lines: cut without fence handling. */
function plainPiece(cps: string[], pos: number, budget: Budget): Piece {
  const windowEnd = pos + fitCount(cps, pos, budget);
  const cut =
    windowEnd >= cps.length
      ? { end: cps.length, next: cps.length }
      : (naturalBreak(cps, pos, windowEnd) ?? { end: windowEnd, next: windowEnd });
  const body = trimEnd(cps.slice(pos, cut.end).join(''));
  return { text: body, body, next: cut.next };
}

function shrink(budget: Budget, chars: number, bytes: number): Budget | undefined {
  const smaller = { chars: budget.chars - chars, bytes: budget.bytes - bytes };
  return smaller.chars >= 1 && smaller.bytes >= 4 ? smaller : undefined;
}

function chooseCut(
  cps: string[],
  blocks: FenceBlock[],
  pos: number,
  room: Budget,
  budget: Budget,
): { cut: Cut; windowEnd: number } | undefined {
  const windowEnd = pos + fitCount(cps, pos, room);
  if (windowEnd >= cps.length) return { cut: { end: cps.length, next: cps.length }, windowEnd };
  const cut = naturalBreak(cps, pos, windowEnd, (end) => !onFenceLine(blocks, end));
  return cut && { cut: preferWholeBlock(cps, blocks, pos, cut, budget), windowEnd };
}

/** How many code points from `pos` fit the budget (at least 1 for any budget >= 1 char, 4 bytes). */
function fitCount(cps: string[], pos: number, room: Budget): number {
  let bytes = 0;
  let count = 0;
  while (pos + count < cps.length && count < room.chars) {
    bytes += utf8Length(cps[pos + count] ?? '');
    if (bytes > room.bytes) break;
    count++;
  }
  return count;
}

const SENTENCE_END = new Set(['。', '！', '？', '；', '…']);

/**
 * §7: the last newline before the limit, else the last whitespace, else hard. Chinese text has
 * no spaces, so before cutting hard we try the end of a sentence in the window's second half.
 * `allowed` vetoes cuts (fence lines); undefined when no cut is allowed.
 */
function naturalBreak(
  cps: string[],
  pos: number,
  windowEnd: number,
  allowed: (end: number) => boolean = () => true,
): Cut | undefined {
  for (let i = windowEnd; i > pos; i--) {
    if (cps[i] === '\n' && allowed(i)) return { end: i, next: i + 1 };
  }
  for (let i = windowEnd; i > pos; i--) {
    if (isBreakSpace(cps[i]) && allowed(i)) return { end: i, next: i + 1 };
  }
  const half = pos + Math.floor((windowEnd - pos) / 2);
  for (let i = windowEnd - 1; i > half; i--) {
    if (SENTENCE_END.has(cps[i] ?? '') && allowed(i + 1)) return { end: i + 1, next: i + 1 };
  }
  for (let end = windowEnd; end > pos; end--) {
    if (allowed(end)) return { end, next: end };
  }
  return undefined;
}

function isBreakSpace(cp: string | undefined): boolean {
  // No-break spaces must not become break points.
  return cp !== undefined && /^\s$/u.test(cp) && !/[\u00a0\u2007\u202f]/.test(cp);
}

/**
 * Whether a chunk ending at `end` would end on a fence line: inside an opener or right after it
 * (an empty block), or inside a closing line.
 */
function onFenceLine(blocks: FenceBlock[], end: number): boolean {
  return blocks.some(
    (b) => (b.open < end && end <= b.openerEnd + 1) || (b.closeStart < end && end < b.end),
  );
}

/** A cut through a block moves before it when the whole block fits in the next chunk. */
function preferWholeBlock(
  cps: string[],
  blocks: FenceBlock[],
  pos: number,
  cut: Cut,
  budget: Budget,
): Cut {
  const block = blocks.find((b) => b.open < cut.end && cut.end < b.end);
  if (!block || block.open <= pos) return cut;
  return fits(cps.slice(block.open, block.end).join(''), budget)
    ? { end: block.open, next: block.open }
    : cut;
}

/** The block the chunk `[pos, end)` ends in (after its opener, before its closing line). */
function blockSplitBy(blocks: FenceBlock[], pos: number, end: number): FenceBlock | undefined {
  return blocks.find((b) => b.open < end && end <= b.closeStart && b.end > pos);
}

function longestMarker(blocks: FenceBlock[], pos: number, end: number): number {
  let longest = 3;
  for (const b of blocks) {
    if (b.open < end && b.end >= pos) longest = Math.max(longest, b.opener.marker.length);
  }
  return longest;
}

function trimEnd(text: string): string {
  return text.replace(/[ \t\n]+$/, '');
}
