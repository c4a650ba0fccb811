/**
 * Sessions (channel-semantics.md §6): the session key, and one message at a time per session.
 *
 * The session's lease item (`keys.sessionLease`) says who holds the session and whether anybody
 * waits (`waiting`). A message that finds the session busy writes a queue entry sorted by
 * `createAt`, flags the lease `waiting`, and polls; the holder, when it leaves, hands the lease to
 * the oldest live waiter instead of freeing it. So an idle session costs one conditional write to
 * enter and one to leave, and no queue read (the fast path); waiters are served oldest first.
 *
 *   idle ──put(lease: mine, waiting=false | absent or dead and nobody waiting)──► held
 *   held ──a newcomer finds it held → queue entry + waiting=true, polls──► (waits)
 *   leave ──delete(if mine and waiting=false)──► idle
 *         └─ waiting=true → query the queue → lease := oldest live waiter (or delete if none)
 *   a dead holder's lease (leaseUntil < now) → the oldest live waiter takes it
 *
 * Two messages arriving at an idle session at the same instant are ordered by whichever write
 * lands first (a sent reply cannot be taken back, so "arrival" is the write order there).
 * Busy session policy: wait, polling with backoff, for at most `maxWaitMs` (bounded by the time
 * left); after that the message runs without the lease and `session.wait_exceeded` is logged,
 * because losing a message is worse than answering it out of turn. Leases are short (`leaseMs`)
 * and renewed while their holder runs, so a holder that died stops blocking soon.
 * Guarded by test/pipeline/session.test.ts and test/pipeline/handler-session.test.ts.
 */
import { sleep } from '../dingtalk/http.js';
import type { InboundMessage } from '../dingtalk/inbound-types.js';
import type { Logger } from '../log.js';
import { keys } from '../state/keys.js';
import { cond, type StateItem, type StateStore, toEpochSeconds } from '../state/port.js';

/** §6: per-sender DM sessions; per-group (optionally per-member) group sessions. */
export function sessionKey(
  accountId: string,
  message: InboundMessage,
  isolatePerUser: boolean,
): string {
  if (message.conversationType === 'dm') return `dingtalk:${accountId}:dm:${message.sender.id}`;
  const group = `dingtalk:${accountId}:group:${message.conversationId}`;
  return isolatePerUser ? `${group}:${message.sender.id}` : group;
}

export interface SessionTurnOptions {
  now: () => number;
  /** The function's deadline (epoch ms): no lease outlives it. */
  deadline: number;
  maxWaitMs: number;
  logger: Logger;
  /** How long the lease and the queue entry live without `renew()`; a dead holder blocks no longer. */
  leaseMs: number;
}

/** A held session turn; `leave()` lets the next message of the session go. */
export interface SessionTurn {
  /** False when the wait bound passed and the message runs without the lease. */
  exclusive: boolean;
  /** Extends the lease and the queue entry by `leaseMs` (called while the turn runs). */
  renew(): Promise<void>;
  leave(): Promise<void>;
}

const FIRST_POLL_MS = 20;
const MAX_POLL_MS = 500;

/** One message's view of its session's records. */
class SessionSeat {
  readonly lease: { pk: string; sk: string };
  readonly entry: { pk: string; sk: string };
  readonly queue: { pk: string; skPrefix: string };
  readonly mine;
  /** When this message began to enter: the wait bound counts from here. */
  readonly startedAt: number;

  constructor(
    readonly store: StateStore,
    accountId: string,
    key: string,
    readonly message: InboundMessage,
    readonly options: SessionTurnOptions,
  ) {
    this.lease = keys.sessionLease(accountId, key);
    this.entry = keys.sessionQueueEntry(accountId, key, message.createAt, message.msgId);
    this.queue = keys.sessionQueue(accountId, key);
    this.mine = cond.equals('msgId', message.msgId);
    this.startedAt = options.now();
  }

  leaseUntil(): number {
    return Math.min(this.options.deadline, this.options.now() + this.options.leaseMs);
  }

  /** The fast path: the session is free (or its holder is dead and nobody waits). */
  enterIdle() {
    const now = this.options.now();
    return this.putLease(
      cond.or(
        cond.notExists(),
        cond.and(cond.lessThan('leaseUntil', now), cond.equals('waiting', false)),
      ),
      false,
    );
  }

  putLease(condition: ReturnType<typeof cond.or>, waiting: boolean, msgId = this.message.msgId) {
    const until = this.leaseUntil();
    return this.store.put(
      { ...this.lease, msgId, leaseUntil: until, waiting, expiresAt: toEpochSeconds(until) + 60 },
      condition,
    );
  }

  writeEntry(): Promise<number> {
    const until = this.leaseUntil();
    const item = { ...this.entry, msgId: this.message.msgId, leaseUntil: until };
    return this.store.put({ ...item, expiresAt: toEpochSeconds(until) + 60 }).then(() => until);
  }

  /** The oldest live waiter other than this message, if any. */
  async nextWaiter(now: number): Promise<StateItem | undefined> {
    const entries = await this.store.query(this.queue.pk, {
      skPrefix: this.queue.skPrefix,
      limit: 10,
    });
    return entries.find((e) => e.sk !== this.entry.sk && isLive(e, now));
  }

