/**
 * Access policy (channel-semantics.md §2–§4): one pure entry, `decideAccess`, that decides from
 * the message, the resolved account and the runtime-allowlist entries read for the sender.
 * The stateful steps (reading the allowlist, the pairing request, the once-per-group hint) are
 * in access.ts, pairing-store.ts and allowlist-store.ts.
 *
 * Invariants, each guarded by a test:
 * - every cell of the §2 DM table and every step of the §4 group order decides as the spec says
 *   (test/policy/dm.test.ts "§2 Direct messages", test/policy/group.test.ts "§4 Groups");
 * - ids match after trim, prefix stripping and case folding; `"*"` matches everyone in config
 *   lists but never in the runtime allowlist (test/policy/ids.test.ts);
 * - the runtime allowlist and pairing never admit anyone to a group
 *   (test/policy/group.test.ts "pairing never grants group access");
 * - the runtime allowlist is read only when config alone does not admit a DM sender
 *   (test/policy/access.test.ts);
 * - one sender has at most one live request, an account at most 3, and concurrent first
 *   messages send exactly one challenge (test/policy/pairing-store.test.ts, memory and dynalite);
 * - a group hint is logged once per conversation (test/policy/access.test.ts).
 */
import type { AccountConfig } from '../config/index.js';
import type { InboundMessage } from '../dingtalk/inbound-types.js';
import { decideDm } from './dm.js';
import { decideGroup } from './group.js';
import type { AccessDecision } from './types.js';

/** The parts of an inbound message policy reads. */
export type PolicyMessage = Pick<
  InboundMessage,
  'conversationType' | 'conversationId' | 'isInAtList' | 'text'
> & { sender: Pick<InboundMessage['sender'], 'id'> };

/**
 * Decides one message. `runtimeAllowlist` is the account's runtime allowlist, or just the
 * entries read for this sender (only DMs consult it; see access.ts for when it is read).
 */
export function decideAccess(
  message: PolicyMessage,
  account: AccountConfig,
  runtimeAllowlist: readonly string[] = [],
): AccessDecision {
  // sender.id is senderStaffId, else senderId (external senders): resolved by the parser (§2).
  const senderId = message.sender.id;
  if (message.conversationType === 'dm') return decideDm(account, senderId, runtimeAllowlist);
  return decideGroup(account, {
    conversationId: message.conversationId,
    senderId,
    isInAtList: message.isInAtList,
    text: message.text,
  });
}
