import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type ChunkMode,
  chunkText,
  codePointLength,
  DEFAULT_CHUNK_MAX_BYTES,
  utf8Length,
} from '../../lib/dingtalk/chunk.js';
import { closesFence, type FenceOpener, parseFenceOpener } from '../../lib/dingtalk/fence.js';

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Whether every fence opened in `chunk` is closed in it. */
function fencesBalanced(chunk: string): boolean {
  let open: FenceOpener | undefined;
  for (const line of chunk.split('\n')) {
    if (open) {
      if (closesFence(line, open)) open = undefined;
    } else {
      open = parseFenceOpener(line);
    }
  }
  return open === undefined;
}

/** Content without fence lines (the chunker adds some) and without whitespace (split points). */
function essence(text: string): string {
  return text
    .split('\n')
    .filter((line) => !/^ {0,3}(`{3,}|~{3,})/.test(line))
    .join('')
    .replace(/\s+/gu, '');
}

function expectInvariants(text: string, chunks: string[], limit: number, maxBytes: number): void {
  for (const chunk of chunks) {
    expect(codePointLength(chunk)).toBeLessThanOrEqual(limit);
    expect(utf8Length(chunk)).toBeLessThanOrEqual(maxBytes);
    expect(chunk.trim()).not.toBe('');
    expect(LONE_SURROGATE.test(chunk)).toBe(false);
    expect(fencesBalanced(chunk)).toBe(true);
  }
  expect(essence(chunks.join('\n'))).toBe(essence(text));
}

// Texts built from the pieces that make chunking hard: long words, CJK without spaces, emoji
// (surrogate pairs), blank lines and fenced code blocks, some with blank lines, some unclosed.
const word = fc.oneof(
  fc.string({
    unit: fc.constantFrom('a', 'b', 'x', '1', '.', ',', '*', '|'),
    minLength: 1,
    maxLength: 30,
  }),
  fc.string({ unit: fc.constantFrom('中', '文', '字', '。', '，'), minLength: 1, maxLength: 60 }),
  fc.string({ unit: fc.constantFrom('😀', '👍🏽', 'é', '€'), minLength: 1, maxLength: 10 }),
);
const separator = fc.constantFrom(' ', ' ', '  ', '\n', '\n\n', '\n\n\n', '\t');
const prose = fc
  .array(fc.tuple(word, separator), { minLength: 1, maxLength: 40 })
  .map((parts) => parts.map(([w, s]) => w + s).join(''));
const codeLine = fc.oneof(
  prose.map((p) => p.replace(/\n/g, ' ')),
  fc.constant(''),
  fc.constant('  indented();'),
  fc.constant('# not a heading'),
);
const fenceBlock = fc
  .record({
    marker: fc.constantFrom('```', '````', '~~~'),
    info: fc.constantFrom('', 'ts', 'python', 'sh title=x'),
    lines: fc.array(codeLine, { maxLength: 25 }),
    closed: fc.boolean(),
  })
  .map(({ marker, info, lines, closed }) =>
    [`${marker}${info}`, ...lines, ...(closed ? [marker] : [])].join('\n'),
  );
const markdownText = fc
  .array(fc.oneof({ weight: 3, arbitrary: prose }, { weight: 1, arbitrary: fenceBlock }), {
    minLength: 1,
    maxLength: 8,
  })
  .map((blocks) => blocks.join('\n\n'));

describe('chunkText invariants (property)', () => {
  for (const mode of ['length', 'newline'] as ChunkMode[]) {
    it(`${mode}: limit, bytes, surrogates, balanced fences, content preserved`, () => {
      fc.assert(
        fc.property(
          markdownText,
          fc.integer({ min: 40, max: 400 }),
          fc.integer({ min: 60, max: 1200 }),
          (text, limit, maxBytes) => {
            expectInvariants(text, chunkText(text, { limit, mode, maxBytes }), limit, maxBytes);
          },
        ),
        { numRuns: 400 },
      );
    });
  }

  it('arbitrary unicode strings keep the limits and lose nothing', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 600 }),
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 4, max: 80 }),
        (text, limit, maxBytes) => {
          const chunks = chunkText(text, { limit, mode: 'length', maxBytes });
          for (const chunk of chunks) {
            expect(codePointLength(chunk)).toBeLessThanOrEqual(limit);
            expect(utf8Length(chunk)).toBeLessThanOrEqual(maxBytes);
          }
          expect(essence(chunks.join('\n'))).toBe(essence(text.replace(/\r\n?/g, '\n')));
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('chunkText: length mode (channel-semantics.md §7)', () => {
  it('returns short text as one chunk, and nothing for blank text', () => {
    expect(chunkText('hello world', { limit: 100, mode: 'length' })).toEqual(['hello world']);
    expect(chunkText(' \n\n ', { limit: 100, mode: 'length' })).toEqual([]);
  });

  it('breaks at the last newline before the limit, else whitespace, else hard', () => {
    expect(chunkText('aaaa\nbbbb cccc', { limit: 12, mode: 'length' })).toEqual([
      'aaaa',
      'bbbb cccc',
    ]);
    expect(chunkText('aaaa bbbb cccc', { limit: 12, mode: 'length' })).toEqual([
      'aaaa bbbb',
      'cccc',
    ]);
    expect(chunkText('abcdefghij', { limit: 4, mode: 'length' })).toEqual(['abcd', 'efgh', 'ij']);
  });

  it('prefers the end of a Chinese sentence to a hard cut', () => {
    const text = `${'一'.repeat(8)}。${'二'.repeat(8)}`;
    expect(chunkText(text, { limit: 12, mode: 'length' })).toEqual([
      `${'一'.repeat(8)}。`,
      '二'.repeat(8),
    ]);
  });

  it('never splits a surrogate pair', () => {
    const chunks = chunkText('😀😀😀', { limit: 2, mode: 'length' });
    expect(chunks).toEqual(['😀😀', '😀']);
    expect(chunkText('😀😀😀', { limit: 10, mode: 'length', maxBytes: 5 })).toEqual([
      '😀',
      '😀',
      '😀',
    ]);
  });

  it('keeps 20,000 Chinese characters under the byte limit, not just the character limit', () => {
    const text = '钉'.repeat(20_000);
    const chunks = chunkText(text, { limit: 20_000, mode: 'length' });
    expect(chunks.length).toBe(4);
    for (const chunk of chunks)
      expect(utf8Length(chunk)).toBeLessThanOrEqual(DEFAULT_CHUNK_MAX_BYTES);
    expect(chunks.join('')).toBe(text);
  });

  it('splits a 9,000-character reply with a long code block at 4000, closing and reopening the fence', () => {
    const code = Array.from(
      { length: 170 },
      (_, i) => `  const value${i} = compute(${i}); // step ${i}`,
    );
    const text = [
      'Here is the plan.',
      '',
      'x '.repeat(1000).trim(),
      '',
      '```ts',
      ...code,
      '```',
      '',
      'That is all.',
    ].join('\n');
    expect(text.length).toBeGreaterThan(9000);
    const chunks = chunkText(text, { limit: 4000, mode: 'length' });
    expectInvariants(text, chunks, 4000, DEFAULT_CHUNK_MAX_BYTES);
    expect(chunks.length).toBe(3);
    expect(chunks[0]).toMatch(/\n```ts\n[\s\S]*\n```$/);
    expect(chunks[1]).toMatch(/^```ts\n {2}const value\d+/);
    expect(chunks[2]).toMatch(/^```ts\n[\s\S]*\n```\n\nThat is all\.$/);
  });

  it('moves a code block that fits whole into the next chunk instead of splitting it', () => {
    const text = `${'word '.repeat(30).trim()}\n\`\`\`py\nprint(1)\nprint(2)\n\`\`\`\nend`;
    const chunks = chunkText(text, { limit: 170, mode: 'length' });
    expect(chunks).toEqual(['word '.repeat(30).trim(), '```py\nprint(1)\nprint(2)\n```\nend']);
  });

  it('closes an unclosed fence in the chunk that ends inside it', () => {
    expect(chunkText('intro\n```sh\nls -la', { limit: 100, mode: 'length' })).toEqual([
      'intro\n```sh\nls -la\n```',
    ]);
  });

  it('rejects a limit or byte budget that cannot make progress', () => {
    expect(() => chunkText('x', { limit: 0, mode: 'length' })).toThrow(RangeError);
    expect(() => chunkText('x', { limit: 10, mode: 'length', maxBytes: 3 })).toThrow(/maxBytes/);
    expect(() => chunkText('x', { limit: 10, mode: 'lines' as ChunkMode })).toThrow(/mode/);
  });
});

describe('chunkText: newline mode', () => {
  it('packs paragraphs up to the limit, splitting only at blank lines', () => {
    const text = 'one one\n\ntwo two\n\nthree three';
    expect(chunkText(text, { limit: 18, mode: 'newline' })).toEqual([
      'one one\n\ntwo two',
      'three three',
    ]);
  });

  it('does not split at blank lines inside a code block', () => {
    const text = 'intro\n\n```\na\n\nb\n```\n\noutro';
    expect(chunkText(text, { limit: 16, mode: 'newline' })).toEqual([
      'intro',
      '```\na\n\nb\n```',
      'outro',
    ]);
  });

  it('falls back to length splitting for a paragraph over the limit', () => {
    const chunks = chunkText(`short\n\n${'long '.repeat(10).trim()}`, {
      limit: 20,
      mode: 'newline',
    });
    expect(chunks).toEqual(['short', 'long long long long', 'long long long long', 'long long']);
  });
});
