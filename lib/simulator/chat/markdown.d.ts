/** Types of the chat page's markdown renderer (plain browser JavaScript in markdown.js). */
/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string;
/** Renders DingTalk markdown to safe HTML. */
export function renderMarkdown(text: string | undefined): string;
