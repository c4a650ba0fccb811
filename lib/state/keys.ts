/**
 * The key layout of the single state table: every record the channel stores, in one place.
 * (The same table is in README.md, section "State".)
 *
 * | record              | builder (`keys.`)   | pk                                    | sk                                 | attributes                               | expiresAt (s)            |
 * |---------------------|---------------------|---------------------------------------|------------------------------------|------------------------------------------|--------------------------|
 * | pairing sender      | `pairingSender`     | `pairing#<account>`                   | `sender#<senderId>`                | code, nick, createdAt                    | createdAt + 1 h          |
 * | pairing slot        | `pairingSlot`       | `pairing#<account>`                   | `slot#<0..2>`                      | code, senderId                           | createdAt + 1 h          |
 * | pairing request     | `pairingRequest`    | `pairing#<account>`                   | `code#<CODE>`                      | code, senderId, nick, createdAt, slot    | createdAt + 1 h          |
 * | runtime allowlist   | `allowEntry`        | `allow#<account>`                     | `user#<userId, lower-cased>`       | userId (as written), addedAt, via        | none                     |
 * | dedup claim         | `dedupClaim`        | `dedup#<account>#<msgId>`             | `claim`                            | status INPROGRESS/COMPLETED, leaseUntil  | ≥ now + 24 h (COMPLETED) |
 * | session metadata    | `sessionMeta`       | `session#<account>#<sessionKey>`      | `meta`                             | generation (bumped by /new), updatedAt   | idle TTL (caller)        |
 * | session history     | `sessionHistory`    | `session#<account>#<sessionKey>`      | `history#<generation, 10 digits>`  | turns (bounded), version                 | idle TTL (caller)        |
 * | session lease       | `sessionLease`      | `session#<account>#<sessionKey>`      | `lease`                            | msgId, leaseUntil                        | leaseUntil               |
 * | session queue entry | `sessionQueueEntry` | `session#<account>#<sessionKey>`      | `queue#<createAt ms, 15 digits>#<msgId>` | msgId, createAt                    | createAt + lease horizon |
 * | group hint marker   | `groupHint`         | `grouphint#<account>#<conversationId>` | `logged`                          | loggedAt                                 | loggedAt + 7 d           |
 * | open AI card        | `openCard`          | `cards#<account>`                     | `open#<outTrackId>`                | msgId, conversation, watchdogAt, stop    | watchdogAt + 1 d         |
 *
 * Queries (one Query each): `keys.pairingRequests(account)` (pending list), `keys.pairingSlots`,
 * `keys.allowlist(account)`, `keys.sessionQueue(account, sessionKey)` (arrival order),
 * `keys.openCards(account)` (the relay's card watchdog sweep, one Query per account).
 *
 * Encoding: `#` separates parts. Every id is kept case-preserving (DingTalk ids go back into API
 * calls) with only `%` → `%25` and `#` → `%23` escaped, so a part never contains a raw `#` and
 * distinct id tuples can never produce the same key (`:`, `=`, `+`, `/` pass through unchanged).
 * Two exceptions fold case on purpose: pairing codes are upper-cased (codes match
 * case-insensitively, §3) and allowlist sort keys are ASCII lower-cased (allowFrom matching is
 * case-insensitive, §2; the original id is kept in `userId`). Every partition key starts with a
 * record-type prefix and includes the account id (§1: state is always keyed by account).
 *
 * Spread: dedup claims and group hints get a partition per message / conversation, so hot
 * accounts spread evenly; pairing and allowlist are small per-account partitions read with one
 * Query; a session's records share a partition so one Query shows its queue in arrival order.
 *
 * Pairing without transactions (channel-semantics.md §3), every write conditional on one item:
 *   1. claim `sender#S` {code C, expiresAt} if absentOrExpired(now). Failing with a live item
 *      means S already has a pending request: same code, no reply, drop. Two handlers racing on
 *      a new sender: exactly one wins this step.
 *   2. claim one of `slot#0..2` if absentOrExpired(now) OR equals('code', C). None free → delete
 *      `sender#S` if equals('code', C): the 4th sender gets no record and no reply.
 *   3. put `code#C` if absentOrExpired(now) OR equals('senderId', S). Failure = code collision with
 *      another live request (pick C among codes not listed by one Query to make it ~impossible):
 *      undo steps 2 and 1 (conditional on code C) and drop.
 *   4. send the challenge. Steps 2–3 are idempotent, so a handler that died after step 1 is
 *      repaired by the sender's next message (live `sender#S` without `code#C` → redo 2–3).
 *   All three records carry the same expiresAt, so expiry frees slot, code and sender together.
 *   List pending = Query `code#` (filter expiresAt > now); find by code = get `code#C`; find by
 *   sender = get `sender#S`. Approve/reject: put allowlist entry (approve only), then delete
 *   `code#C`, `slot#n` and `sender#S`, each if equals('code', C). Live requests ≤ live slots ≤ 3.
 */

