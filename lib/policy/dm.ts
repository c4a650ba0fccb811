/**
 * Direct messages (channel-semantics.md §2): the `dm.policy` table. Pure; the runtime allowlist
 * arrives as data (the entries read for this sender), never through I/O here.
 */
import type { AccountConfig } from '../config/index.js';
import { idListMatches } from './ids.js';
import type { DmDecision } from './types.js';

/**
 * The §2 table: `disabled` drops everyone; `allowlist` handles the allowed set and drops the
 * rest; `open` handles everyone (its `"*"` is enforced at load); `pairing` challenges strangers.
 * Allowed set = config `dm.allowFrom` ∪ the runtime allowlist.
 */
export function decideDm(
  account: AccountConfig,
  senderId: string,
  runtimeAllowlist: readonly string[],
): DmDecision {
  const { policy } = account.dm;
  if (policy === 'disabled') return { outcome: 'drop', reason: 'dm_disabled' };
  if (idListMatches(account.dm.allowFrom, senderId)) {
    return { outcome: 'admit', conversation: 'dm', via: policy === 'open' ? 'open' : 'config' };
  }
  if (idListMatches(runtimeAllowlist, senderId, { wildcard: false })) {
    return { outcome: 'admit', conversation: 'dm', via: 'runtime' };
  }
  if (policy === 'pairing') return { outcome: 'pairing' };
  // `allowlist`, and `open` without "*" (rejected at load, so only reachable with a hand-built
  // config): never admit a sender nobody listed.
  return { outcome: 'drop', reason: 'dm_not_allowed' };
}
