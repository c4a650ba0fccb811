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
 * - This process works from an in-memory queue beside the stored inbox, which it reads only at
 *   start: a hand-off costs one write, its end one delete.
 * Guarded by test/forward/inbox.test.ts.
 */
import { errorSummary } from '../errors.js';
import type { Logger } from '../log.js';
import { cond, type StateStore } from '../state/port.js';
import { ACCEPTED, describeFailure, rejected } from './outcome.js';
import type { Forwarder, MessageEvent, MessageHandler } from './port.js';

const INBOX_PK = 'inbox';
const FIRST_RETRY_MS = 200;
const MAX_RETRY_MS = 30_000;
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
  // The store holds the inbox for a restart; this process works from its own queue, so the hot
  // path is one write to add an entry and one to remove it, never a scan.
  const queue: Entry[] = [];
  const retries = new Set<NodeJS.Timeout>();
  let running = 0;
  let closed = false;

  const runEntry = async (entry: Entry) => {
    running += 1;
    try {
      const outcome = await options.handler(
        { ...entry.event, ...(entry.attempts > 0 ? { attempt: entry.attempts } : {}) },
        { deadline: Date.now() + options.timeoutMs },
      );
      if (outcome.status === 'duplicate' && outcome.reason === 'duplicate_in_progress') {
        await later(entry, 'another attempt holds the message');
      } else {
        await store.delete(INBOX_PK, entry.sk);
      }
    } catch (err) {
      await later(entry, describeFailure(err));
    } finally {
      running -= 1;
      pump();
    }
  };

  const later = async (entry: Entry, reason: string) => {
    const attempts = entry.attempts + 1;
    const wait = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** entry.attempts);
    logger.warn('forward.inbox.retry', { entry: entry.sk, attempts, inMs: wait, reason });
    await store
      .update(INBOX_PK, entry.sk, { attempts }, cond.exists())
      .catch((err: unknown) =>
        logger.error('forward.inbox.update_failed', { error: errorSummary(err) }),
      );
    if (closed) return;
    const timer = setTimeout(() => {
      retries.delete(timer);
      queue.push({ ...entry, attempts });
      pump();
    }, wait);
    retries.add(timer);
  };

  const pump = () => {
    while (!closed && running < options.concurrency && queue.length > 0)
      void runEntry(queue.shift()!);
  };

  // What an earlier process left (it stopped, or died, before handling it), oldest first.
  const recovered = store
    .query(INBOX_PK)
    .then((items) => {
      for (const item of items) {
        queue.push({
          sk: item.sk,
          event: JSON.parse(String(item.event)) as MessageEvent,
          attempts: typeof item.attempts === 'number' ? item.attempts : 0,
        });
      }
      if (items.length > 0) logger.info('forward.inbox.recovered', { entries: items.length });
      pump();
    })
    .catch((err: unknown) =>
      logger.error('forward.inbox.recovery_failed', { error: errorSummary(err) }),
    );

  return {
    kind: 'inbox',
    local: true,
    async forward(event) {
      if (closed) return rejected('inbox: stopping', true);
      const sk = entryKey(event);
      try {
        // A redelivery of an event still in the inbox finds its entry: accepted, one entry.
        const put = await store.put(
          { pk: INBOX_PK, sk, event: JSON.stringify(event), attempts: 0 },
          cond.notExists(),
        );
        if (!put.ok) return ACCEPTED;
      } catch (err) {
        return rejected(`inbox: write failed: ${describeFailure(err)}`, true);
      }
      await recovered;
      queue.push({ sk, event, attempts: 0 });
      pump();
      return ACCEPTED;
    },
    pending: async () => (await store.query(INBOX_PK)).length,
    async idle(timeoutMs) {
      await recovered;
      const until = Date.now() + timeoutMs;
      while (Date.now() < until) {
        if (running === 0 && queue.length === 0 && retries.size === 0) return true;
        await new Promise((r) => setTimeout(r, 20));
      }
      return false;
    },
    async close() {
      closed = true;
      for (const timer of retries) clearTimeout(timer);
      retries.clear();
      // Handlers under way get a moment to finish; what is left stays in the inbox for the next
      // start (the dedup claim then resumes it).
      const until = Date.now() + Math.min(options.timeoutMs, CLOSE_WAIT_MS);
      while (running > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    },
  };
}

interface Entry {
  sk: string;
  event: MessageEvent;
  attempts: number;
}

/** Oldest message first; the same on a redelivery (createAt is DingTalk's, receivedAt ours). */
function entryKey(event: MessageEvent): string {
  return `${String(createAtOf(event)).padStart(15, '0')}#${event.accountId}#${event.messageId}`;
}

/** DingTalk's `createAt`, read without parsing the payload (the handler parses it properly). */
function createAtOf(event: MessageEvent): number {
  const match = /"createAt"\s*:\s*"?(\d{1,13})[",}\s]/.exec(event.data);
  return match ? Number(match[1]) : event.receivedAt;
}
