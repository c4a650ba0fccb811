/**
 * The inbox forwarder of `npm start` (a durable local store under the relay): a hand-off is one
 * write of the event into the state table's inbox, and the relay ACKs once it is written; a
 * pool of workers in the same process then runs the message handler on it. So a burst is
 * written down as fast as it arrives (no slot is held for the length of an agent call, and
 * nothing is shed because the handler is busy), and a crash loses nothing: the next start
 * finds the inbox and handles what is left. This is the queue of channel-semantics §9 ("accepted
 * by the platform's … queue"), on one machine.
 *
 * - An event stays in the inbox until the handler returned an outcome for it (handled, dropped,
 *   duplicate, or a final failure); a thrown (retryable) error or a message another attempt
 *   still holds puts it back with a backoff. The dedup claim makes every re-run safe.
 * - A redelivery of a message already in the inbox is accepted without a second entry.
 * Guarded by test/forward/inbox.test.ts.
 */
import { errorSummary } from '../errors.js';
import type { Logger } from '../log.js';
import { cond, type StateItem, type StateStore } from '../state/port.js';
import { ACCEPTED, describeFailure, rejected } from './outcome.js';
import type { Forwarder, MessageEvent, MessageHandler } from './port.js';

const INBOX_PK = 'inbox';
const FIRST_RETRY_MS = 200;
const MAX_RETRY_MS = 30_000;
/** How often the inbox is looked at for entries whose retry time came (and after a restart). */
const SCAN_MS = 500;
const CLOSE_WAIT_MS = 5_000;

export interface InboxForwarderOptions {
  store: StateStore;
  handler: MessageHandler;
  /** The handler's budget per message (its deadline is now + this). */
  timeoutMs: number;
  /** Messages handled at once. */
  concurrency: number;
  logger: Logger;
}

export interface InboxForwarder extends Forwarder {
  close(): Promise<void>;
  /** Entries waiting or being handled (for tests and status). */
  pending(): Promise<number>;
  /** Resolves once the inbox is empty and no handler runs (or after `timeoutMs`: false). */
  idle(timeoutMs: number): Promise<boolean>;
}

/** Creates the forwarder and starts its workers (they pick up what an earlier run left). */
export function createInboxForwarder(options: InboxForwarderOptions): InboxForwarder {
  const { store, logger } = options;
  const running = new Set<string>();
  let closed = false;
  let scanning: Promise<void> | undefined;
  let rescan = false;

  // Oldest message first; the same on a redelivery (createAt is DingTalk's, receivedAt ours).
  const entryKey = (event: MessageEvent) =>
    `${String(createAtOf(event)).padStart(15, '0')}#${event.accountId}#${event.messageId}`;

  const runEntry = async (item: StateItem) => {
    running.add(item.sk);
    const event = JSON.parse(String(item.event)) as MessageEvent;
    const attempts = typeof item.attempts === 'number' ? item.attempts : 0;
    try {
      const outcome = await options.handler(
        { ...event, ...(attempts > 0 ? { attempt: attempts } : {}) },
        { deadline: Date.now() + options.timeoutMs },
      );
      if (outcome.status === 'duplicate' && outcome.reason === 'duplicate_in_progress') {
        await later(item, attempts, 'another attempt holds the message');
      } else {
        await store.delete(INBOX_PK, item.sk);
      }
    } catch (err) {
      await later(item, attempts, describeFailure(err));
    } finally {
      running.delete(item.sk);
      wake();
    }
  };

  const later = async (item: StateItem, attempts: number, reason: string) => {
    const wait = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** attempts);
    logger.warn('forward.inbox.retry', {
      entry: item.sk,
      attempts: attempts + 1,
      inMs: wait,
      reason,
    });
    await store
      .update(
        INBOX_PK,
        item.sk,
        { attempts: attempts + 1, notBefore: Date.now() + wait },
        cond.exists(),
      )
      .catch((err: unknown) =>
        logger.error('forward.inbox.update_failed', { error: errorSummary(err) }),
      );
  };

  /** Starts handlers for due entries while there is room; loops while entries keep coming. */
  const scan = async () => {
    do {
      rescan = false;
      const room = options.concurrency - running.size;
      if (room <= 0 || closed) return;
      const entries = await store.query(INBOX_PK, { limit: options.concurrency * 4 });
      const now = Date.now();
      for (const item of entries) {
        if (running.size >= options.concurrency) break;
        if (running.has(item.sk)) continue;
        if (typeof item.notBefore === 'number' && item.notBefore > now) continue;
        void runEntry(item);
      }
    } while (rescan && !closed);
  };

  const wake = () => {
    if (closed) return;
    if (scanning) {
      rescan = true;
      return;
    }
    scanning = scan()
      .catch((err: unknown) =>
        logger.error('forward.inbox.scan_failed', { error: errorSummary(err) }),
      )
      .finally(() => {
        scanning = undefined;
      });
  };

  const timer = setInterval(wake, SCAN_MS);
  timer.unref();
  wake();

  return {
    kind: 'inbox',
    local: true,
    async forward(event) {
      if (closed) return rejected('inbox: stopping', true);
      try {
        // A redelivery of an event still in the inbox finds its entry: accepted, one entry.
        await store.put(
          { pk: INBOX_PK, sk: entryKey(event), event: JSON.stringify(event), attempts: 0 },
          cond.notExists(),
        );
      } catch (err) {
        return rejected(`inbox: write failed: ${describeFailure(err)}`, true);
      }
      wake();
      return ACCEPTED;
    },
    pending: async () => (await store.query(INBOX_PK)).length,
    async idle(timeoutMs) {
      const until = Date.now() + timeoutMs;
      while (Date.now() < until) {
        if (running.size === 0 && (await store.query(INBOX_PK, { limit: 1 })).length === 0)
          return true;
        await new Promise((r) => setTimeout(r, 20));
      }
      return false;
    },
    async close() {
      closed = true;
      clearInterval(timer);
      // Handlers under way get a moment to finish; what is left stays in the inbox for the next
      // start (the dedup claim then resumes it).
      const until = Date.now() + Math.min(options.timeoutMs, CLOSE_WAIT_MS);
      while (running.size > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    },
  };
}

function createAtOf(event: MessageEvent): number {
  try {
    const createAt = (JSON.parse(event.data) as { createAt?: unknown }).createAt;
    if (typeof createAt === 'number' && Number.isInteger(createAt) && createAt > 0) return createAt;
  } catch {
    // the handler drops it; it still needs a key
  }
  return event.receivedAt;
}
