/**
 * dedup.ts against both stores (memory and dynalite) with a manual clock: the claim states of
 * style.md's idempotency design and channel-semantics.md §9 (one reply per msgId).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manualClock } from '../../lib/clock.js';
import {
  abandonMessage,
  type Claim,
  COMPLETED_TTL_MS,
  claimMessage,
  completeMessage,
  LostClaimError,
  recordProgress,
  recordReply,
} from '../../lib/pipeline/dedup.js';
import { keys } from '../../lib/state/keys.js';
import { MemoryStateStore } from '../../lib/state/memory.js';
import type { StateStore } from '../../lib/state/port.js';
import { startTestDynalite, type TestDynalite } from '../support/dynalite.js';

const ACCOUNT = 'default';
const LEASE_MS = 30_000;

type Backend = 'memory' | 'dynalite';

describe.each<Backend>(['memory', 'dynalite'])('dedup claims on %s', (backend) => {
  let store: StateStore;
  let db: TestDynalite | undefined;

  beforeAll(async () => {
    db = backend === 'dynalite' ? await startTestDynalite() : undefined;
    store = db ? db.store : new MemoryStateStore();
  });
  afterAll(async () => {
    await (db ? db.close() : store.close());
  });

  /** A fresh msgId and clock per test: the stores are shared within the describe. */
  function setup() {
    const clock = manualClock();
    const msgId = `msg${randomUUID()}==`;
    const claim = (leaseMs = LEASE_MS) =>
      claimMessage(store, ACCOUNT, msgId, clock.now(), clock.now() + leaseMs);
    const record = () => {
      const key = keys.dedupClaim(ACCOUNT, msgId);
      return store.get(key.pk, key.sk);
    };
    return { clock, msgId, claim, record };
  }

  async function claimed(result: Awaited<ReturnType<typeof claimMessage>>): Promise<Claim> {
    if (!result.claimed) throw new Error(`expected a claim, got ${result.reason}`);
    return result.claim;
  }

  it('claims a new message, with no stored reply and nothing sent', async () => {
    const { claim, record, msgId, clock } = setup();
    const result = await claim();
    expect(result).toMatchObject({
      claimed: true,
      claim: { accountId: ACCOUNT, msgId, sentChunks: 0 },
    });
    expect(result.claimed && result.claim.reply).toBeUndefined();
    expect(await record()).toMatchObject({
      status: 'INPROGRESS',
      leaseUntil: clock.now() + LEASE_MS,
    });
  });

  it('reports a second delivery while the lease runs as an in-progress duplicate', async () => {
    const { claim, clock } = setup();
    await claimed(await claim());
    clock.advance(LEASE_MS - 1);
    expect(await claim()).toEqual({ claimed: false, reason: 'duplicate_in_progress' });
  });

  it('lets exactly one of two racing claims win', async () => {
    const { claim } = setup();
    const results = await Promise.all([claim(), claim(), claim()]);
    expect(results.filter((r) => r.claimed)).toHaveLength(1);
    expect(results.filter((r) => !r.claimed)).toEqual([
      { claimed: false, reason: 'duplicate_in_progress' },
      { claimed: false, reason: 'duplicate_in_progress' },
    ]);
  });

  it('keeps a completed message a duplicate for at least 24 hours, then forgets it', async () => {
    const { claim, record, clock } = setup();
    const first = await claimed(await claim());
    await recordReply(store, first, 'the answer');
    await completeMessage(store, first, clock.now(), 'handled');
    const done = await record();
    expect(done).toMatchObject({ status: 'COMPLETED', outcome: 'handled' });
    // The stored reply and lease are dropped once the message is complete.
    expect(done?.reply).toBeUndefined();
    expect(done?.leaseUntil).toBeUndefined();

    clock.advance(LEASE_MS * 10); // far past the lease: still complete
    expect(await claim()).toEqual({ claimed: false, reason: 'duplicate_completed' });
    clock.advance(COMPLETED_TTL_MS - LEASE_MS * 10 - 1_000);
    expect(await claim()).toEqual({ claimed: false, reason: 'duplicate_completed' });

    clock.advance(2_000 + 1_000); // expiresAt (seconds) is now behind the clock
    const again = await claimed(await claim());
    expect(again.reply).toBeUndefined();
    expect(again.sentChunks).toBe(0);
  });

  it('takes over an expired lease (the holder died) and starts afresh', async () => {
    const { claim, record, clock } = setup();
    const dead = await claimed(await claim());
    clock.advance(LEASE_MS + 1);
    const next = await claimed(await claim());
    expect(next.owner).not.toBe(dead.owner);
    expect(next.reply).toBeUndefined();
    expect(await record()).toMatchObject({ status: 'INPROGRESS', owner: next.owner });
  });

  it('takes over an expired lease with the stored reply and progress of the dead holder', async () => {
    const { claim, clock } = setup();
    const dead = await claimed(await claim());
    await recordReply(store, dead, 'stored answer');
    await recordProgress(store, dead, 2);
    clock.advance(LEASE_MS + 1);
    const next = await claimed(await claim());
    expect(next).toMatchObject({ reply: 'stored answer', sentChunks: 2 });
  });

  it('abandon with nothing stored deletes the record: the retry runs afresh at once', async () => {
    const { claim, record } = setup();
    const first = await claimed(await claim());
    await abandonMessage(store, first);
    expect(await record()).toBeUndefined();
    const retry = await claimed(await claim());
    expect(retry.reply).toBeUndefined();
    expect(retry.sentChunks).toBe(0);
  });

  it('abandon after the reply was stored keeps it and its progress, and frees the lease', async () => {
    const { claim, record } = setup();
    const first = await claimed(await claim());
    await recordReply(store, first, 'partly sent');
    await recordProgress(store, first, 1);
    await abandonMessage(store, first);
    expect(await record()).toMatchObject({ reply: 'partly sent', sentChunks: 1, leaseUntil: 0 });
    // No waiting for the original lease: the retry resumes immediately.
    const retry = await claimed(await claim());
    expect(retry).toMatchObject({ reply: 'partly sent', sentChunks: 1 });
    expect(retry.owner).not.toBe(first.owner);
  });

  it('throws LostClaimError when the claim was taken over, and leaves the new owner alone', async () => {
    const { claim, record, clock } = setup();
    const slow = await claimed(await claim());
    clock.advance(LEASE_MS + 1);
    const fast = await claimed(await claim());

    await expect(recordReply(store, slow, 'late answer')).rejects.toBeInstanceOf(LostClaimError);
    await expect(recordProgress(store, slow, 1)).rejects.toMatchObject({
      code: 'dedup_claim_lost',
    });
    await expect(completeMessage(store, slow, clock.now(), 'handled')).rejects.toBeInstanceOf(
      LostClaimError,
    );
    await abandonMessage(store, slow); // conditional on the owner: a no-op now
    expect(await record()).toMatchObject({ status: 'INPROGRESS', owner: fast.owner });
    expect((await record())?.reply).toBeUndefined();

    await recordReply(store, fast, 'answer');
    await completeMessage(store, fast, clock.now(), 'handled');
    expect(await record()).toMatchObject({ status: 'COMPLETED' });
  });
});
