/**
 * Groups (channel-semantics.md §4), checked in order, the first failing step drops silently:
 *   1. `groupPolicy: "disabled"`                         → group_disabled        (hint)
 *   2. `allowlist`: id or `"*"` must be a `groups` key   → group_not_allowed     (hint)
 *   3. the entry (exact id, else `"*"`) `enabled: false` → group_entry_disabled  (hint)
 *   4. the entry's `users`, if non-empty, must match the sender → group_sender_not_allowed
 *   5. mention gate (`requireMention` field by field)    → mention_required
 * Pure. The runtime DM allowlist and pairing never count here.
 */
import type { AccountConfig, GroupConfig } from '../config/index.js';
import { ANY_SENDER, idListMatches } from './ids.js';
import type { DropReason, GroupDecision, GroupSettings } from './types.js';

/** The `groups` entries that apply to a conversation: exact first, then `"*"`. */
function entriesFor(account: AccountConfig, conversationId: string) {
  const groups = account.groups ?? {};
  const exact = Object.hasOwn(groups, conversationId) ? groups[conversationId] : undefined;
  const wildcard = Object.hasOwn(groups, ANY_SENDER) ? groups[ANY_SENDER] : undefined;
  return { exact, wildcard };
}

/** The first entry (exact, then `"*"`) that sets `key`. */
function firstSet<K extends keyof GroupConfig>(
  entries: ReturnType<typeof entriesFor>,
  key: K,
): GroupConfig[K] | undefined {
  return entries.exact?.[key] ?? entries.wildcard?.[key];
}

/** The group settings §4 resolves for `conversationId` (also what `/status` shows). */
export function groupSettings(account: AccountConfig, conversationId: string): GroupSettings {
  const entries = entriesFor(account, conversationId);
  const entryKey = entries.exact ? conversationId : entries.wildcard ? ANY_SENDER : undefined;
  const entry = entries.exact ?? entries.wildcard;
  return {
    conversationId,
    policy: account.groupPolicy,
    entryKey,
    enabled: entry?.enabled !== false,
    users: entry?.users,
    requireMention: firstSet(entries, 'requireMention') ?? account.requireMention ?? true,
    tools: firstSet(entries, 'tools'),
    systemPrompt: firstSet(entries, 'systemPrompt'),
  };
}

const compiled = new Map<string, RegExp | null>();

/** `mentionPatterns` are validated at load; one that still fails to compile never matches. */
function mentionRegex(source: string): RegExp | null {
  let regex = compiled.get(source);
  if (regex === undefined) {
    try {
      // Case-insensitive, as users write names ("Bot", "bot") without thinking of case.
      regex = new RegExp(source, 'i');
    } catch {
      regex = null;
    }
    compiled.set(source, regex);
  }
  return regex;
}

/** §4 step 5: @-mentioned (`isInAtList`), or a `mentionPatterns` regex matches the text. */
export function isMentioned(
  account: AccountConfig,
  message: { isInAtList: boolean; text: string },
): boolean {
  if (message.isInAtList) return true;
  return (account.mentionPatterns ?? []).some((source) => mentionRegex(source)?.test(message.text));
}

/** Where this account's keys live in the configuration, for hints. */
function configBase(account: AccountConfig): string {
  return account.accountId === 'default'
    ? 'channels.dingtalk'
    : `channels.dingtalk.accounts.${account.accountId}`;
}

/** The "which key do I set" hint for a group dropped at steps 1–3 (§4). */
export function groupHint(
  reason: DropReason,
  account: AccountConfig,
  settings: GroupSettings,
): string | undefined {
  const base = configBase(account);
  const groupKey = `${base}.groups[${JSON.stringify(settings.conversationId)}]`;
  switch (reason) {
    case 'group_disabled':
      return `${base}.groupPolicy is "disabled": set it to "allowlist" and add ${groupKey}, or set it to "open"`;
    case 'group_not_allowed':
      return `group ${settings.conversationId} is not listed: add ${groupKey} (e.g. { requireMention: true }) or set ${base}.groupPolicy: "open"`;
    case 'group_entry_disabled':
      return settings.entryKey === ANY_SENDER
        ? `${base}.groups["*"] has enabled: false: add ${groupKey} to admit this group`
        : `${groupKey} has enabled: false: remove it or set enabled: true`;
    default:
      return undefined;
  }
}

function drop(reason: DropReason, account: AccountConfig, settings: GroupSettings): GroupDecision {
  const hint = groupHint(reason, account, settings);
  return hint ? { outcome: 'drop', reason, hint } : { outcome: 'drop', reason };
}

/** The §4 steps for one group message. */
export function decideGroup(
  account: AccountConfig,
  message: { conversationId: string; senderId: string; isInAtList: boolean; text: string },
): GroupDecision {
  const settings = groupSettings(account, message.conversationId);
  if (settings.policy === 'disabled') return drop('group_disabled', account, settings);
  if (settings.policy === 'allowlist' && settings.entryKey === undefined) {
    return drop('group_not_allowed', account, settings);
  }
  if (!settings.enabled) return drop('group_entry_disabled', account, settings);
  if (settings.users?.length && !idListMatches(settings.users, message.senderId)) {
    return drop('group_sender_not_allowed', account, settings);
  }
  if (settings.requireMention && !isMentioned(account, message)) {
    return drop('mention_required', account, settings);
  }
  return { outcome: 'admit', conversation: 'group', group: settings };
}
