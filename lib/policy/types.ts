/**
 * The decisions policy hands the pipeline. Drop reasons are stable strings: they appear in log
 * lines (`policy.drop` `reason`) and are counted, so renaming one is a breaking change.
 */
import type { GroupConfig, GroupPolicy } from '../config/index.js';

/** Why a message was dropped (§2, §3, §4). */
export type DropReason =
  | 'dm_disabled'
  | 'dm_not_allowed'
  | 'pairing_pending'
  | 'pairing_rejected'
  | 'pairing_capacity'
  | 'pairing_code_collision'
  | 'group_disabled'
  | 'group_not_allowed'
  | 'group_entry_disabled'
  | 'group_sender_not_allowed'
  | 'mention_required';

/** Every drop reason, for counters and docs. */
export const DROP_REASONS: readonly DropReason[] = [
  'dm_disabled',
  'dm_not_allowed',
  'pairing_pending',
  'pairing_rejected',
  'pairing_capacity',
  'pairing_code_collision',
  'group_disabled',
  'group_not_allowed',
  'group_entry_disabled',
  'group_sender_not_allowed',
  'mention_required',
];

/** What the channel applies to one group (§4), resolved from the account's `groups`. */
export interface GroupSettings {
  conversationId: string;
  policy: GroupPolicy;
  /** The `groups` key whose entry applies (`enabled`, `users`): exact id, else `"*"`, else none. */
  entryKey: string | undefined;
  enabled: boolean;
  users: string[] | undefined;
  /** Resolved field by field: exact entry → `"*"` → account → `true`. */
  requireMention: boolean;
  /** Resolved like `requireMention` (the whole object from the most specific entry setting it). */
  tools: GroupConfig['tools'];
  systemPrompt: string | undefined;
}

/** How an admitted DM sender got in. */
export type DmAdmission = 'config' | 'runtime' | 'open';

export type DmDecision =
  | { outcome: 'admit'; conversation: 'dm'; via: DmAdmission }
  | { outcome: 'drop'; reason: DropReason }
  | { outcome: 'pairing' };

export type GroupDecision =
  | { outcome: 'admit'; conversation: 'group'; group: GroupSettings }
  | { outcome: 'drop'; reason: DropReason; hint?: string };

/**
 * The access decision for one message: admit (with the group's settings for groups), drop with
 * a reason (and, for group drops at §4 steps 1–3, a hint to log once per conversation), or run
 * the pairing challenge (§3).
 */
export type AccessDecision = DmDecision | GroupDecision;

/** The admitted variants. */
export type Admission = Extract<AccessDecision, { outcome: 'admit' }>;
/** The dropped variants. */
export type Drop = Extract<AccessDecision, { outcome: 'drop' }>;
