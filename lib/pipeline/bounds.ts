/**
 * Size bounds that keep every message finite (issue "every message ends exactly once"): an
 * inbound text the agent and the session history can hold, and a reply that fits one state item
 * (DynamoDB's item limit is 400 KB, Tablestore's column 2 MB) and a sensible number of DingTalk
 * messages. Past these, retrying can never help, so they end the message instead of looping.
 */
import { codePointLength, utf8Length } from '../dingtalk/chunk.js';

/** Longest inbound text handed to the agent (DingTalk's own text box stops near 5,000). */
export const MAX_INPUT_CHARS = 20_000;
/** Largest reply kept for resume and sent (about 30 markdown messages of CJK text). */
export const MAX_REPLY_BYTES = 128 * 1024;

/** The reply, cut at `MAX_REPLY_BYTES` with a note saying so; unchanged when it fits. */
export function boundReply(text: string): { text: string; truncated: boolean } {
  const bytes = utf8Length(text);
  if (bytes <= MAX_REPLY_BYTES) return { text, truncated: false };
  const note = `\n\n(The reply was cut here: it had ${Math.ceil(bytes / 1024)} KB, more than the ${MAX_REPLY_BYTES / 1024} KB a reply may have.)`;
  const budget = MAX_REPLY_BYTES - utf8Length(note);
  let used = 0;
  let end = 0;
  for (const ch of text) {
    const size = utf8Length(ch);
    if (used + size > budget) break;
    used += size;
    end += ch.length;
  }
  return { text: text.slice(0, end) + note, truncated: true };
}

/** Code points of an inbound text, for the input bound. */
export const inputLength = codePointLength;
