// DingTalk markdown as the client renders it, within its limits (dingtalk-protocol.md §5: the
// markdown msgtype supports headings, bold, italic, links, images, ordered and unordered lists,
// quotes and line breaks; nothing else, and no raw HTML). Safe by construction: the whole text
// is HTML-escaped first, then only the supported patterns are turned into tags; link and image
// URLs must be http(s), anything else stays visible text. Shared by the chat page and its tests.

const ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

// The URL inside (...) is already escaped, so `&amp;` stands for `&` and quotes cannot close
// the attribute it goes into.
const SAFE_URL = /^https?:\/\/[^\s]+$/i;

function inline(escaped) {
  let html = escaped.replace(/!\[([^\]]*)\]\(([^)\s]+)\)/g, (all, alt, url) =>
    SAFE_URL.test(url) ? `<img src="${url}" alt="${alt}" loading="lazy">` : all,
  );
  html = html.replace(/\[([^\]]+)\]\(([^)\s]+)\)/g, (all, label, url) =>
    SAFE_URL.test(url)
      ? `<a href="${url}" target="_blank" rel="noopener noreferrer">${label}</a>`
      : all,
  );
  html = html.replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>');
  html = html.replace(/(^|[^*])\*([^*\s][^*]*)\*/g, '$1<em>$2</em>');
  // @-mentions: "@" at the start or after a space, then a staffId or a nick (CJK included).
  html = html.replace(/(^|\s)@([\w.\-\u3400-\u9fff]+)/gu, '$1<span class="mention">@$2</span>');
  return html;
}

/**
 * Renders DingTalk markdown to HTML. Block rules: `#`…`######` headings, `- `/`* ` unordered
 * and `1. ` ordered list items, `> ` quotes, blank lines between paragraphs; single newlines
 * are line breaks (DingTalk shows them).
 */
export function renderMarkdown(text) {
  const lines = escapeHtml(text ?? '').split(/\r?\n/);
  const out = [];
  let list = null;
  let paragraph = [];
  const flushParagraph = () => {
    if (paragraph.length > 0) out.push(`<p>${paragraph.map(inline).join('<br>')}</p>`);
    paragraph = [];
  };
  const closeList = () => {
    if (list) out.push(`</${list}>`);
    list = null;
  };
  for (const line of lines) {
    const heading = /^(#{1,6})\s+(.*)$/.exec(line);
    const bullet = /^\s*[-*]\s+(.*)$/.exec(line);
    const numbered = /^\s*\d+\.\s+(.*)$/.exec(line);
    const quote = /^&gt;\s?(.*)$/.exec(line);
    if (heading) {
      flushParagraph();
      closeList();
      const level = heading[1].length;
      out.push(`<h${level}>${inline(heading[2])}</h${level}>`);
    } else if (bullet || numbered) {
      flushParagraph();
      const kind = bullet ? 'ul' : 'ol';
      if (list !== kind) {
        closeList();
        out.push(`<${kind}>`);
        list = kind;
      }
      out.push(`<li>${inline((bullet ?? numbered)[1])}</li>`);
    } else if (quote) {
      flushParagraph();
      closeList();
      out.push(`<blockquote>${inline(quote[1])}</blockquote>`);
    } else if (line.trim() === '') {
      flushParagraph();
      closeList();
    } else {
      closeList();
      paragraph.push(line);
    }
  }
  flushParagraph();
  closeList();
  return out.join('');
}
