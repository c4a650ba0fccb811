/**
 * @-mentions in replies (issue 16; dingtalk-protocol.md §5 last bullet): DingTalk renders a
 * mention only when the body's `at.atUserIds` names the staffId AND `@<staffId>` appears in the
 * text, so the at block and the text must agree both ways. Who may be mentioned:
 * - ids the agent names in a structured field (`mentions: [{ staffId }]`), trusted as given;
 * - `@<staffId>` the agent wrote in its text, when that id is known in the conversation (the
 *   sender, earlier senders of the session, users the inbound message mentioned); any other
 *   `@word` stays plain text, so an e-mail address or "@everyone" never pings anyone;
 * - the group sender, whom every group reply mentions (channel-semantics.md §7).
 * DMs mention nobody (there is no one else to notify).
 */
import type { InboundMessage } from './inbound-types.js';

/** At most this many people are mentioned by one reply (an agent's list is untrusted input). */
export const MAX_MENTIONS = 20;
/** A staffId as DingTalk issues them: letters, digits, `-` and `_` (e.g. `01426861-1254332033`). */
const STAFF_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** True when `id` looks like a staffId that can go into `at.atUserIds`. */
export function isStaffId(id: string): boolean {
  return STAFF_ID.test(id);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * True when `text` holds `@<id>` as a mention: not inside a word or an e-mail address before
 * the `@`, and not continued by another id character after it.
 */
export function mentions(text: string, id: string): boolean {
  return new RegExp(`(^|[^A-Za-z0-9._%+@-])@${escapeRegExp(id)}(?![A-Za-z0-9_-])`).test(text);
}

/** Every `@<token>` in `text` that could be a staffId mention, in order, without repeats. */
export function mentionTokens(text: string): string[] {
  const found = new Set<string>();
  for (const match of text.matchAll(
    /(^|[^A-Za-z0-9._%+@-])@([A-Za-z0-9_-]{1,64})(?![A-Za-z0-9_-])/g,
  )) {
    if (match[2]) found.add(match[2]);
  }
  return [...found];
}

/** The staffIds known in the conversation of `message`: sender first, then users it mentions. */
export function knownStaffIds(
  message: InboundMessage,
  earlierSenders: readonly string[] = [],
): string[] {
  const ids = new Set<string>();
  if (message.sender.staffId) ids.add(message.sender.staffId);
  for (const id of message.atUserIds) ids.add(id);
  for (const id of message.mentionedUserIds ?? []) ids.add(id);
  for (const id of earlierSenders) ids.add(id);
  return [...ids].filter(isStaffId);
}

/** A reply with its mentions settled: `text` holds `@<id>` for every id in `mentionIds`. */
export interface MentionedReply {
  text: string;
  /** Ids to @-mention besides the sender, in order of first appearance. */
  mentionIds: string[];
}

/**
 * Settles who a group reply mentions: structured ids (appended to the text as `@<id>` when the
 * agent did not write them) and known ids the text @-mentions. The sender is left out: the
 * formatter mentions the sender on every message of the reply. A DM mentions nobody.
 */
export function settleMentions(
  text: string,
  options: {
    conversationType: 'dm' | 'group';
    structured?: readonly string[];
    known: readonly string[];
    senderStaffId?: string;
  },
): MentionedReply {
  if (options.conversationType !== 'group') return { text, mentionIds: [] };
  const sender = options.senderStaffId;
  const structured = (options.structured ?? []).filter((id) => isStaffId(id) && id !== sender);
  const known = new Set(options.known);
  const written = mentionTokens(text).filter((id) => known.has(id) && id !== sender);
  const ids = [...new Set([...written, ...structured])].slice(0, MAX_MENTIONS);
  const missing = ids.filter((id) => !mentions(text, id));
  const trimmed = text.trimEnd();
  const withMissing =
    missing.length === 0 || trimmed === '' || trimmed === 'NO_REPLY'
      ? text
      : `${trimmed}\n\n${missing.map((id) => `@${id}`).join(' ')}`;
  return { text: withMissing, mentionIds: ids };
}

/** The ids of `candidates` that `text` mentions (for one message's at block). */
export function mentionedIn(text: string, candidates: readonly string[]): string[] {
  return candidates.filter((id) => mentions(text, id));
}
