import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { codePointLength, utf8Length } from '../../lib/dingtalk/chunk.js';
import {
  type FormattedChunk,
  formatReply,
  markdownReplyBody,
  OPENAPI_MSGPARAM_MAX_BYTES,
  WEBHOOK_BODY_MAX_BYTES,
} from '../../lib/dingtalk/reply-format.js';

function bodyBytes(chunk: FormattedChunk): number {
  return utf8Length(JSON.stringify(markdownReplyBody(chunk)));
}

/** Characters of the reply, ignoring whitespace, fence markers and the mention. */
function letters(text: string, mention = ''): string {
  return text
    .split(mention)
    .join('')
    .replace(/`{3,}\w*|\*\*ts\*\*/g, '')
    .replace(/\s+/gu, '');
}

describe('formatReply: nothing to send (channel-semantics.md §7)', () => {
  it.each(['', '  \n\t', 'NO_REPLY', '  NO_REPLY\n'])('returns [] for %j', (text) => {
    expect(formatReply(text, { limit: 4000, mode: 'length' })).toEqual([]);
  });

  it('still sends text that merely contains NO_REPLY', () => {
    expect(formatReply('NO_REPLY here', { limit: 4000, mode: 'length' })).toHaveLength(1);
  });
});

describe('formatReply: one message', () => {
  it('titles it from the first line and converts unsupported markdown', () => {
    const chunks = formatReply('## 结果\n\n| 项目 | 状态 |\n|---|---|\n| 部署 | 完成 |', {
      limit: 4000,
      mode: 'length',
    });
    expect(chunks).toEqual([
      { title: '结果', text: '## 结果\n\n- 项目: 部署 | 状态: 完成', atUserIds: [] },
    ]);
    expect(markdownReplyBody(chunks[0]!)).toEqual({
      msgtype: 'markdown',
      markdown: { title: '结果', text: '## 结果\n\n- 项目: 部署 | 状态: 完成' },
      at: { atUserIds: [], isAtAll: false },
    });
  });

  it('@-mentions the group sender in the text and in atUserIds', () => {
    const [chunk] = formatReply('好的', {
      limit: 4000,
      mode: 'length',
      mentionStaffId: 'manager807',
    });
    expect(chunk).toEqual({ title: '好的', text: '好的 @manager807', atUserIds: ['manager807'] });
  });

  it('puts the mention on its own line after a code block', () => {
    const [chunk] = formatReply('```sh\nls\n```', {
      limit: 4000,
      mode: 'length',
      mentionStaffId: 'u1',
    });
    expect(chunk?.text).toBe('**sh**  \n\u00a0\u00a0ls\n\n@u1');
  });

  it('prepends responsePrefix, on its own paragraph before a heading', () => {
    expect(formatReply('hi', { limit: 100, mode: 'length', responsePrefix: '🤖 ' })[0]?.text).toBe(
      '🤖 hi',
    );
    expect(formatReply('# Title', { limit: 100, mode: 'length', responsePrefix: '🤖' })[0]).toEqual(
      {
        title: 'Title',
        text: '🤖\n\n# Title',
        atUserIds: [],
      },
    );
  });
});

describe('formatReply: several messages', () => {
  const code = Array.from(
    { length: 170 },
    (_, i) => `  const value${i} = compute(${i}); // step ${i}`,
  );
  const longReply = [
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

  it('splits a 9,000-character reply with code at 4000; no fence reaches DingTalk', () => {
    const chunks = formatReply(longReply, {
      limit: 4000,
      mode: 'length',
      responsePrefix: '[bot] ',
      mentionStaffId: '0418245234',
    });
    expect(chunks.length).toBeGreaterThanOrEqual(3);
    for (const chunk of chunks) {
      expect(codePointLength(chunk.text)).toBeLessThanOrEqual(4000);
      expect(chunk.text).not.toContain('```');
      expect(chunk.text.endsWith('@0418245234')).toBe(true);
      expect(chunk.atUserIds).toEqual(['0418245234']);
    }
    expect(chunks[0]?.text.startsWith('[bot] Here is the plan.')).toBe(true);
    expect(chunks[0]?.title).toBe('Here is the plan.');
    expect(chunks.slice(1).some((chunk) => chunk.text.startsWith('[bot]'))).toBe(false);
    // The code block continues in later messages under its language label.
    expect(chunks[1]?.text.startsWith('**ts**  \n\u00a0\u00a0\u00a0\u00a0const value')).toBe(true);
    expect(
      chunks
        .map((c) => letters(c.text, '@0418245234'))
        .join('')
        .replace(/^\[bot\]/, ''),
    ).toBe(letters(longReply));
  });

  it('keeps every webhook body of a huge Chinese reply under 20,000 bytes', () => {
    const reply = Array.from(
      { length: 300 },
      (_, i) => `第${i}段：${'钉钉开放平台消息内容'.repeat(20)}`,
    ).join('\n');
    const chunks = formatReply(reply, {
      limit: 20_000,
      mode: 'newline',
      mentionStaffId: 'manager807',
    });
    expect(chunks.length).toBeGreaterThan(1);
    for (const chunk of chunks)
      expect(bodyBytes(chunk)).toBeLessThanOrEqual(WEBHOOK_BODY_MAX_BYTES);
    expect(chunks.map((c) => letters(c.text, '@manager807')).join('')).toBe(letters(reply));
  });

  it('re-splits when JSON escaping, not UTF-8 size, breaks the body limit', () => {
    // 19,000 quote characters are 19,000 UTF-8 bytes but 38,000 bytes as a JSON string.
    const reply = '"'.repeat(19_000);
    const chunks = formatReply(reply, { limit: 20_000, mode: 'length', maxBytes: 19_500 });
    expect(chunks.length).toBeGreaterThan(1);
    for (const chunk of chunks)
      expect(bodyBytes(chunk)).toBeLessThanOrEqual(WEBHOOK_BODY_MAX_BYTES);
    expect(chunks.map((c) => c.text).join('')).toBe(reply);
  });

  it('fits any reply under the character and byte limits (property)', () => {
    const text = fc.string({
      unit: fc.constantFrom('a', ' ', '\n', '"', '钉', '😀', '|', '-', '`', '#', '\u0001'),
      maxLength: 3000,
    });
    fc.assert(
      fc.property(
        text,
        fc.integer({ min: 200, max: 20_000 }),
        fc.constantFrom('length', 'newline'),
        (reply, limit, mode) => {
          const chunks = formatReply(reply, {
            limit,
            mode: mode as 'length' | 'newline',
            mentionStaffId: 'u1',
            maxBytes: 2000,
          });
          for (const chunk of chunks) {
            expect(codePointLength(chunk.text)).toBeLessThanOrEqual(limit);
            expect(bodyBytes(chunk)).toBeLessThanOrEqual(WEBHOOK_BODY_MAX_BYTES);
            expect(codePointLength(chunk.title)).toBeLessThanOrEqual(20);
            expect(chunk.text).toMatch(/@u1$/);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('formatReply: every route has its own size rule (dingtalk-protocol.md §5, §6.2)', () => {
  /** The `msgParam` the OpenAPI routes carry for a chunk. */
  const paramBytes = (chunk: FormattedChunk) =>
    utf8Length(JSON.stringify({ title: chunk.title, text: chunk.text }));

  it.each([
    ['3,990 emoji', '😀'.repeat(3990), 4000],
    ['5,500 CJK characters', '钉'.repeat(5500), 6000],
    ['escaped quotes and newlines', '"a"\n'.repeat(4000), 20000],
  ])('keeps %s within the OpenAPI msgParam limit and the webhook body limit', (_, text, limit) => {
    for (const mention of [undefined, '0418245234']) {
      const chunks = formatReply(text, {
        limit,
        mode: 'length',
        ...(mention ? { mentionStaffId: mention } : {}),
      });
      expect(chunks.length).toBeGreaterThan(1);
      for (const chunk of chunks) {
        expect(paramBytes(chunk)).toBeLessThanOrEqual(OPENAPI_MSGPARAM_MAX_BYTES);
        expect(bodyBytes(chunk)).toBeLessThanOrEqual(WEBHOOK_BODY_MAX_BYTES);
      }
      expect(letters(chunks.map((c) => c.text).join(''), mention ? `@${mention}` : '')).toBe(
        letters(text),
      );
    }
  });
});
