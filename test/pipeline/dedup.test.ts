/**
 * dedup.ts against both stores (memory and dynalite) with a manual clock: the claim states of
 * style.md's idempotency design and channel-semantics.md §9 (one reply per msgId).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manualClock } from '../../lib/clock.js';
import {
  COMPLETED_TTL_MS,
  claimMessage,
  LostClaimError,
  MAX_ATTEMPTS,
  type MessageClaim,
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

  async function claimed(result: Awaited<ReturnType<typeof claimMessage>>): Promise<MessageClaim> {
    if (!result.claimed) throw new Error(`expected a claim, got ${result.reason}`);
    return result.claim;
  }

  it('claims a new message, with no stored reply and nothing sent', async () => {
    const { claim, record, clock } = setup();
    const first = await claimed(await claim());
    expect(first.resumed).toBeUndefined();
    expect(first.attempts).toBe(1);
    expect(await record()).toMatchObject({
      status: 'INPROGRESS',
      leaseUntil: clock.now() + LEASE_MS,
      attempts: 1,
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
    await first.storeReply('the answer');
    await first.complete(clock.now(), 'handled');
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
    expect(again.resumed).toBeUndefined();
    expect(again.attempts).toBe(1);
  });

  it('takes over an expired lease (the holder died) and starts afresh, counting the attempt', async () => {
    const { claim, record, clock } = setup();
    await claimed(await claim());
    const deadOwner = (await record())?.owner;
    clock.advance(LEASE_MS + 1);
    const next = await claimed(await claim());
    expect(next.attempts).toBe(2);
    expect(next.resumed).toBeUndefined();
    const now = await record();
    expect(now).toMatchObject({ status: 'INPROGRESS', attempts: 2 });
    expect(now?.owner).not.toBe(deadOwner);
  });

  it('takes over an expired lease with the stored reply and progress of the dead holder', async () => {
    const { claim, clock } = setup();
    const dead = await claimed(await claim());
    await dead.storeReply('stored answer');
    await dead.sending(0);
    dead.settled(0, true);
    await dead.sending(1); // chunk 0 confirmed, chunk 1 about to go: then the process died
    clock.advance(LEASE_MS + 1);
    const next = await claimed(await claim());
    expect(next.resumed).toEqual({ reply: 'stored answer', sent: 1, attempted: 2 });
  });

  it('marks chunk 0 as maybe sent with the reply itself: a crash after storing never resends it', async () => {
    const { claim, record, clock } = setup();
    const dead = await claimed(await claim());
    await dead.storeReply('answer');
    expect(await record()).toMatchObject({ reply: 'answer', sent: 0, attempted: 1 });
    clock.advance(LEASE_MS + 1);
    expect((await claimed(await claim())).resumed).toEqual({
      reply: 'answer',
      sent: 0,
      attempted: 1,
    });
  });

  it('abandon before anything was sent stores attempted 0, so the retry sends chunk 0', async () => {
    const { claim, record } = setup();
    const first = await claimed(await claim());
    await first.storeReply('not sent yet');
    await first.abandon(); // e.g. the history write failed before sending
    expect(await record()).toMatchObject({ sent: 0, attempted: 0, leaseUntil: 0 });
    const retry = await claimed(await claim());
    expect(retry.resumed).toEqual({ reply: 'not sent yet', sent: 0, attempted: 0 });
  });

  it('abandon keeps the record (and its attempt count) and frees the lease at once', async () => {
    const { claim, record } = setup();
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const c = await claimed(await claim());
      expect(c.attempts).toBe(attempt);
      await c.abandon();
      expect(await record()).toMatchObject({
        status: 'INPROGRESS',
        leaseUntil: 0,
        attempts: attempt,
      });
    }
  });

  it('abandon after a refused chunk stores it as not sent: the retry sends it again', async () => {
    const { claim, record } = setup();
    const first = await claimed(await claim());
    await first.storeReply('partly sent');
    await first.sending(0);
    first.settled(0, true);
    await first.sending(1);
    first.settled(1, false); // DingTalk answered "no" for chunk 1
    await first.abandon();
    expect(await record()).toMatchObject({
      reply: 'partly sent',
      sent: 1,
      attempted: 1,
      leaseUntil: 0,
    });
    const retry = await claimed(await claim());
    expect(retry.resumed).toEqual({ reply: 'partly sent', sent: 1, attempted: 1 });
  });

  it('throws LostClaimError when the claim was taken over, and leaves the new owner alone', async () => {
    const { claim, record, clock } = setup();
    const slow = await claimed(await claim());
    clock.advance(LEASE_MS + 1);
    const fast = await claimed(await claim());
    const fastOwner = (await record())?.owner;

    await expect(slow.storeReply('late answer')).rejects.toBeInstanceOf(LostClaimError);
    await expect(slow.renew(clock.now() + LEASE_MS)).rejects.toMatchObject({
      code: 'dedup_claim_lost',
    });
    await expect(slow.complete(clock.now(), 'handled')).rejects.toBeInstanceOf(LostClaimError);
    await expect(slow.abandon()).rejects.toBeInstanceOf(LostClaimError);
    expect(await record()).toMatchObject({ status: 'INPROGRESS', owner: fastOwner });
    expect((await record())?.reply).toBeUndefined();

    await fast.storeReply('answer');
    await fast.complete(clock.now(), 'handled');
    expect(await record()).toMatchObject({ status: 'COMPLETED' });
  });
});
