/**
 * Idempotent handling (architecture invariant 2, channel-semantics.md §9), after the idempotency
 * design in style.md: one record per (account, msgId), claimed with one conditional write.
 * `EXPIRED` and "abandoned" are derived from stored timestamps, never stored. This module is the
 * only owner of a claim: the rest of the pipeline holds a `MessageClaim` and calls its methods.
 *
 * Invariants and their tests (test/pipeline/dedup.test.ts, test/pipeline/handler-dedup.test.ts,
 * test/pipeline/handler-final.test.ts):
 * - one live owner per message; a second delivery while the lease runs is a duplicate;
 * - a chunk that may have been sent is never sent again (at most once per chunk);
 * - the agent is asked at most once per message while its stored reply survives;
 * - after MAX_ATTEMPTS claims a message ends, whatever keeps failing.
 */
import { randomUUID } from 'node:crypto';
import { ChannelError } from '../errors.js';
import { keys } from '../state/keys.js';
import {
  type Condition,
  cond,
  type StateItem,
  type StateStore,
  type StateValue,
  toEpochSeconds,
} from '../state/port.js';
import type { StoredAttachment } from './attachments.js';

/** Completed records are kept at least this long (DingTalk redelivers within about a minute). */
export const COMPLETED_TTL_MS = 24 * 60 * 60 * 1000;
/** Claims of one message (first try, platform retries, redeliveries) before it is ended as failed. */
export const MAX_ATTEMPTS = 4;

export type ClaimResult =
  | { claimed: true; claim: MessageClaim }
  | { claimed: false; reason: 'duplicate_completed' | 'duplicate_in_progress' };

/** What an earlier attempt left: the stored reply and how far its sending got. */
export interface ReplyProgress {
  reply: string;
  /**
   * The reply's uploaded attachments (media ids, never bytes), sent after its chunks: progress
   * counts parts, the chunks first, then one per attachment (lib/pipeline/reply.ts).
   */
  attachments?: StoredAttachment[];
  /** Parts DingTalk confirmed. */
  sent: number;
  /** Parts whose request went out (sent ≤ attempted): [sent, attempted) may or may not have landed. */
  attempted: number;
  /** staffIds the reply @-mentions besides the sender (settled before it was stored). */
  mentions?: string[];
}

const IN_PROGRESS = 'INPROGRESS';
const COMPLETED = 'COMPLETED';

/**
 * The lease timeline of one record. A claim's lease is short (`leaseMs`, renewed while its
 * holder runs) so that a holder whose process died blocks its message only briefly:
 *
 *   claim ─INPROGRESS, leaseUntil─► reply stored (attempted = 1) ─► chunk k confirmed (sent = k,
 *     │                                                              attempted = k + 1) ─► COMPLETED (≥ 24 h)
 *     │ a second delivery while leaseUntil ≥ now → duplicate_in_progress (nothing done)
 *     │ a delivery after COMPLETED → duplicate_completed (nothing sent)
 *     │ the holder failed (retry) → leaseUntil = 0, reply and progress kept
 *     └ leaseUntil < now (failed or died) → the next delivery takes the record over, attempts + 1,
 *       and resumes: chunks from `attempted` on; [sent, attempted) are logged as ambiguous
 *
 * The put below succeeds when the key is new or the whole record expired (`expiresAt`, a day
 * after the last write); otherwise it returns the record as it stood, and a takeover is one
 * conditional update on the owner we saw, so two racing deliveries cannot both take it.
 */
export async function claimMessage(
  store: StateStore,
  accountId: string,
  msgId: string,
  now: number,
  leaseUntil: number,
): Promise<ClaimResult> {
  const key = keys.dedupClaim(accountId, msgId);
  const owner = randomUUID();
  const expiresAt = toEpochSeconds(now + COMPLETED_TTL_MS);
  const fresh = { ...key, status: IN_PROGRESS, owner, leaseUntil, attempts: 1, expiresAt };
  const first = await store.put(fresh, cond.absentOrExpired(toEpochSeconds(now)));
  if (first.ok) return { claimed: true, claim: new MessageClaim(store, key, owner, 1) };
  const current = first.current;
  if (!current) return claimMessage(store, accountId, msgId, now, leaseUntil); // deleted meanwhile
  if (current.status === COMPLETED) return { claimed: false, reason: 'duplicate_completed' };
  if (numberOf(current.leaseUntil) >= now)
    return { claimed: false, reason: 'duplicate_in_progress' };
  const attempts = numberOf(current.attempts) + 1;
  const takeover = await store.update(
    key.pk,
    key.sk,
    { owner, leaseUntil, attempts, expiresAt },
    cond.and(cond.equals('status', IN_PROGRESS), cond.equals('owner', String(current.owner))),
  );
  if (!takeover.ok) return { claimed: false, reason: 'duplicate_in_progress' };
  return {
    claimed: true,
    claim: new MessageClaim(store, key, owner, attempts, progressOf(current)),
  };
}

/** Ownership of one message's record. Only this class writes the record. */
export class MessageClaim {
  /** What this invocation knows of the reply's progress (the record may say more, pessimistically). */
  #progress: ReplyProgress | undefined;
  /** `attempted` as stored: `storeReply` stores 1 before chunk 0 is actually sent. */
  #storedAttempted = 0;
  #finished = false;

  constructor(
    private readonly store: StateStore,
    private readonly key: { pk: string; sk: string },
    private readonly owner: string,
    /** 1 for the first claim; each takeover adds one. */
    readonly attempts: number,
    progress?: ReplyProgress,
  ) {
    this.#progress = progress;
    this.#storedAttempted = progress?.attempted ?? 0;
  }

