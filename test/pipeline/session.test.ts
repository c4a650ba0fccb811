/**
 * session.ts against both stores with a manual clock (channel-semantics.md §6: one message at a
 * time per session, in arrival order; the busy-session wait is bounded; a dead holder stops
 * blocking when its lease passes). Waiters poll on real time, so each test moves the manual
 * clock and observes who got in; "still waiting" is checked against a generous real-time guard
 * only when the code under test cannot have let the waiter in.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { manualClock } from '../../lib/clock.js';
import type { InboundMessage } from '../../lib/dingtalk/inbound-types.js';
import { memoryLogger } from '../../lib/log.js';
import { enterSession, type SessionTurn, sessionKey } from '../../lib/pipeline/session.js';
import { keys } from '../../lib/state/keys.js';
import { MemoryStateStore } from '../../lib/state/memory.js';
import type { StateStore } from '../../lib/state/port.js';
import { startTestDynalite, type TestDynalite } from '../support/dynalite.js';

const ACCOUNT = 'default';
const PENDING = Symbol('pending');
/** vi.waitFor options: generous, since the machine may be busy (a bound, not an assertion). */
const WAIT = { timeout: 10_000, interval: 20 };

/** The promise's value, or PENDING if it has not settled within `ms` of real time. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | typeof PENDING> {
  return Promise.race([promise, delay(ms).then((): typeof PENDING => PENDING)]);
}

function message(msgId: string, createAt: number): InboundMessage {
  return {
    msgId,
    msgtype: 'text',
    conversationType: 'dm',
    conversationId: 'cidSessionTest==',
    sender: { id: 'user1' },
    text: 'hi',
    media: [],
    isInAtList: false,
    atUserIds: [],
    createAt,
  };
}

describe('sessionKey (§6)', () => {
  const dm = message('m', 1);
  const group: InboundMessage = { ...dm, conversationType: 'group', conversationId: 'cidG==' };
  it('is per sender in DMs and per group (optionally per member) in groups', () => {
    expect(sessionKey('work', dm, false)).toBe('dingtalk:work:dm:user1');
    expect(sessionKey('work', group, false)).toBe('dingtalk:work:group:cidG==');
    expect(sessionKey('work', group, true)).toBe('dingtalk:work:group:cidG==:user1');
  });
});

describe.each(['memory', 'dynalite'] as const)('enterSession on %s', (backend) => {
  let store: StateStore;
  let db: TestDynalite | undefined;

  beforeAll(async () => {
    db = backend === 'dynalite' ? await startTestDynalite() : undefined;
    store = db ? db.store : new MemoryStateStore();
  });
  afterAll(async () => {
    await (db ? db.close() : store.close());
  });

  /** A fresh session, clock and logger per test. */
  function setup() {
    const clock = manualClock();
    const t0 = clock.now();
    const logger = memoryLogger();
    const key = `dingtalk:${ACCOUNT}:dm:${randomUUID()}`;
    const enter = (
      msgId: string,
      createAt: number,
      deadline: number,
      maxWaitMs = 60_000,
      // Longer than any deadline here unless a test is about lease renewal.
      leaseMs = 24 * 60 * 60_000,
    ) =>
      enterSession(store, ACCOUNT, key, message(msgId, createAt), {
        now: clock.now,
        deadline,
        maxWaitMs,
        leaseMs,
        logger,
      });
    const queue = keys.sessionQueue(ACCOUNT, key);
    const queued = async () => (await store.query(queue.pk, { skPrefix: queue.skPrefix })).length;
    const leaseHolder = async () => {
      const lease = keys.sessionLease(ACCOUNT, key);
      return (await store.get(lease.pk, lease.sk))?.msgId;
    };
    return { clock, t0, logger, enter, queued, leaseHolder };
  }

  it('lets the next message in only after the holder leaves', async () => {
    const { t0, enter, queued, leaseHolder } = setup();
    const first = await enter('m1', t0, t0 + 60_000);
    expect(first.exclusive).toBe(true);
    const events: string[] = [];
    const second = enter('m2', t0 + 1, t0 + 60_000).then((turn) => {
      events.push('m2 entered');
      return turn;
    });
    // The holder took the idle session without queuing; the waiter is queued behind it.
    await vi.waitFor(async () => expect(await queued()).toBe(1), WAIT);
    // The clock is frozen, so m2 can neither time out nor find the lease free: it must wait.
    expect(await within(second, 150)).toBe(PENDING);
    events.push('m1 leaves');
    await first.leave();
    const turn = await second;
    expect(turn.exclusive).toBe(true);
    expect(events).toEqual(['m1 leaves', 'm2 entered']);
    expect(await leaseHolder()).toBe('m2');
    await turn.leave();
    expect(await queued()).toBe(0);
    expect(await leaseHolder()).toBeUndefined();
  });

  it('hands the session over in createAt order, not in the order messages began waiting', async () => {
    const { t0, enter, queued } = setup();
    const holder = await enter('m0', t0, t0 + 60_000);
    const settled: string[] = [];
    const track = (name: string, p: Promise<SessionTurn>) =>
      p.then((turn) => {
        settled.push(name);
        return turn;
      });
    const later = track('m2', enter('m2', t0 + 20, t0 + 60_000));
    await vi.waitFor(async () => expect(await queued()).toBe(1), WAIT);
    const earlier = track('m1', enter('m1', t0 + 10, t0 + 60_000));
    await vi.waitFor(async () => expect(await queued()).toBe(2), WAIT);
    await holder.leave();

    const m1 = await earlier;
    expect(m1.exclusive).toBe(true);
    // m1 holds the lease now, so m2 cannot have entered, however long we look.
    expect(await within(later, 150)).toBe(PENDING);
    await m1.leave();
    const m2 = await later;
    expect(m2.exclusive).toBe(true);
    expect(settled).toEqual(['m1', 'm2']);
    await m2.leave();
  });

  it('stops waiting at maxWaitMs: runs without the lease and logs session.wait_exceeded', async () => {
    const { clock, t0, logger, enter, leaseHolder } = setup();
    const holder = await enter('busy', t0, t0 + 120_000);
    const waiter = enter('late', t0 + 1, t0 + 120_000, 1_000);
    expect(await within(waiter, 100)).toBe(PENDING);
    clock.advance(1_500);
    const turn = await waiter;
    expect(turn.exclusive).toBe(false);
    expect(logger.lines).toContainEqual(
      expect.objectContaining({ level: 'warn', event: 'session.wait_exceeded', msgId: 'late' }),
    );
    // Leaving without the lease must not release the holder's lease.
    await turn.leave();
    expect(await leaseHolder()).toBe('busy');
    await holder.leave();
  });

  it('bounds the wait by the function deadline when that comes first', async () => {
    const { clock, t0, logger, enter } = setup();
    const holder = await enter('busy', t0, t0 + 120_000);
    const waiter = enter('short', t0 + 1, t0 + 500, 60_000);
    clock.advance(600);
    const turn = await waiter;
    expect(turn.exclusive).toBe(false);
    expect(logger.lines.map((l) => l.event)).toContain('session.wait_exceeded');
    await turn.leave();
    await holder.leave();
  });

  it('lets a waiter in once a dead holder’s lease (its deadline) has passed', async () => {
    const { clock, t0, logger, enter, leaseHolder } = setup();
    await enter('dead', t0, t0 + 1_000); // never leaves: its function was killed
    const waiter = enter('next', t0 + 1, t0 + 120_000, 60_000);
    expect(await within(waiter, 100)).toBe(PENDING);
    clock.set(t0 + 1_500);
    const turn = await within(waiter, 5_000);
    if (turn === PENDING) clock.set(t0 + 120_000); // let the waiter finish before failing
    expect(turn).not.toBe(PENDING);
    expect((await waiter).exclusive).toBe(true);
    expect(await leaseHolder()).toBe('next');
    expect(logger.lines.map((l) => l.event)).not.toContain('session.wait_exceeded');
    await (await waiter).leave();
  });

  it('holds a renewed lease past leaseMs, and frees a dead holder after leaseMs, long before its deadline', async () => {
    const { clock, t0, enter, leaseHolder } = setup();
    const alive = await enter('alive', t0, t0 + 600_000, 60_000, 20_000);
    const waiter = enter('next', t0 + 1, t0 + 600_000, 60_000, 20_000);
    clock.set(t0 + 15_000);
    await alive.renew(); // the holder's keeper runs every leaseMs / 3
    clock.set(t0 + 30_000); // past the first lease, inside the renewed one
    expect(await within(waiter, 150)).toBe(PENDING);
    expect(await leaseHolder()).toBe('alive');
    // The holder dies (no more renewals): the waiter gets in once the renewed lease ends.
    clock.set(t0 + 36_000);
    const turn = await within(waiter, 5_000);
    if (turn === PENDING) clock.set(t0 + 600_000);
    expect(turn).not.toBe(PENDING);
    expect((await waiter).exclusive).toBe(true);
    expect(await leaseHolder()).toBe('next');
    await (await waiter).leave();
  });
});
