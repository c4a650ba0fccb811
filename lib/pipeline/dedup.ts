/**
 * Idempotent handling (architecture invariant 2, channel-semantics.md §9), after the
 * idempotency design in style.md: one record per (account, msgId), claimed with one conditional
 * write. `EXPIRED` and "abandoned" are derived from stored timestamps, never stored.
 *
 *   claim ──INPROGRESS (leaseUntil = the function's deadline)──► reply stored ──► chunks sent ──► COMPLETED (kept ≥ 24 h)
 *     │                                   │
 *     │ a second delivery while the lease │ handler error: no reply yet → record deleted (the retry runs afresh);
 *     │ runs → "in progress" duplicate    │ reply partly sent → lease zeroed, progress kept (the retry resumes
 *     │                                   │ with the stored reply and the remaining chunks: no second agent
 *     ▼                                   ▼ call, no chunk sent twice)
 *   a delivery after COMPLETED → duplicate, nothing sent
 *   a delivery after the lease ran out (the handler died) → takes the record over and resumes
 *
 * Guarded by test/pipeline/dedup.test.ts and test/pipeline/handler-dedup.test.ts.
 */
import { randomUUID } from 'node:crypto';
import { ChannelError } from '../errors.js';
import { keys } from '../state/keys.js';
import { cond, type StateItem, type StateStore, toEpochSeconds } from '../state/port.js';

/** Completed records are kept at least this long (DingTalk redelivers within about a minute). */
export const COMPLETED_TTL_MS = 24 * 60 * 60 * 1000;

export type ClaimResult =
  | { claimed: true; claim: Claim }
  | { claimed: false; reason: 'duplicate_completed' | 'duplicate_in_progress' };

/** Ownership of one message's record, plus what an earlier, abandoned attempt left behind. */
export interface Claim {
  accountId: string;
  msgId: string;
  owner: string;
  /** The agent's reply stored by an earlier attempt, if it got that far. */
  reply?: string;
  /** How many reply chunks that earlier attempt delivered. */
  sentChunks: number;
}

const IN_PROGRESS = 'INPROGRESS';
const COMPLETED = 'COMPLETED';

/** Claims a message for this invocation until `leaseUntil` (epoch ms). */
export async function claimMessage(
  store: StateStore,
  accountId: string,
  msgId: string,
  now: number,
  leaseUntil: number,
): Promise<ClaimResult> {
  const key = keys.dedupClaim(accountId, msgId);
  const owner = randomUUID();
  const fresh: StateItem = {
    ...key,
    status: IN_PROGRESS,
    owner,
    leaseUntil,
    sentChunks: 0,
    expiresAt: toEpochSeconds(now + COMPLETED_TTL_MS),
  };
  const first = await store.put(fresh, cond.absentOrExpired(toEpochSeconds(now)));
  if (first.ok) return { claimed: true, claim: { accountId, msgId, owner, sentChunks: 0 } };
  const current = first.current;
  if (!current) return claimMessage(store, accountId, msgId, now, leaseUntil); // deleted meanwhile
  if (current.status === COMPLETED) return { claimed: false, reason: 'duplicate_completed' };
  const previousLease = typeof current.leaseUntil === 'number' ? current.leaseUntil : 0;
  if (previousLease >= now) return { claimed: false, reason: 'duplicate_in_progress' };
  // Abandoned: take it over only if nobody else did since we read it.
  const takeover = await store.update(
    key.pk,
    key.sk,
    { owner, leaseUntil },
    cond.and(cond.equals('status', IN_PROGRESS), cond.equals('owner', String(current.owner))),
  );
  if (!takeover.ok) return { claimed: false, reason: 'duplicate_in_progress' };
  return {
    claimed: true,
    claim: {
      accountId,
      msgId,
      owner,
      ...(typeof current.reply === 'string' ? { reply: current.reply } : {}),
      sentChunks: typeof current.sentChunks === 'number' ? current.sentChunks : 0,
    },
  };
}

/** Extends the claim's lease while the message is being handled (see handler.ts). */
export async function renewClaim(
  store: StateStore,
  claim: Claim,
  leaseUntil: number,
): Promise<void> {
  await ownedUpdate(store, claim, { leaseUntil });
}

/** Stores the reply before it is sent, so a retry resumes instead of asking the agent again. */
export async function recordReply(store: StateStore, claim: Claim, reply: string): Promise<void> {
  await ownedUpdate(store, claim, { reply, sentChunks: 0 });
  claim.reply = reply;
  claim.sentChunks = 0;
}

/** Notes that the first `sentChunks` chunks of the stored reply were delivered. */
export async function recordProgress(
  store: StateStore,
  claim: Claim,
  sentChunks: number,
): Promise<void> {
  await ownedUpdate(store, claim, { sentChunks });
  claim.sentChunks = sentChunks;
}

/** Marks the message handled; later deliveries are duplicates for at least 24 h. */
export async function completeMessage(
  store: StateStore,
  claim: Claim,
  now: number,
  outcome: string,
): Promise<void> {
  await ownedUpdate(store, claim, {
    status: COMPLETED,
    outcome,
    reply: undefined,
    leaseUntil: undefined,
    expiresAt: toEpochSeconds(now + COMPLETED_TTL_MS),
  });
}

/**
 * Gives the message up after a failure, so the platform's retry (or DingTalk's redelivery)
 * handles it: with nothing sent yet the record is deleted; otherwise the lease is zeroed and
 * the stored reply and progress stay for the retry.
 */
export async function abandonMessage(store: StateStore, claim: Claim): Promise<void> {
  const key = keys.dedupClaim(claim.accountId, claim.msgId);
  if (claim.reply === undefined) {
    await store.delete(key.pk, key.sk, cond.equals('owner', claim.owner));
  } else {
    // `sentChunks` as known here includes a last chunk whose completion write failed.
    await store.update(
      key.pk,
      key.sk,
      { leaseUntil: 0, sentChunks: claim.sentChunks },
      cond.equals('owner', claim.owner),
    );
  }
}

async function ownedUpdate(
  store: StateStore,
  claim: Claim,
  set: Parameters<StateStore['update']>[2],
): Promise<void> {
  const key = keys.dedupClaim(claim.accountId, claim.msgId);
  const result = await store.update(key.pk, key.sk, set, cond.equals('owner', claim.owner));
  if (!result.ok) throw new LostClaimError(claim.msgId);
}

/** Another invocation took the message over (our lease ran out): stop without sending more. */
export class LostClaimError extends ChannelError {
  override name = 'LostClaimError';
  constructor(msgId: string) {
    super(
      'dedup_claim_lost',
      `the dedup claim of message ${msgId} was taken over by another invocation`,
    );
  }
}
