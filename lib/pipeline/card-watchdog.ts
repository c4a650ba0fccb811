/**
 * The card watchdog (issue 13, "every card closes"): the last resort for a card whose process
 * died and whose message is never retried (retries exhausted, the message lost). The relay is
 * the one piece that is always on, so it runs this: every `relay.cardSweepMs` one Query per
 * account lists the open-card records (card-watch.ts) and every card past its `watchdogAt` (the
 * message's deadline plus `card.watchdogGraceMs`, moved by every retry that takes the card
 * over) is closed as failed:
 *
 * - with the stored reply and WATCHDOG_NOTE, when the dedup claim holds one (the agent had
 *   answered; the card's content is finalized with it);
 * - otherwise with its content as it stands (the text so far is only on the card): the status
 *   alone closes it, so nothing already shown is overwritten.
 *
 * Then the record goes (conditional on the `watchdogAt` seen, so a retry that took the card over
 * meanwhile keeps its record). A card DingTalk does not know (never created) just loses its
 * record; any other failed call leaves the record for the next sweep, until it expires.
 */
import type { AccountConfig } from '../config/index.js';
import type { DingTalkApi } from '../dingtalk/api.js';
import { CARD_CONTENT_KEY, CardApi, FlowStatus, STOP_BUTTON_KEY } from '../dingtalk/cards.js';
import { DingTalkApiError, errorSummary } from '../errors.js';
import type { Logger } from '../log.js';
import { isExpired, keys } from '../state/keys.js';
import { cond, type StateStore, toEpochSeconds } from '../state/port.js';
import { fitCard, withNote } from './card-reply.js';
import { type OpenCardInfo, openCardOf } from './card-watch.js';

/** The note of a card the watchdog closed. */
export const WATCHDOG_NOTE = '(This reply was cut short and could not be finished.)';
/** DingTalk's answer for an `outTrackId` it never saw (the simulator's, §9: not documented). */
const UNKNOWN_CARD = 'invalidParameter.outTrackId.notExist';

export interface CardWatchdogOptions {
  store: StateStore;
  accounts: readonly AccountConfig[];
  apiFor(account: AccountConfig): DingTalkApi;
  now(): number;
  logger: Logger;
  /** Sweep interval; 0: `start` does nothing (sweeps run only when called). */
  sweepMs: number;
}

/** What one sweep did. */
export interface SweepResult {
  /** Open-card records seen. */
  open: number;
  /** Cards past their bound closed. */
  closed: number;
  /** Cards past their bound whose close failed (kept for the next sweep). */
  failed: number;
}

/** Sweeps the open-card records of every account and closes what nobody else will. */
export class CardWatchdog {
  readonly #o: CardWatchdogOptions;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<SweepResult> | undefined;

  constructor(options: CardWatchdogOptions) {
    this.#o = options;
  }

  /** Sweeps every `sweepMs` from now on. */
  start(): void {
    if (this.#timer || this.#o.sweepMs <= 0) return;
    this.#timer = setInterval(() => void this.sweep(), this.#o.sweepMs);
    this.#timer.unref();
  }

  /** Stops sweeping; waits for a sweep under way. */
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running?.catch(() => undefined);
  }

  /** One sweep (a sweep under way is joined, never run twice at once). */
  sweep(): Promise<SweepResult> {
    this.#running ??= this.#sweep().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #sweep(): Promise<SweepResult> {
    const result: SweepResult = { open: 0, closed: 0, failed: 0 };
    for (const account of this.#o.accounts) {
      let items: Awaited<ReturnType<StateStore['query']>>;
      try {
        const q = keys.openCards(account.accountId);
        items = await this.#o.store.query(q.pk, { skPrefix: q.skPrefix });
      } catch (err) {
        this.#o.logger.warn('card.watchdog_query_failed', {
          account: account.accountId,
          error: errorSummary(err),
        });
        continue;
      }
      const now = this.#o.now();
      for (const item of items) {
        if (isExpired(item, toEpochSeconds(now))) continue;
        const card = openCardOf(item);
        result.open += 1;
        if (!card || card.watchdogAt > now) continue;
        if (await this.#close(account, card)) result.closed += 1;
        else result.failed += 1;
      }
    }
    if (result.closed || result.failed) this.#o.logger.info('card.watchdog_sweep', { ...result });
    return result;
  }

  async #close(account: AccountConfig, card: OpenCardInfo): Promise<boolean> {
    const log = this.#o.logger.child({ account: account.accountId, outTrackId: card.outTrackId });
    const cards = new CardApi(this.#o.apiFor(account), { maxAttempts: 2 });
    try {
      const reply = await this.#storedReply(account, card);
      const params: Record<string, string> = {
        flowStatus: FlowStatus.failed,
        [STOP_BUTTON_KEY]: 'false',
      };
      if (reply !== undefined) {
        const content = fitCard(withNote(reply, WATCHDOG_NOTE)).card;
        await cards.stream(card.outTrackId, content, { finalize: true, error: true });
        params[CARD_CONTENT_KEY] = content;
      }
      await cards.update(card.outTrackId, params);
      log.warn('card.watchdog_closed', { msgId: card.msgId, withReply: reply !== undefined });
    } catch (err) {
      if (!(err instanceof DingTalkApiError && err.code === UNKNOWN_CARD)) {
        log.error('card.watchdog_close_failed', { error: errorSummary(err) });
        return false;
      }
      log.info('card.watchdog_unknown_card', { msgId: card.msgId });
    }
    const key = keys.openCard(account.accountId, card.outTrackId);
    await this.#o.store
      .delete(key.pk, key.sk, cond.equals('watchdogAt', card.watchdogAt))
      .catch((err: unknown) => log.warn('card.record_delete_failed', { error: errorSummary(err) }));
    return true;
  }

  /** The reply the message's claim stored, if an attempt got that far. */
  async #storedReply(account: AccountConfig, card: OpenCardInfo): Promise<string | undefined> {
    const key = keys.dedupClaim(account.accountId, card.msgId);
    const claim = await this.#o.store.get(key.pk, key.sk);
    return typeof claim?.reply === 'string' ? claim.reply : undefined;
  }
}