import { foldAsciiCase } from '../ascii.js';
import { ChannelError } from '../errors.js';
import type { StateItem } from './port.js';
import { checkKey } from './values.js';

/** A record's primary key; spread it into an item: `{ ...keys.dedupClaim(a, m), status }`. */
export interface ItemKey {
  pk: string;
  sk: string;
}

/** A partition and sort-key prefix: `store.query(q.pk, { skPrefix: q.skPrefix })`. */
export interface PartitionQuery {
  pk: string;
  skPrefix: string;
}

/** At most this many pending pairing requests per account (§3). */
export const PAIRING_SLOTS = 3;

/** Sort-key prefixes, for queries and for telling record kinds apart in a partition. */
export const SK_PREFIX = {
  pairingSender: 'sender#',
  pairingSlot: 'slot#',
  pairingCode: 'code#',
  allowUser: 'user#',
  sessionHistory: 'history#',
  sessionQueue: 'queue#',
  openCard: 'open#',
} as const;

/** Escapes an id for use as one key part: `%` → `%25`, `#` → `%23`, nothing else. */
export function escapeId(id: string, what = 'id'): string {
  if (typeof id !== 'string' || id === '') {
    throw new ChannelError('invalid_state_input', `${what} must be a non-empty string`);
  }
  return id.replace(/%/g, '%25').replace(/#/g, '%23');
}

/** Reverses `escapeId`. */
export function unescapeId(part: string): string {
  return part.replace(/%23/g, '#').replace(/%25/g, '%');
}

function itemKey(pk: string, sk: string): ItemKey {
  checkKey(pk, sk);
  return { pk, sk };
}

function digits(value: number, width: number, what: string): string {
  if (!Number.isSafeInteger(value) || value < 0 || String(value).length > width) {
    throw new ChannelError(
      'invalid_state_input',
      `${what} must be a non-negative integer of at most ${width} digits`,
    );
  }
  return String(value).padStart(width, '0');
}

const pairingPk = (account: string) => `pairing#${escapeId(account, 'account')}`;
const allowPk = (account: string) => `allow#${escapeId(account, 'account')}`;
const sessionPk = (account: string, sessionKey: string) =>
  `session#${escapeId(account, 'account')}#${escapeId(sessionKey, 'sessionKey')}`;

/** Normalises a pairing code as typed by the owner (trimmed, upper-cased). */
export function normalizePairingCode(code: string): string {
  return typeof code === 'string' ? code.trim().toUpperCase() : code;
}

/** Key builders for every record of the state table (layout in the comment above). */
export const keys = {
  /** The sender's pending-request claim (one per sender). */
  pairingSender: (account: string, senderId: string): ItemKey =>
    itemKey(pairingPk(account), `${SK_PREFIX.pairingSender}${escapeId(senderId, 'senderId')}`),

  /** Capacity slot `n` (0 ≤ n < PAIRING_SLOTS). */
  pairingSlot: (account: string, n: number): ItemKey => {
    if (!Number.isInteger(n) || n < 0 || n >= PAIRING_SLOTS) {
      throw new ChannelError('invalid_state_input', `pairing slot must be 0..${PAIRING_SLOTS - 1}`);
    }
    return itemKey(pairingPk(account), `${SK_PREFIX.pairingSlot}${n}`);
  },

  /** The request record, found by code (matched case-insensitively). */
  pairingRequest: (account: string, code: string): ItemKey =>
    itemKey(
      pairingPk(account),
      `${SK_PREFIX.pairingCode}${escapeId(normalizePairingCode(code), 'pairing code')}`,
    ),

  /** All request records of an account (filter expired ones in code). */
  pairingRequests: (account: string): PartitionQuery => ({
    pk: pairingPk(account),
    skPrefix: SK_PREFIX.pairingCode,
  }),

  /** All capacity slots of an account. */
  pairingSlots: (account: string): PartitionQuery => ({
    pk: pairingPk(account),
    skPrefix: SK_PREFIX.pairingSlot,
  }),

  /** One runtime allowlist entry (the sort key folds case; keep the id itself in `userId`). */
  allowEntry: (account: string, userId: string): ItemKey =>
    itemKey(allowPk(account), `${SK_PREFIX.allowUser}${foldAsciiCase(escapeId(userId, 'userId'))}`),

  /** The whole runtime allowlist of an account. */
  allowlist: (account: string): PartitionQuery => ({
    pk: allowPk(account),
    skPrefix: SK_PREFIX.allowUser,
  }),

  /** The dedup claim of one inbound message (§9). */
  dedupClaim: (account: string, msgId: string): ItemKey =>
    itemKey(`dedup#${escapeId(account, 'account')}#${escapeId(msgId, 'msgId')}`, 'claim'),

  /** Session metadata (generation, counters). */
  sessionMeta: (account: string, sessionKey: string): ItemKey =>
    itemKey(sessionPk(account, sessionKey), 'meta'),

  /** The bounded history of one session generation (a new generation starts empty). */
  sessionHistory: (account: string, sessionKey: string, generation: number): ItemKey =>
    itemKey(
      sessionPk(account, sessionKey),
      `${SK_PREFIX.sessionHistory}${digits(generation, 10, 'generation')}`,
    ),

  /** The one-message-at-a-time lease of a session (§6). */
  sessionLease: (account: string, sessionKey: string): ItemKey =>
    itemKey(sessionPk(account, sessionKey), 'lease'),

  /** A waiting message; sort order = arrival order (createAt ms, then msgId). */
  sessionQueueEntry: (
    account: string,
    sessionKey: string,
    createAt: number,
    msgId: string,
  ): ItemKey =>
    itemKey(
      sessionPk(account, sessionKey),
      `${SK_PREFIX.sessionQueue}${digits(createAt, 15, 'createAt')}#${escapeId(msgId, 'msgId')}`,
    ),

  /** A session's waiting messages, oldest first. */
  sessionQueue: (account: string, sessionKey: string): PartitionQuery => ({
    pk: sessionPk(account, sessionKey),
    skPrefix: SK_PREFIX.sessionQueue,
  }),

  /**
   * An AI card that is streaming (issue 13): written when the card opens, deleted when it
   * closes; the stop button's callback marks it, the relay's watchdog closes it past watchdogAt.
   */
  openCard: (account: string, outTrackId: string): ItemKey =>
    itemKey(
      `cards#${escapeId(account, 'account')}`,
      `${SK_PREFIX.openCard}${escapeId(outTrackId, 'outTrackId')}`,
    ),

  /** Every open card of an account (the watchdog's one Query per sweep). */
  openCards: (account: string): PartitionQuery => ({
    pk: `cards#${escapeId(account, 'account')}`,
    skPrefix: SK_PREFIX.openCard,
  }),

  /** The once-per-conversation "group dropped, here is the key to set" log marker (§4). */
  groupHint: (account: string, conversationId: string): ItemKey =>
    itemKey(
      `grouphint#${escapeId(account, 'account')}#${escapeId(conversationId, 'conversationId')}`,
      'logged',
    ),
};

/** True when `item` is dead at `nowSeconds`: its `expiresAt` is before now — the same rule as
 * `cond.absentOrExpired`, so code and conditions never disagree about a record. */
export function isExpired(item: Pick<StateItem, 'expiresAt'>, nowSeconds: number): boolean {
  return item.expiresAt !== undefined && item.expiresAt < nowSeconds;
}
