/**
 * Agent markdown → the subset DingTalk renders (dingtalk-protocol.md §5: headings, quotes, bold,
 * italic, links, images, flat `-` and `1.` lists; no tables, code fences, strikethrough or nested
 * lists). Constructs DingTalk cannot show are rewritten as readable text (channel-semantics.md §7);
 * everything else passes through untouched.
 */

import { closesFence, type FenceOpener, fenceLanguage, parseFenceOpener } from './fence.js';

const NBSP = '\u00a0';
/** DingTalk breaks a line reliably only on "  \n" or a blank line (§5 "Line breaks"). */
const HARD_BREAK = '  ';

/** Rewrites tables, code fences, strikethrough and nested lists for DingTalk markdown. */
export function toDingTalkMarkdown(text: string): string {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const out: string[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i] ?? '';
    const opener = parseFenceOpener(line);
    if (opener) {
      i = renderCodeBlock(lines, i, opener, out);
    } else if (isTableStart(lines, i)) {
      i = renderTable(lines, i, out);
    } else {
      out.push(renderLine(line, out[out.length - 1]));
      i++;
    }
  }
  return hardBreaks(out).join('\n');
}

/**
 * DingTalk's markdown joins a line to the next one as plain markdown does; replies written line
 * by line (facts, the pairing challenge) need hard breaks: two trailing spaces on a text line
 * that another text line follows (dingtalk-protocol.md §5, "Line breaks"). Lines that start
 * their own block (headings, list items, quotes, rules, setext underlines) need none.
 */
function hardBreaks(lines: string[]): string[] {
  return lines.map((line, i) => {
    const next = lines[i + 1];
    if (next === undefined || next.trim() === '' || line.trim() === '' || line.endsWith('  '))
      return line;
    if (STARTS_BLOCK.test(line) && !LIST_ITEM.test(line)) return line;
    return STARTS_BLOCK.test(next) ? line : `${line}  `;
  });
}

const STARTS_BLOCK = /^\s*(#{1,6}\s|[-*+]\s|\d+[.)]\s|>|[-=*_]{3,}\s*$)/;

// ---------------------------------------------------------------------------------------------
// Code fences: the language as a bold label, then one hard-broken line per code line. Leading
// no-break spaces keep the indentation (plain spaces collapse) and stop code lines from being
// read as headings, lists or quotes ("# comment", "- x", "> y").

function renderCodeBlock(
  lines: string[],
  start: number,
  opener: FenceOpener,
  out: string[],
): number {
  let i = start + 1;
  const code: string[] = [];
  while (i < lines.length && !closesFence(lines[i] ?? '', opener)) code.push(lines[i++] ?? '');
  // An unclosed fence runs to the end of the text, as in CommonMark.
  const next = i < lines.length ? i + 1 : i;
  while (code.length > 0 && (code[code.length - 1] ?? '').trim() === '') code.pop();

  if (code.length === 0) return next;
  separateBlock(out);
  const language = fenceLanguage(opener);
  const rendered = code.map(codeLine);
  if (language) rendered.unshift(`**${language}**`);
  out.push(
    rendered.map((line, k) => (k < rendered.length - 1 ? line + HARD_BREAK : line)).join('\n'),
  );
  if (next < lines.length && (lines[next] ?? '').trim() !== '') out.push('');
  return next;
}

function codeLine(line: string): string {
  const expanded = line.replace(/\t/g, '    ').trimEnd();
  const indent = expanded.length - expanded.trimStart().length;
  // Runs of spaces inside the line would collapse too; keep all but the last as no-break.
  const rest = expanded.slice(indent).replace(/ {2,}/g, (run) => `${NBSP.repeat(run.length - 1)} `);
  return NBSP.repeat(2 + indent) + rest;
}

function separateBlock(out: string[]): void {
  const previous = out[out.length - 1];
  if (previous !== undefined && previous.trim() !== '') out.push('');
}

// ---------------------------------------------------------------------------------------------
// Tables: one list item per row, cells labelled with their header ("- Name: Ann | Age: 30").

const SEPARATOR_CELL = /^\s*:?-+:?\s*$/;

function isTableStart(lines: string[], i: number): boolean {
  const header = lines[i] ?? '';
  const separator = lines[i + 1];
  if (separator === undefined || !header.includes('|') || !separator.includes('-')) return false;
  if (!/^[\s|:-]+$/.test(separator)) return false;
  const cells = splitRow(separator);
  // GFM: the delimiter row has as many cells as the header ("a | b\n---" is a setext heading).
  if (cells.length !== splitRow(header).length) return false;
  return cells.every((cell) => SEPARATOR_CELL.test(cell));
}

function renderTable(lines: string[], start: number, out: string[]): number {
  const headers = splitRow(lines[start] ?? '');
  let i = start + 2;
  const rows: string[] = [];
  while (i < lines.length && (lines[i] ?? '').includes('|') && (lines[i] ?? '').trim() !== '') {
    const row = renderRow(headers, splitRow(lines[i] ?? ''));
    if (row) rows.push(row);
    i++;
  }
  separateBlock(out);
  if (rows.length === 0) rows.push(headers.filter((h) => h !== '').join(' | '));
  out.push(...rows.filter((row) => row !== ''));
  if (i < lines.length && (lines[i] ?? '').trim() !== '') out.push('');
  return i;
}

function renderRow(headers: string[], cells: string[]): string {
  const parts: string[] = [];
  cells.forEach((cell, k) => {
    if (cell === '') return;
    const label = headers[k];
    parts.push(label ? `${label}: ${cell}` : cell);
  });
  return parts.length === 0 ? '' : `- ${parts.join(' | ')}`;
}

/** Cells of a table row; `\|` is a literal pipe, outer pipes are optional. */
function splitRow(line: string): string[] {
  const cells: string[] = [];
  let cell = '';
  for (let k = 0; k < line.length; k++) {
    const ch = line[k];
    if (ch === '\\' && line[k + 1] === '|') {
      cell += '|';
      k++;
    } else if (ch === '|') {
      cells.push(cell.trim());
      cell = '';
    } else {
      cell += ch;
    }
  }
  cells.push(cell.trim());
  const trimmed = line.trim();
  if (trimmed.startsWith('|')) cells.shift();
  if (trimmed.endsWith('|') && !trimmed.endsWith('\\|')) cells.pop();
  return cells;
}

// ---------------------------------------------------------------------------------------------
// Ordinary lines: strikethrough markers dropped, nested list items flattened.

const LIST_ITEM = /^([ \t]*)([-*+]|\d{1,9}[.)])[ \t]+/;

