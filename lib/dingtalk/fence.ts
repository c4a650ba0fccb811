/**
 * Fenced code block lines (CommonMark rules, simplified): shared by the chunker, which must
 * never leave a fence open in a chunk, and the markdown converter, which rewrites fences because
 * DingTalk markdown has none (dingtalk-protocol.md §5).
 */

/** The line that opens a fenced code block. */
export interface FenceOpener {
  /** The backtick or tilde run, e.g. "```" or "~~~~". */
  marker: string;
  /** The info string, trimmed ("ts", "python title=x"). */
  info: string;
  /** The opener line as written; reused verbatim to reopen a split block. */
  line: string;
}

const OPENER = /^ {0,3}(`{3,}|~{3,})(.*)$/;
const CLOSER = /^ {0,3}(`{3,}|~{3,})[ \t]*$/;

/** The fence opened by `line`, if it is an opener line. */
export function parseFenceOpener(line: string): FenceOpener | undefined {
  const match = OPENER.exec(line);
  if (!match) return undefined;
  const marker = match[1] ?? '';
  const info = match[2] ?? '';
  // A backtick fence's info string may not contain backticks (CommonMark 4.5).
  if (marker.startsWith('`') && info.includes('`')) return undefined;
  return { marker, info: info.trim(), line };
}

/** Whether `line` closes the block opened by `opener` (same character, at least as long). */
export function closesFence(line: string, opener: FenceOpener): boolean {
  const match = CLOSER.exec(line);
  const run = match?.[1];
  return run !== undefined && run[0] === opener.marker[0] && run.length >= opener.marker.length;
}

/** The language named by the info string ("ts" for "ts title=a.ts"), or '' when none. */
export function fenceLanguage(opener: FenceOpener): string {
  const word = opener.info.split(/\s+/)[0] ?? '';
  return word.replace(/[^\p{L}\p{N}+#._-]/gu, '').slice(0, 30);
}
