/** The chat page's DingTalk markdown renderer: the supported subset, and nothing unsafe. */
import { describe, expect, it } from 'vitest';
import { escapeHtml, renderMarkdown } from '../../lib/simulator/chat/markdown.js';

describe('renderMarkdown', () => {
  it('renders the DingTalk subset: headings, bold, italic, links, images, lists, quotes, breaks', () => {
    const html = renderMarkdown(
      '#### 杭州天气 @manager807\n> 9度，西北风1级\n\n- **bold** *italic* [link](https://www.dingtalk.com)\n1. one\n2. two\n\nline one\nline two ![pic](https://img.example/a.png)',
    );
    expect(html).toBe(
      '<h4>杭州天气 <span class="mention">@manager807</span></h4>' +
        '<blockquote>9度，西北风1级</blockquote>' +
        '<ul><li><strong>bold</strong> <em>italic</em> <a href="https://www.dingtalk.com" target="_blank" rel="noopener noreferrer">link</a></li></ul>' +
        '<ol><li>one</li><li>two</li></ol>' +
        '<p>line one<br>line two <img src="https://img.example/a.png" alt="pic" loading="lazy"></p>',
    );
  });

  it('escapes HTML before anything else: tags, attributes and scripts stay text', () => {
    const html = renderMarkdown('<img src=x onerror=alert(1)> **<b>hi</b>** "quoted"');
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<b>');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).toContain('<strong>&lt;b&gt;hi&lt;/b&gt;</strong>');
    expect(html).toContain('&quot;quoted&quot;');
  });

  it('keeps links and images with non-http URLs as visible text', () => {
    expect(renderMarkdown('[x](javascript:alert(1))')).toBe('<p>[x](javascript:alert(1))</p>');
    expect(renderMarkdown('![x](data:image/png;base64,AAAA)')).not.toContain('<img');
    // A quote in a URL cannot close the attribute: it was escaped first.
    expect(renderMarkdown('[x](https://a.example/"onmouseover=alert(1))')).toContain(
      'href="https://a.example/&quot;onmouseover=alert(1"',
    );
  });

  it('highlights @-mentions of staff ids and Chinese nicks, not e-mail addresses', () => {
    expect(renderMarkdown('hi @张三 and @user_42')).toBe(
      '<p>hi <span class="mention">@张三</span> and <span class="mention">@user_42</span></p>',
    );
    expect(renderMarkdown('mail a@b.example')).toBe('<p>mail a@b.example</p>');
  });

  it('escapes every HTML-special character, emoji untouched', () => {
    expect(escapeHtml(`<&>"' 👋`)).toBe('&lt;&amp;&gt;&quot;&#39; 👋');
  });
});
