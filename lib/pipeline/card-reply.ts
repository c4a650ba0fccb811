/**
 * A reply streamed into a DingTalk AI card (issue 13; dingtalk-protocol.md §6.4), within a hard
 * budget of paid API calls.
 *
 * Call plan for a budget of N (default 5):
 * - create (`createAndDeliver`, flowStatus 2 with the first text; or flowStatus 1 "thinking" when
 *   the agent has said nothing after `thinkingDelayMs`): 1 call;
 * - updates (`card/streaming`, full content, at least `minIntervalMs` apart): what is left after
 *   the create and the 2 finalizing calls are reserved, so N − 3 at most; text that arrives
 *   between two updates is coalesced, only the newest full content goes out;
 * - finalize: `card/streaming` with `isFinalize` and the final content, then `card/instances`
 *   with flowStatus 3 (finished) or 5 (failed). The client's spinner follows flowStatus, so the
 *   status call is what closes the card. A card first created at the end (a fast, or a
 *   non-streaming, agent) is created finished in one call.
 *
 * The `stop` button: the template shows it while `showStop` is "true" (every card variable is a
 * string, §6.4); the create and a reopen set it, every closing status call sets it to "false",
 * so a finished card has no button. A click comes back on the card callback topic (card-stop.ts).
 *
 * 403 QPS answers (§6.2) are not counted as paid calls (DingTalk refused them before doing
 * anything); a skipped update is simply covered by the next one, and the finalizing calls are
 * retried with backoff (at most QPS_RETRIES times each) so the final content is not lost.
 */
import type { CardApi, CardSpace } from '../dingtalk/cards.js';
import { CARD_CONTENT_KEY, FlowStatus, STOP_BUTTON_KEY } from '../dingtalk/cards.js';
import { isQpsLimit, sleep } from '../dingtalk/http.js';
import { isNoReply } from '../dingtalk/reply-format.js';
import { DingTalkApiError, DingTalkNetworkError, errorSummary } from '../errors.js';
import type { Logger } from '../log.js';

/** Calls reserved for the end: the finalizing stream call and the closing status. */
const FINAL_CALLS = 2;
const QPS_RETRIES = 4;
const QPS_BACKOFF_MS = 250;
/**
 * What one card shows. DingTalk documents no size limit for an AI card variable; its documented
 * message bound is 20 000 bytes (§5 460101), so a card holds that much and the rest of a longer
 * reply follows as markdown.
 */
export const CARD_MAX_BYTES = 20_000;
/** The create answer DingTalk gives an `outTrackId` it has seen: the card of an earlier attempt. */
const EXISTING_CARD = 'invalidParameter.outTrackId.duplicate';
const NO_REPLY = 'NO_REPLY';
/** What a card already shown says when the agent's answer was "send nothing". */
export const NO_REPLY_NOTE = '(No reply.)';

export interface CardReplyOptions {
  cards: CardApi;
  outTrackId: string;
  templateId: string;
  space: CardSpace;
  maxCalls: number;
  minIntervalMs: number;
  /** 0: no thinking state. */
  thinkingDelayMs: number;
  now: () => number;
  logger: Logger;
  /** Bounds every card call (the message's deadline plus a short grace). */
  signal: AbortSignal;
  /** Called when the card is about to exist (its create goes out, or an earlier one is resumed). */
  onOpen?: () => void;
  /**
   * An earlier attempt of this message ran (a retry): its card may exist, closed as interrupted.
   * A create refused now (QPS, a fault) then settles like an unanswered one (`uncertain`): the
   * closing status call finishes that card with the answer, and only "no such card" falls back
   * to markdown, so the answer never shows in both.
   */
  earlierAttempt?: boolean;
}

/** How the reply ended up: what the card shows, and what must still go out as markdown. */
export interface CardOutcome {
  /** The card exists and is closed (finished or failed). */
  closed: boolean;
  /** Paid card calls this reply spent. */
  calls: number;
  /** Text for the markdown path: everything when no card exists, else what did not fit. */
  markdown?: string;
  /** The card exists but could not be closed (its status call failed). */
  stuck?: boolean;
}

type CardState = 'none' | 'open' | 'unavailable' | 'uncertain';

/** One reply's card. Feed it with `onText`, end it with `finish` (exactly once). */
export class CardReply {
  readonly #o: CardReplyOptions;
  /** `uncertain`: the create got no answer, so the card may exist (it is closed if it does). */
  #state: CardState = 'none';
  #shown = '';
  #latest = '';
  #calls = 0;
  #lastCallAt = Number.NEGATIVE_INFINITY;
  #queue: Promise<void> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;
  #thinking: NodeJS.Timeout | undefined;
  #finished = false;
  #ending: Promise<CardOutcome> | undefined;
  /** A retry found the card of an earlier attempt (create answered "exists"). */
  resumed = false;

