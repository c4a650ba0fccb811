/**
 * Sessions (channel-semantics.md §6): the session key, one message at a time per session in
 * arrival order, and the history kept for stateless agents.
 *
 * Order without a sequencer: a message of a busy session writes a queue entry sorted by
 * `createAt`, then waits until it is the oldest live entry AND holds the session lease. A message
 * that finds the session idle takes the lease at once and only checks that no older message is
 * queued (else it gives the lease back and queues). Messages that are in flight together are
 * therefore handled oldest first and never interleave; a message that reaches the function after
 * a later one already started is handled after it (a sent reply cannot be taken back).
 *
 * Busy session policy: wait, polling with backoff, for at most `maxWaitMs` (bounded by the time
 * the function has left); after that the message is handled anyway and `session.wait_exceeded`
 * is logged, because losing a message is worse than answering it out of turn. Leases are short
 * (`leaseMs`) and renewed while their holder runs, so a holder that died stops blocking soon.
 * Guarded by test/pipeline/session.test.ts and test/pipeline/handler-session.test.ts.
 */
import type { ChatTurn } from '../agent/port.js';
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
  /** The function's deadline (epoch ms): the lease lasts until then. */
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

/** Waits for this message's turn in its session (see the module comment). */
export async function enterSession(
  store: StateStore,
  accountId: string,
  key: string,
  message: InboundMessage,
  options: SessionTurnOptions,
): Promise<SessionTurn> {
  const entry = keys.sessionQueueEntry(accountId, key, message.createAt, message.msgId);
  const lease = keys.sessionLease(accountId, key);
  const queue = keys.sessionQueue(accountId, key);
  const leaseUntil = () => Math.min(options.deadline, options.now() + options.leaseMs);
  const mine = cond.equals('msgId', message.msgId);
  const claimLease = (
    now: number,
    condition = cond.or(cond.notExists(), cond.lessThan('leaseUntil', now)),
  ) => {
    const until = leaseUntil();
    return store.put(
      { ...lease, msgId: message.msgId, leaseUntil: until, expiresAt: toEpochSeconds(until) + 60 },
      condition,
    );
  };
  // Liveness is judged on `leaseUntil` (ms); `expiresAt` only drives storage cleanup.
  const writeEntry = async () => {
    const until = leaseUntil();
    await store.put({
      ...entry,
      msgId: message.msgId,
      leaseUntil: until,
      expiresAt: toEpochSeconds(until) + 60,
    });
    return until;
  };
  const turn = (exclusive: boolean, queued: boolean): SessionTurn => ({
    exclusive,
    async renew() {
      const until = leaseUntil();
      await Promise.all([
        exclusive
          ? store.update(
              lease.pk,
              lease.sk,
              { leaseUntil: until, expiresAt: toEpochSeconds(until) + 60 },
              mine,
            )
          : undefined,
        queued ? writeEntry() : undefined,
      ]);
    },
    async leave() {
      await Promise.all([
        exclusive ? store.delete(lease.pk, lease.sk, mine) : undefined,
        queued ? store.delete(entry.pk, entry.sk) : undefined,
      ]);
    },
  });

  // Fast path, an idle session: take the free lease, then make sure no older message is queued
  // (if one is, give the lease back and queue up behind it). No queue entry is written.
  const now = options.now();
  if ((await claimLease(now)).ok) {
    if (await isOldestWaiting(store, queue, entry.sk, now)) return turn(true, false);
    await store.delete(lease.pk, lease.sk, mine);
  }

  let entryUntil = await writeEntry();
  const waitUntil = Math.min(options.deadline, options.now() + options.maxWaitMs);
  for (let poll = FIRST_POLL_MS; ; poll = Math.min(MAX_POLL_MS, poll * 2)) {
    const now = options.now();
    if (entryUntil - now < options.leaseMs / 2) entryUntil = await writeEntry(); // still waiting: stay live
    if (await isOldestWaiting(store, queue, entry.sk, now)) {
      const claimed = await claimLease(
        now,
        cond.or(cond.notExists(), cond.lessThan('leaseUntil', now), mine),
      );
      if (claimed.ok) return turn(true, true);
    }
    if (now + poll > waitUntil) {
      options.logger.warn('session.wait_exceeded', {
        msgId: message.msgId,
        waitedMs: options.maxWaitMs,
      });
      return turn(false, true);
    }
    await sleep(poll);
  }
}

async function isOldestWaiting(
  store: StateStore,
  queue: { pk: string; skPrefix: string },
  mySk: string,
  now: number,
): Promise<boolean> {
  const nowSeconds = toEpochSeconds(now);
  const entries = await store.query(queue.pk, { skPrefix: queue.skPrefix, limit: 10 });
  // An entry is live until its function's deadline: a dead holder's entry must stop blocking
  // when its lease does, not when the cleanup TTL (a minute later) passes.
  const live = (e: StateItem) =>
    typeof e.leaseUntil === 'number' ? e.leaseUntil >= now : (e.expiresAt ?? 0) >= nowSeconds;
  // Sorted by sk = arrival order: no live entry before mine (mine may not be written yet).
  const first = entries.find((e) => e.sk === mySk || live(e));
  return first === undefined || first.sk >= mySk;
}

/** The stored history of a session, oldest first, with the msgId of the last turn recorded. */
export interface SessionHistory {
  turns: ChatTurn[];
  lastMsgId?: string;
}

/** History lives in generation 0 of the layout; `/new` and `/reset` empty it. */
const HISTORY_GENERATION = 0;
/** Idle sessions are cleaned up by storage TTL after this long. */
export const SESSION_IDLE_TTL_MS = 30 * 24 * 60 * 60 * 1000;

export async function loadHistory(
  store: StateStore,
  accountId: string,
  key: string,
): Promise<SessionHistory> {
  const k = keys.sessionHistory(accountId, key, HISTORY_GENERATION);
  const item = await store.get(k.pk, k.sk);
  const turns = Array.isArray(item?.turns) ? (item.turns as unknown as ChatTurn[]) : [];
  return { turns, ...(typeof item?.lastMsgId === 'string' ? { lastMsgId: item.lastMsgId } : {}) };
}

/** Writes the history; `lastMsgId` makes a retried append of the same message a no-op. */
export async function saveHistory(
  store: StateStore,
  accountId: string,
  key: string,
  history: SessionHistory,
  now: number,
): Promise<void> {
  const k = keys.sessionHistory(accountId, key, HISTORY_GENERATION);
  await store.put({
    ...k,
    turns: history.turns as unknown as { role: string; content: string }[],
    ...(history.lastMsgId ? { lastMsgId: history.lastMsgId } : {}),
    updatedAt: now,
    expiresAt: toEpochSeconds(now + SESSION_IDLE_TTL_MS),
  });
}

export async function resetHistory(
  store: StateStore,
  accountId: string,
  key: string,
  now: number,
): Promise<void> {
  await saveHistory(store, accountId, key, { turns: [] }, now);
}