  /** What an earlier attempt stored, if it got as far as a reply. */
  get resumed(): ReplyProgress | undefined {
    return this.#progress && { ...this.#progress };
  }

  /** Extends the lease while the message is handled (see the timeline above). */
  renew(leaseUntil: number): Promise<void> {
    return this.#write({ leaseUntil });
  }

  /**
   * Stores the reply and marks its first chunk as about to be sent, in one write: a retry after
   * this point resumes with this reply (no second agent call) and does not send chunk 0 again.
   */
  async storeReply(
    reply: string,
    extras: {
      attachments?: readonly StoredAttachment[];
      mentions?: readonly string[];
      /**
       * The reply goes into an AI card, not markdown chunks: nothing is marked as maybe sent, so
       * a retry after a crash (attempted 0) closes the message's card with this text (steps.ts
       * `resume`) instead of taking it for a markdown reply whose first chunk went out.
       */
      card?: boolean;
    } = {},
  ): Promise<void> {
    const stored = extras.attachments?.length ? [...extras.attachments] : undefined;
    // The mentions are stored with the text: a resumed reply must cut the same chunks, with the
    // same at blocks, as the attempt that started sending it.
    const mentions = extras.mentions?.length ? [...extras.mentions] : undefined;
    await this.#write({
      reply,
      // Always set or removed, so a reply stored again (a card's overflow) drops an earlier list.
      attachments: stored ? JSON.stringify(stored) : undefined,
      mentions,
      sent: 0,
      attempted: extras.card ? 0 : 1,
    });
    this.#storedAttempted = extras.card ? 0 : 1;
    // Not sent yet: if this attempt fails before sending, `abandon` stores attempted = 0.
    this.#progress = {
      reply,
      ...(stored ? { attachments: stored } : {}),
      ...(mentions ? { mentions } : {}),
      sent: 0,
      attempted: 0,
    };
  }

  /** Chunk `index` is about to go out; every chunk before it was confirmed. */
  async sending(index: number): Promise<void> {
    const progress = this.#requireProgress();
    if (this.#storedAttempted < index + 1) {
      await this.#write({ sent: index, attempted: index + 1 });
      this.#storedAttempted = index + 1;
    }
    this.#progress = { ...progress, sent: index, attempted: index + 1 };
  }

  /**
   * DingTalk confirmed chunk `index` (kept in memory: the next `sending`, or the completion,
   * writes it), or answered that it was not sent (`landed: false`), so a retry sends it again.
   */
  settled(index: number, landed: boolean): void {
    const progress = this.#requireProgress();
    this.#progress = landed
      ? { ...progress, sent: index + 1, attempted: Math.max(progress.attempted, index + 1) }
      : { ...progress, sent: index, attempted: index };
  }

  /** Marks the message done; later deliveries are duplicates for at least 24 h. */
  async complete(now: number, outcome: string): Promise<void> {
    await this.#write(
      {
        status: COMPLETED,
        outcome,
        reply: undefined,
        attachments: undefined,
        mentions: undefined,
        leaseUntil: undefined,
        expiresAt: toEpochSeconds(now + COMPLETED_TTL_MS),
      },
      cond.equals('owner', this.owner),
    );
    this.#finished = true;
  }

  /**
   * Gives the message up for a retry: the lease is zeroed so the next delivery takes over at
   * once, and the reply with what is known of its progress stays for it. The record is kept
   * (not deleted) so that the attempt count survives.
   */
  async abandon(): Promise<void> {
    if (this.#finished) return;
    const progress = this.#progress;
    this.#finished = true;
    await this.#write(
      progress
        ? { leaseUntil: 0, sent: progress.sent, attempted: progress.attempted }
        : { leaseUntil: 0 },
    );
  }

  #requireProgress(): ReplyProgress {
    if (!this.#progress)
      throw new ChannelError('dedup_no_reply', 'no reply is stored for this message');
    return this.#progress;
  }

  async #write(set: Record<string, StateValue | undefined>, condition?: Condition): Promise<void> {
    const result = await this.store.update(
      this.key.pk,
      this.key.sk,
      set,
      condition ?? cond.equals('owner', this.owner),
    );
    if (!result.ok) throw new LostClaimError(this.key.sk);
  }
}

function numberOf(value: StateValue | undefined): number {
  return typeof value === 'number' ? value : 0;
}

function progressOf(item: StateItem): ReplyProgress | undefined {
  if (typeof item.reply !== 'string') return undefined;
  const sent = numberOf(item.sent ?? item.sentChunks);
  const attachments = attachmentsOf(item.attachments);
  const mentions = Array.isArray(item.mentions)
    ? item.mentions.filter((m): m is string => typeof m === 'string')
    : [];
  return {
    reply: item.reply,
    ...(attachments ? { attachments } : {}),
    ...(mentions.length > 0 ? { mentions } : {}),
    sent,
    attempted: Math.max(sent, numberOf(item.attempted)),
  };
}

/** The stored attachment list; a record this code did not write holds none. */
function attachmentsOf(value: StateValue | undefined): StoredAttachment[] | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  try {
    const list = JSON.parse(value) as unknown;
    return Array.isArray(list) && list.length > 0 ? (list as StoredAttachment[]) : undefined;
  } catch {
    return undefined;
  }
}

/** Another invocation took the message over (our lease ran out): stop without sending more. */
export class LostClaimError extends ChannelError {
  override name = 'LostClaimError';
  constructor(what: string) {
    super('dedup_claim_lost', `the dedup claim ${what} was taken over by another invocation`);
  }
}
