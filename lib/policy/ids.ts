/**
 * Sender-id matching for `dm.allowFrom`, group `users` and the runtime allowlist
 * (channel-semantics.md §2): a configured entry is trimmed and loses a leading `dingtalk:` /
 * `dd:` / `ding:` prefix and an optional `user:`; the incoming sender id is taken exactly as
 * DingTalk sent it. The two compare with ASCII case folded only (no Unicode folding: `K`
 * U+212A is not `k`). `"*"` matches everyone.
 */
import { foldAsciiCase } from '../ascii.js';

/** The wildcard entry of an id list. */
export const ANY_SENDER = '*';

const CHANNEL_PREFIX = /^(?:dingtalk|dd|ding):/i;
const USER_PREFIX = /^user:/i;

/** The id as written by a person, without channel/user prefixes (case kept: ids go back into API calls). */
export function stripIdPrefixes(raw: string): string {
  return raw.trim().replace(CHANNEL_PREFIX, '').replace(USER_PREFIX, '').trim();
}

/** The comparison form of a configured entry: prefixes stripped, ASCII lower-cased. */
export function normalizeSenderId(raw: string): string {
  return foldAsciiCase(stripIdPrefixes(raw));
}

/** The comparison form of an incoming sender id: exact, ASCII lower-cased only. */
export function senderIdKey(senderId: string): string {
  return foldAsciiCase(senderId);
}

/**
 * True when `entries` contains `"*"` or an entry naming `senderId` (§2 matching rules).
 * `wildcard: false` ignores `"*"` (the runtime allowlist never opens DMs to everyone).
 */
export function idListMatches(
  entries: readonly string[] | undefined,
  senderId: string,
  options: { wildcard?: boolean } = {},
): boolean {
  if (!entries || entries.length === 0) return false;
  const wildcard = options.wildcard ?? true;
  const wanted = senderIdKey(senderId);
  if (wanted === '') return false;
  return entries.some((entry) => {
    const id = normalizeSenderId(entry);
    return id === ANY_SENDER ? wildcard : id === wanted;
  });
}