  /** True when no live entry is older than this message's (its own may not be written yet). */
  async isOldest(now: number): Promise<boolean> {
    const entries = await this.store.query(this.queue.pk, {
      skPrefix: this.queue.skPrefix,
      limit: 10,
    });
    const first = entries.find((e) => e.sk === this.entry.sk || isLive(e, now));
    return first === undefined || first.sk >= this.entry.sk;
  }

  turn(exclusive: boolean, queued: boolean): SessionTurn {
    return {
      exclusive,
      renew: async () => {
        const until = this.leaseUntil();
        await Promise.all([
          exclusive
            ? this.store.update(
                this.lease.pk,
                this.lease.sk,
                { leaseUntil: until, expiresAt: toEpochSeconds(until) + 60 },
                this.mine,
              )
            : undefined,
          queued ? this.writeEntry() : undefined,
        ]);
      },
      leave: async () => {
        await Promise.all([
          exclusive ? this.handOver() : undefined,
          queued ? this.store.delete(this.entry.pk, this.entry.sk) : undefined,
        ]);
      },
    };
  }

  /** Frees the lease, or passes it to the oldest live waiter when somebody flagged `waiting`. */
  async handOver(): Promise<void> {
    const freed = await this.store.delete(
      this.lease.pk,
      this.lease.sk,
      cond.and(this.mine, cond.equals('waiting', false)),
    );
    if (freed.ok || freed.current?.msgId !== this.message.msgId) return;
    const next = await this.nextWaiter(this.options.now());
    if (!next) {
      await this.store.delete(this.lease.pk, this.lease.sk, this.mine);
      return;
    }
    // The waiter renews it once it sees it; if it died meanwhile, the lease runs out.
    await this.putLease(this.mine, true, String(next.msgId));
  }
}

/** Waits for this message's turn in its session (see the module comment). */
export async function enterSession(
  store: StateStore,
  accountId: string,
  key: string,
  message: InboundMessage,
  options: SessionTurnOptions,
): Promise<SessionTurn> {
  const door = await tryEnterIdleSession(store, accountId, key, message, options);
  return door.turn ?? door.wait();
}

/** The fast path as a speculative step: the turn if the session was idle, and how to wait if not. */
export async function tryEnterIdleSession(
  store: StateStore,
  accountId: string,
  key: string,
  message: InboundMessage,
  options: SessionTurnOptions,
): Promise<{ turn?: SessionTurn; wait: () => Promise<SessionTurn> }> {
  const seat = new SessionSeat(store, accountId, key, message, options);
  const wait = () => waitForTurn(seat);
  return (await seat.enterIdle()).ok ? { turn: seat.turn(true, false), wait } : { wait };
}

async function waitForTurn(seat: SessionSeat): Promise<SessionTurn> {
  const { store, lease, options, message } = seat;
  let entryUntil = await seat.writeEntry();
  const waitUntil = Math.min(options.deadline, seat.startedAt + options.maxWaitMs);
  for (let poll = FIRST_POLL_MS; ; poll = Math.min(MAX_POLL_MS, poll * 2)) {
    const now = options.now();
    if (entryUntil - now < options.leaseMs / 2) entryUntil = await seat.writeEntry(); // stay live
    const current = await store.get(lease.pk, lease.sk);
    if (current?.msgId === message.msgId) {
      // Handed over by the previous holder: make it ours for a full lease.
      const taken = await seat.putLease(seat.mine, true);
      if (taken.ok) return seat.turn(true, true);
    } else if (!current || numberOf(current.leaseUntil) < now) {
      // Free, or its holder died: the oldest waiter takes it (and keeps `waiting` set, since
      // others may queue behind it; its leave then looks at the queue).
      if (await seat.isOldest(now)) {
        const taken = await seat.putLease(
          current
            ? cond.and(
                cond.equals('msgId', String(current.msgId)),
                cond.lessThan('leaseUntil', now),
              )
            : cond.notExists(),
          true,
        );
        if (taken.ok) return seat.turn(true, true);
      }
    } else if (current.waiting !== true) {
      // Tell the holder somebody waits, so it hands over instead of freeing the session.
      await store.update(
        lease.pk,
        lease.sk,
        { waiting: true },
        cond.equals('msgId', String(current.msgId)),
      );
    }
    if (now + poll > waitUntil) {
      options.logger.warn('session.wait_exceeded', {
        msgId: message.msgId,
        waitedMs: options.maxWaitMs,
      });
      return seat.turn(false, true);
    }
    await sleep(poll);
  }
}

/** An entry is live until its message's lease: a dead holder's entry stops blocking with it. */
function isLive(entry: StateItem, now: number): boolean {
  return typeof entry.leaseUntil === 'number'
    ? entry.leaseUntil >= now
    : (entry.expiresAt ?? 0) >= toEpochSeconds(now);
}

function numberOf(value: unknown): number {
  return typeof value === 'number' ? value : 0;
}