function renderLine(line: string, previousOut: string | undefined): string {
  let rendered = line.replace(/~~(?=\S)([^\n]*?\S)~~/g, '$1');
  const item = LIST_ITEM.exec(rendered);
  const previousIsItem = previousOut !== undefined && LIST_ITEM.test(previousOut);
  if (item && (item[1] ?? '') !== '' && previousIsItem) {
    const marker = /^\d/.test(item[2] ?? '') ? (item[2] ?? '-') : '-';
    rendered = `${marker} ${rendered.slice(item[0].length)}`;
  }
  return rendered;
}

// ---------------------------------------------------------------------------------------------
// Title

const TITLE_MAX = 20;
const TITLE_FALLBACK = 'Reply';

/** Plain text of the first non-empty line, at most 20 code points (§7), for `markdown.title`. */
export function replyTitle(text: string): string {
  for (const line of text.replace(/\r\n?/g, '\n').split('\n')) {
    if (parseFenceOpener(line) || /^[\s|:-]*$/.test(line)) continue;
    const plain = plainText(line);
    if (plain !== '') return Array.from(plain).slice(0, TITLE_MAX).join('').trimEnd();
  }
  return TITLE_FALLBACK;
}

function plainText(line: string): string {
  let plain = line;
  // Block markers, possibly stacked ("> - [ ] item").
  for (let k = 0; k < 4; k++) {
    plain = plain.replace(/^\s*(#{1,6}(\s+|$)|>\s?|[-*+]\s+(\[[ xX]\]\s+)?|\d{1,9}[.)]\s+)/, '');
  }
  return plain
    .replace(/!\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/<[^>]*>/g, '')
    .replace(/\*\*|__|~~|`|\*/g, '')
    .replace(/(?<![\p{L}\p{N}])_+|_+(?![\p{L}\p{N}])/gu, '')
    .replace(/\|/g, ' ')
    .replace(/[\s\u00a0]+/g, ' ')
    .trim();
}
