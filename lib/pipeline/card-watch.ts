/**
 * The store record of a streaming AI card (issue 13; `keys.openCard`): the cross-process signal
 * of the `stop` button and the relay watchdog's list of cards to close when nobody else does.
 *
 *   card opens ─► put {stop: none, watchdogAt} ─┬─ poll every stopPollMs: stop = requested? ─► abort the agent
 *                                              │   (a click handled in this process aborts at once)
 *                                              └─ card closes ─► delete the record
 *   the process dies, no retry ─► the relay's sweep finds watchdogAt < now ─► closes the card (card-watchdog.ts)
 *
 * The turn and the callback may run in different processes (or Lambdas): the callback writes
 * `stop: requested` on this record with one conditional write (card-stop.ts) and the turn reads
 * it, at most once per `stopPollMs` while it streams. Store cost per card reply: one put when
 * the card opens, one delete when it closes, one read per poll (none for a reply shorter than
 * one poll). A retry of the message finds the record of its first attempt: it moves its
 * `watchdogAt` and keeps a stop that was already requested.
 */
import { ChannelError, errorSummary } from '../errors.js';
import type { Logger } from '../log.js';
import { STATE_DEADLINE } from '../state/deadline.js';
import { keys } from '../state/keys.js';
import { cond, type StateItem, type StateStore, toEpochSeconds } from '../state/port.js';

/** `stop` before and after a click on the button. */
export const STOP_NONE = 'none';
export const STOP_REQUESTED = 'requested';
/** The record outlives its bound by this much, for a sweep that was down meanwhile. */
const RECORD_TTL_MS = 24 * 60 * 60 * 1000;

/** What a card's record says about it. */
export interface OpenCardInfo {
  accountId: string;
  outTrackId: string;
  msgId: string;
  conversationType: 'dm' | 'group';
  conversationId: string;
  /** Epoch ms after which the relay's watchdog closes the card. */
  watchdogAt: number;
}

/**
 * Turns streaming in this process, by runtime and card: a click handled by the same runtime
 * stops them without waiting for a poll. (Scoped by runtime, not by process, so that two
 * runtimes in one test behave like two processes.)
 */
const localTurns = new WeakMap<object, Map<string, (by: string) => void>>();

const localKey = (accountId: string, outTrackId: string) => `${accountId}\n${outTrackId}`;

function turnsOf(scope: object): Map<string, (by: string) => void> {
  let turns = localTurns.get(scope);
  if (!turns) {
    turns = new Map();
    localTurns.set(scope, turns);
  }
  return turns;
}

/** Stops a turn of this runtime streaming into that card; false when none runs here. */
export function stopLocalTurn(
  scope: object,
  accountId: string,
  outTrackId: string,
  by: string,
): boolean {
  const stop = localTurns.get(scope)?.get(localKey(accountId, outTrackId));
  stop?.(by);
  return stop !== undefined;
}

/** Reads a card record into its info (undefined when absent or malformed). */
export function openCardOf(item: StateItem | undefined): OpenCardInfo | undefined {
  if (!item) return undefined;
  const { accountId, outTrackId, msgId, conversationType, conversationId, watchdogAt } = item;
  if (
    typeof accountId !== 'string' ||
    typeof outTrackId !== 'string' ||
    typeof msgId !== 'string' ||
    (conversationType !== 'dm' && conversationType !== 'group') ||
    typeof conversationId !== 'string' ||
    typeof watchdogAt !== 'number'
  ) {
    return undefined;
  }
  return { accountId, outTrackId, msgId, conversationType, conversationId, watchdogAt };
}

export interface CardWatchOptions {
  /** The runtime the turn runs in (the scope of the in-process stop). */
  scope: object;
  store: StateStore;
  card: OpenCardInfo;
  pollMs: number;
  now: () => number;
  logger: Logger;
  /** Called once when the button was clicked (here or in another process). */
  onStop: (by: string) => void;
}

/** One card's record, from open to close. Never throws: a failed store call is logged. */
export class CardWatch {
  readonly #o: CardWatchOptions;
  readonly #key: { pk: string; sk: string };
  #opened: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #polling = false;
  #stopped = false;
  #closed = false;

  constructor(options: CardWatchOptions) {
    this.#o = options;
    this.#key = keys.openCard(options.card.accountId, options.card.outTrackId);
  }

  /** True once a stop was seen. */
  get stopped(): boolean {
    return this.#stopped;
  }

  /** Writes the record (once; later calls share it) and starts watching for a stop. */
  open(): Promise<void> {
    this.#opened ??= this.#open();
    return this.#opened;
  }

  async #open(): Promise<void> {
    const { card } = this.#o;
    turnsOf(this.#o.scope).set(localKey(card.accountId, card.outTrackId), (by) => this.#stop(by));
    const item = {
      ...this.#key,
      accountId: card.accountId,
      outTrackId: card.outTrackId,
      msgId: card.msgId,
      conversationType: card.conversationType,
      conversationId: card.conversationId,
      watchdogAt: card.watchdogAt,
      expiresAt: toEpochSeconds(card.watchdogAt + RECORD_TTL_MS),
    };
    try {
      const put = await this.#o.store.put({ ...item, stop: STOP_NONE }, cond.notExists());
      if (!put.ok) {
        // A retry of the message: the record of the earlier attempt stays, with its stop.
        await this.#o.store.update(this.#key.pk, this.#key.sk, {
          watchdogAt: item.watchdogAt,
          expiresAt: item.expiresAt,
        });
        if (put.current?.stop === STOP_REQUESTED) this.#stop(String(put.current.stoppedBy ?? ''));
      }
    } catch (err) {
      this.#o.logger.warn('card.record_failed', { error: errorSummary(err) });
    }
    if (this.#closed || this.#stopped) return;
    this.#timer = setInterval(() => void this.#poll(), this.#o.pollMs);
    this.#timer.unref();
  }

  async #poll(): Promise<void> {
    if (this.#polling || this.#closed) return;
    this.#polling = true;
    try {
      const item = await this.#o.store.get(this.#key.pk, this.#key.sk);
      if (item?.stop === STOP_REQUESTED) this.#stop(String(item.stoppedBy ?? ''));
    } catch (err) {
      this.#o.logger.warn('card.stop_poll_failed', { error: errorSummary(err) });
      // The message's store view is past its deadline: every later poll would fail the same way
      // (the turn is ending; a click from now on is no longer seen by this turn).
      if (err instanceof ChannelError && err.code === STATE_DEADLINE) this.#clear();
    } finally {
      this.#polling = false;
    }
  }

  #stop(by: string): void {
    if (this.#stopped || this.#closed) return;
    this.#stopped = true;
    this.#clear();
    this.#o.onStop(by);
  }

  #clear(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    const { card } = this.#o;
    localTurns.get(this.#o.scope)?.delete(localKey(card.accountId, card.outTrackId));
  }

  /** The card is closed: stop watching and delete the record (the watchdog has nothing to do). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#clear();
    if (!this.#opened) return; // never opened: no record to delete
    await this.#opened;
    try {
      await this.#o.store.delete(this.#key.pk, this.#key.sk);
    } catch (err) {
      this.#o.logger.warn('card.record_delete_failed', { error: errorSummary(err) });
    }
  }

  /** Stops watching but keeps the record: a card that could not be closed is the watchdog's. */
  release(): void {
    this.#closed = true;
    this.#clear();
  }
}
