import { describe, expect, it } from 'vitest';
import { replyTitle, toDingTalkMarkdown } from '../../lib/dingtalk/markdown.js';

const NBSP = '\u00a0';

describe('toDingTalkMarkdown: tables (dingtalk-protocol.md §5: no tables)', () => {
  it('turns each row into a list item labelled with the header', () => {
    const text = [
      'Scores:',
      '| Name | Age |',
      '|:-----|----:|',
      '| Ann | 30 |',
      '| 王五 |  |',
      'done',
    ].join('\n');
    expect(toDingTalkMarkdown(text)).toBe(
      ['Scores:', '', '- Name: Ann | Age: 30', '- Name: 王五', '', 'done'].join('\n'),
    );
  });

  it('accepts tables without outer pipes and keeps escaped pipes as text', () => {
    const text = 'a | b\n--|--\nx \\| y | z';
    expect(toDingTalkMarkdown(text)).toBe('- a: x | y | b: z');
  });

  it('leaves a setext heading over a line with a pipe alone', () => {
    expect(toDingTalkMarkdown('a | b\n---')).toBe('a | b\n---');
  });

  it('renders a header-only table as one line', () => {
    expect(toDingTalkMarkdown('| a | b |\n|---|---|')).toBe('a | b');
  });
});

describe('toDingTalkMarkdown: code fences (no fences in DingTalk markdown)', () => {
  it('replaces the fence with a language label and hard-broken, indented lines', () => {
    const text = 'Run:\n```python\ndef f(x):\n    # comment\n    return  x\n```\nThen done.';
    expect(toDingTalkMarkdown(text)).toBe(
      [
        'Run:',
        '',
        '**python**  ',
        `${NBSP}${NBSP}def f(x):  `,
        `${NBSP.repeat(6)}# comment  `,
        `${NBSP.repeat(6)}return${NBSP} x`,
        '',
        'Then done.',
      ].join('\n'),
    );
  });

  it('keeps markdown-looking code lines from becoming headings, lists or tables', () => {
    const out = toDingTalkMarkdown('~~~\n# title\n- item\n| a | b |\n|---|---|\n~~~');
    expect(out).not.toContain('~~~');
    expect(out.split('\n').every((line) => line.startsWith(NBSP))).toBe(true);
    expect(out).toContain(`${NBSP}${NBSP}| a | b |`);
  });

  it('treats an unclosed fence as code to the end and drops empty blocks', () => {
    expect(toDingTalkMarkdown('x\n```sh\nls')).toBe(`x\n\n**sh**  \n${NBSP}${NBSP}ls`);
    expect(toDingTalkMarkdown('```\n\n```')).toBe('');
  });
});

describe('toDingTalkMarkdown: other unsupported syntax', () => {
  it('drops strikethrough markers but keeps the text', () => {
    expect(toDingTalkMarkdown('price ~~10~~ 8')).toBe('price 10 8');
  });

  it('flattens nested list items', () => {
    expect(toDingTalkMarkdown('- a\n  - b\n    1. c\n- d')).toBe('- a\n- b\n1. c\n- d');
  });

  it('leaves supported markdown untouched', () => {
    const text = [
      '#### 杭州天气 @manager807',
      '> 9度，西北风1级',
      '',
      '- **bold** *italic* [link](https://www.dingtalk.com)',
      '1. first',
      '![img](https://example.com/a.png)',
      '    indented prose',
    ].join('\n');
    // Only the hard breaks DingTalk needs between text lines are added (two trailing spaces).
    const expected = text.replace('1. first\n', '1. first  \n').replace('a.png)\n', 'a.png)  \n');
    expect(toDingTalkMarkdown(text)).toBe(expected);
  });

  it('hard-breaks consecutive text lines so DingTalk keeps them apart', () => {
    const text =
      'Pairing code: ABCD2345\nAsk the owner to run:\ndingtalk-channel pairing approve ABCD2345';
    expect(toDingTalkMarkdown(text)).toBe(
      'Pairing code: ABCD2345  \nAsk the owner to run:  \ndingtalk-channel pairing approve ABCD2345',
    );
    expect(toDingTalkMarkdown('Title\n\n- a\n- b')).toBe('Title\n\n- a\n- b');
  });
});

describe('replyTitle (channel-semantics.md §7: first line, plain text, at most 20 characters)', () => {
  it('strips markdown from the first non-empty line', () => {
    expect(replyTitle('\n\n## **Hello** [world](https://x.y) `now`\nmore')).toBe('Hello world now');
    expect(replyTitle('> - [x] snake_case _done_')).toBe('snake_case done');
  });

  it('cuts at 20 code points, not bytes or UTF-16 units', () => {
    expect(replyTitle('这是一个非常非常非常非常非常非常长的标题文字')).toBe(
      '这是一个非常非常非常非常非常非常长的标题',
    );
    expect(Array.from(replyTitle('😀'.repeat(30)))).toHaveLength(20);
  });

  it('skips fence and rule lines, falls back to "Reply"', () => {
    expect(replyTitle('```ts\nconst x = 1;\n```')).toBe('const x = 1;');
    expect(replyTitle('---\n| Name | Age |')).toBe('Name Age');
    expect(replyTitle('  \n ** ** \n')).toBe('Reply');
  });
});
