/**
 * ASCII-only case folding. DingTalk ids are ASCII; `String#toLowerCase` also folds Unicode
 * look-alikes (the Kelvin sign `K`, U+212A, becomes `k`), which would let a crafted id match an
 * allowlist entry it does not equal (channel-semantics.md §2: compare case-insensitively).
 */

/** `A`–`Z` become `a`–`z`; every other character is kept as is. */
export function foldAsciiCase(text: string): string {
  return text.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32));
}