  constructor(options: CardReplyOptions) {
    this.#o = options;
    if (options.thinkingDelayMs > 0) {
      this.#thinking = setTimeout(
        () => this.#enqueue(() => this.#create('')),
        options.thinkingDelayMs,
      );
      this.#thinking.unref();
    }
  }

  /** The agent's text the card was last given (shown or about to be). */
  get textSoFar(): string {
    return this.#latest;
  }

  /** Paid calls so far. */
  get calls(): number {
    return this.#calls;
  }

  /** The agent's whole answer so far. */
  onText(textSoFar: string): void {
    if (this.#finished) return;
    this.#latest = fitCard(textSoFar).card;
    // No card for what may still turn out to be "send nothing" (`NO_REPLY` arriving piece by piece).
    if (this.#state === 'none' && NO_REPLY.startsWith(textSoFar.trim())) return;
    if (this.#state === 'none') {
      this.#clearThinking();
      this.#enqueue(() => this.#create(this.#latest));
      return;
    }
    this.#schedule();
  }

  /**
   * Ends the reply: the card gets `text` (failed: with the note appended) and is closed. Never
   * throws: a card that cannot be finished hands its text to the markdown path.
   */
  finish(text: string, how: { failed?: boolean; resumed?: boolean } = {}): Promise<CardOutcome> {
    // Once only: a later call (an error after the card was closed) gets the first outcome.
    this.#ending ??= this.#end(text, how);
    return this.#ending;
  }

  async #end(text: string, how: { failed?: boolean; resumed?: boolean }): Promise<CardOutcome> {
    this.#finished = true;
    this.#clearThinking();
    if (this.#timer) clearTimeout(this.#timer);
    await this.#queue;
    if (!how.failed && isNoReply(text)) {
      // "Send nothing" (§7): no card when none is shown; one already shown (thinking) is closed
      // with a short note rather than left spinning or emptied.
      const noCard = (this.#state === 'none' && !how.resumed) || this.#state === 'unavailable';
      if (noCard) return { closed: true, calls: this.#calls };
      text = NO_REPLY_NOTE;
    }
    const { card, rest } = fitCard(text);
    if (this.#state === 'unavailable') return { closed: false, calls: this.#calls, markdown: text };
    const status = how.failed ? FlowStatus.failed : FlowStatus.finished;
    if (this.#state === 'uncertain') return this.#closeUncertain(card, rest, text, status);
    if (this.#state === 'none') {
      await this.#create(card, status);
      const created = this.#state as CardState;
      // Refused on a retry, or no answer: the card may exist, so the status call settles it.
      if (created === 'uncertain') return this.#closeUncertain(card, rest, text, status);
      if (created !== 'open') return { closed: false, calls: this.#calls, markdown: text };
      if (!this.resumed) return this.#outcome(true, rest);
    }
    try {
      await this.#final(() =>
        this.#o.cards.stream(
          this.#o.outTrackId,
          card,
          { finalize: true, error: how.failed },
          this.#o.signal,
        ),
      );
      this.#shown = card;
    } catch (err) {
      this.#o.logger.warn('card.finalize_stream_failed', { error: errorSummary(err) });
    }
    // The status closes the card even when the content call failed: it then shows what it showed.
    const params: Record<string, string> = { flowStatus: status, [STOP_BUTTON_KEY]: 'false' };
    if (this.#shown !== card) params[CARD_CONTENT_KEY] = card;
    try {
      await this.#final(() => this.#o.cards.update(this.#o.outTrackId, params, this.#o.signal));
      this.#shown = card;
    } catch (err) {
      this.#o.logger.error('card.close_failed', { error: errorSummary(err) });
      return { closed: false, stuck: true, calls: this.#calls };
    }
    return this.#outcome(true, rest);
  }

  /**
   * The create timed out: DingTalk may have delivered the card (a slow answer) or not. A status
   * call with the final content settles it: it closes a card that exists, and "no such card"
   * means the reply goes out as markdown. Falling back without asking would show the answer
   * twice and leave the delivered card spinning forever.
   */
  async #closeUncertain(
    card: string,
    rest: string,
    text: string,
    status: string,
  ): Promise<CardOutcome> {
    try {
      await this.#final(() =>
        this.#o.cards.update(
          this.#o.outTrackId,
          { flowStatus: status, [CARD_CONTENT_KEY]: card, [STOP_BUTTON_KEY]: 'false' },
          this.#o.signal,
        ),
      );
      this.#shown = card;
      return this.#outcome(true, rest);
    } catch (err) {
      if (err instanceof DingTalkApiError && /outTrackId/i.test(err.code)) {
        return { closed: false, calls: this.#calls, markdown: text };
      }
      // Still no answer: the retry settles it (its create finds the card or makes it).
      this.#o.logger.error('card.close_failed', { error: errorSummary(err) });
      return { closed: false, stuck: true, calls: this.#calls };
    }
  }

  #outcome(closed: boolean, markdown: string): CardOutcome {
    return { closed, calls: this.#calls, ...(markdown ? { markdown } : {}) };
  }

  #enqueue(call: () => Promise<void>): void {
    this.#queue = this.#queue.then(call, call);
  }

  #clearThinking(): void {
    if (this.#thinking) clearTimeout(this.#thinking);
    this.#thinking = undefined;
  }

  /** Updates left once the create (if still to come) and the finalize are reserved. */
  #updatesLeft(): number {
    return this.#o.maxCalls - this.#calls - FINAL_CALLS - (this.#state === 'none' ? 1 : 0);
  }

  #schedule(): void {
    if (this.#timer || this.#finished || this.#state !== 'open' || this.#updatesLeft() <= 0) return;
    const wait = Math.max(0, this.#lastCallAt + this.#o.minIntervalMs - this.#o.now());
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#enqueue(() => this.#update());
    }, wait);
    this.#timer.unref();
  }

  async #update(): Promise<void> {
    if (this.#finished || this.#state !== 'open' || this.#updatesLeft() <= 0) return;
    const content = this.#latest;
    if (content === this.#shown) return;
    try {
      await this.#paid(() =>
        this.#o.cards.stream(this.#o.outTrackId, content, { finalize: false }, this.#o.signal),
      );
      this.#shown = content;
    } catch (err) {
      // Covered by the next update or the finalize (each carries the full content).
      this.#o.logger.warn('card.update_failed', { error: errorSummary(err) });
    }
    if (this.#latest !== this.#shown) this.#schedule();
  }

  async #create(content: string, status?: string): Promise<void> {
    if (this.#state !== 'none') return;
    const flow = status ?? (content ? FlowStatus.inputting : FlowStatus.processing);
    // A card created already finished never streams, so it never needs the record or the button.
    if (!status) this.#o.onOpen?.();
    try {
      await this.#paid(() =>
        this.#o.cards.create(
          this.#o.outTrackId,
          this.#o.templateId,
          this.#o.space,
          {
            flowStatus: flow,
            [CARD_CONTENT_KEY]: content,
            [STOP_BUTTON_KEY]: status ? 'false' : 'true',
            config: '{"autoLayout":true}',
          },
          this.#o.signal,
        ),
      );
      this.#state = 'open';
      this.#shown = content;
    } catch (err) {
      if (err instanceof DingTalkApiError && err.code === EXISTING_CARD) {
        // The card of an earlier attempt of this message (same outTrackId): go on with it.
        this.#state = 'open';
        this.resumed = true;
        this.#o.logger.info('card.resumed', { outTrackId: this.#o.outTrackId });
        await this.#reopen(content);
        return;
      }
      this.#state =
        err instanceof DingTalkNetworkError || this.#o.earlierAttempt ? 'uncertain' : 'unavailable';
      this.#o.logger.warn('card.create_failed', {
        error: errorSummary(err),
        uncertain: this.#state === 'uncertain',
      });
    }
    if (this.#latest !== this.#shown) this.#schedule();
  }

  /** A resumed card may have been closed by the failed attempt: show it as in progress again. */
  async #reopen(content: string): Promise<void> {
    if (this.#finished || this.#updatesLeft() <= 0) return;
    try {
      await this.#paid(() =>
        this.#o.cards.update(
          this.#o.outTrackId,
          {
            flowStatus: content ? FlowStatus.inputting : FlowStatus.processing,
            [CARD_CONTENT_KEY]: content,
            [STOP_BUTTON_KEY]: 'true',
          },
          this.#o.signal,
        ),
      );
      this.#shown = content;
    } catch (err) {
      this.#o.logger.warn('card.reopen_failed', { error: errorSummary(err) });
    }
  }

  /** One paid call (QPS refusals are not charged; a refused update is not retried). */
  async #paid(call: () => Promise<void>): Promise<void> {
    this.#lastCallAt = this.#o.now();
    try {
      await call();
      this.#calls += 1;
    } catch (err) {
      if (!(err instanceof DingTalkApiError && isQpsLimit(err.code))) this.#calls += 1;
      throw err;
    }
  }

  /** A finalizing call: QPS refusals back off and retry, so the final content is not lost. */
  async #final(call: () => Promise<void>): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.#paid(call);
        return;
      } catch (err) {
        const qps = err instanceof DingTalkApiError && isQpsLimit(err.code);
        if (!qps || attempt >= QPS_RETRIES) throw err;
        await sleep(QPS_BACKOFF_MS * 2 ** attempt, this.#o.signal);
      }
    }
  }
}

/** Splits a reply into what the card shows and the rest (a follow-up markdown message). */
export function fitCard(text: string): { card: string; rest: string } {
  if (Buffer.byteLength(text) <= CARD_MAX_BYTES) return { card: text, rest: '' };
  let cut = Math.min(text.length, CARD_MAX_BYTES);
  while (cut > 0 && Buffer.byteLength(text.slice(0, cut)) > CARD_MAX_BYTES) cut -= 1;
  // Never split a surrogate pair.
  if (cut > 0 && /[\uD800-\uDBFF]/.test(text[cut - 1] ?? '')) cut -= 1;
  const lastBreak = text.lastIndexOf('\n', cut);
  if (lastBreak > cut / 2) cut = lastBreak;
  return { card: text.slice(0, cut), rest: text.slice(cut).replace(/^\n+/, '') };
}

/** The text a card ends with when it carries a short note (stopped, interrupted, failed). */
export function withNote(text: string, note: string): string {
  return text ? `${text}\n\n---\n${note}` : note;
}
