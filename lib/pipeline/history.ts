/**
 * The history a session keeps for stateless agents (channel-semantics.md §6): one item per
 * session, bounded by turns and characters (lib/agent/history.ts), written before the reply is
 * sent so that a resumed reply never loses its exchange.
 *
 * The pipeline reads the history in the same round trip as it takes the session (speculatively,
 * before it knows it holds the session), so every write is conditional on the `version` it read:
 * if another message's exchange landed in between (a store retry can delay one request past a
 * whole turn of the previous holder), the write fails, and `appendToHistory` re-reads and
 * appends to the newer turns. No exchange is lost or interleaved.
 */

import { appendExchange, type HistoryLimits } from '../agent/history.js';
import type { ChatTurn } from '../agent/port.js';
import { ChannelError } from '../errors.js';
import { keys } from '../state/keys.js';
import { cond, type StateStore, toEpochSeconds } from '../state/port.js';

/** The stored history of a session, oldest first, with the msgId of the last turn recorded. */
export interface SessionHistory {
  turns: ChatTurn[];
  lastMsgId?: string;
  /** Bumped by every write; 0 when the session has none stored. */
  version: number;
  /** staffIds of the session's earlier senders, newest last: a reply may @-mention them. */
  senders?: string[];
}

/** Earlier senders remembered per session (a group's active members, bounded). */
export const MAX_SESSION_SENDERS = 50;

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
  const senders = Array.isArray(item?.senders)
    ? item.senders.filter((s): s is string => typeof s === 'string')
    : [];
  return {
    turns,
    version: typeof item?.version === 'number' ? item.version : item ? 1 : 0,
    ...(typeof item?.lastMsgId === 'string' ? { lastMsgId: item.lastMsgId } : {}),
    ...(senders.length > 0 ? { senders } : {}),
  };
}

/** Writes `turns` if the stored history is still at `read.version`; false when it moved on. */
async function writeHistory(
  store: StateStore,
  accountId: string,
  key: string,
  read: SessionHistory,
  next: { turns: ChatTurn[]; lastMsgId?: string; senders?: string[] },
  now: number,
): Promise<boolean> {
  const k = keys.sessionHistory(accountId, key, HISTORY_GENERATION);
  const result = await store.put(
    {
      ...k,
      turns: next.turns as unknown as { role: string; content: string }[],
      ...(next.lastMsgId ? { lastMsgId: next.lastMsgId } : {}),
      ...(next.senders?.length ? { senders: next.senders } : {}),
      version: read.version + 1,
      updatedAt: now,
      expiresAt: toEpochSeconds(now + SESSION_IDLE_TTL_MS),
    },
    read.version === 0 ? cond.notExists() : cond.equals('version', read.version),
  );
  return result.ok;
}

/**
 * Appends one exchange to the history read as `read`; when the history moved on since, re-reads
 * and appends to the newer one. `lastMsgId` makes a retried append of the same message a no-op.
 */
export async function appendToHistory(
  store: StateStore,
  accountId: string,
  key: string,
  read: SessionHistory,
  exchange: { msgId: string; user: string; assistant: string; senderStaffId?: string },
  limits: HistoryLimits,
  now: number,
): Promise<void> {
  let base = read;
  for (let attempt = 0; attempt < 4; attempt++) {
    if (base.lastMsgId === exchange.msgId) return;
    const turns = appendExchange(base.turns, exchange, limits);
    const senders = withSender(base.senders ?? [], exchange.senderStaffId);
    const next = { turns, lastMsgId: exchange.msgId, senders };
    if (await writeHistory(store, accountId, key, base, next, now)) return;
    base = await loadHistory(store, accountId, key);
  }
  throw new ChannelError(
    'history_contended',
    `the history of ${key} kept changing while it was written`,
    {
      retryable: true,
    },
  );
}

/** `senders` with `staffId` moved to the end (newest), bounded to the newest few. */
function withSender(senders: readonly string[], staffId: string | undefined): string[] {
  if (!staffId) return [...senders];
  return [...senders.filter((s) => s !== staffId), staffId].slice(-MAX_SESSION_SENDERS);
}

/** `/new` and `/reset`: an empty history (written unconditionally: it replaces whatever is there). */
export async function resetHistory(
  store: StateStore,
  accountId: string,
  key: string,
  now: number,
): Promise<void> {
  const current = await loadHistory(store, accountId, key);
  if (current.turns.length === 0 && current.version > 0) return;
  if (!(await writeHistory(store, accountId, key, current, { turns: [] }, now))) {
    await resetHistory(store, accountId, key, now); // changed meanwhile: reset the newer one
  }
}
