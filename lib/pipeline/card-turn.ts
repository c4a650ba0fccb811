/**
 * Card mode in the pipeline (issue 13): which replies go into an AI card, the card of one
 * message, and how it ends whatever happens.
 *
 * - The card's `outTrackId` comes from (account, msgId) (lib/dingtalk/cards.ts), so a retry of
 *   the message finds the card of its first attempt and carries on with it.
 * - Every way out closes the card: an agent failure or timeout (callAgent turns both into its
 *   short note) finishes it as failed with the text so far and the note; an error after the
 *   agent (a store write, the deadline) closes it as failed with an "interrupted" note before
 *   the error goes on to handler.ts, which abandons the claim or ends the message. A retry then
 *   reopens the same card and finishes it.
 * - A retry is what closes the card of a process that died: the dedup lease runs out after
 *   `leaseMs`, the relay (or the platform) delivers the message again, and the resume step
 *   closes the card with the stored reply, or the agent turn runs again into that card. When no
 *   retry ever comes (retries exhausted, the message lost), the relay's watchdog closes it: the
 *   card's record (card-watch.ts) names its bound, the message's deadline plus
 *   `card.watchdogGraceMs`, and the sweep (card-watchdog.ts) closes it as failed past that.
 * - The `stop` button (card-stop.ts) aborts the agent call; the card is finished (not failed)
 *   with the text so far and STOPPED_NOTE, the claim completes as usual.
 * - The stored reply (the claim) is written before the card is finalized, so a resumed message
 *   closes its card with that text and never asks the agent twice (`resumeCard`).
 */
import type { AccountConfig } from '../config/index.js';
import { CardApi, type CardSpace, outTrackIdFor } from '../dingtalk/cards.js';
import type { InboundMessage } from '../dingtalk/inbound-types.js';
import { sharedQpsBudget } from '../dingtalk/qps-budget.js';
import { ChannelError, errorSummary } from '../errors.js';
import { keys } from '../state/keys.js';
import type { StoredAttachment } from './attachments.js';
import { boundReply } from './bounds.js';
import { type CardOutcome, CardReply, withNote } from './card-reply.js';
import { CardWatch } from './card-watch.js';
import { type MessageRun, need, sendText } from './steps.js';

export const INTERRUPTED_NOTE =
  '(The reply was interrupted; it continues if the message is retried.)';
/** The note of a reply stopped with the card's `stop` button. */
export const STOPPED_NOTE = '(Stopped.)';

/** One message's card, the record that watches it, and the stop its button fires. */
export class CardTurn {
  constructor(
    readonly reply: CardReply,
    readonly watch: CardWatch,
    private readonly stopper: AbortController,
  ) {}

  /** The agent's whole answer so far (the agent call's `onText`). */
  onText(textSoFar: string): void {
    this.reply.onText(textSoFar);
  }

  /** `signal`, also aborted when the card's `stop` button is clicked. */
  withStop(signal: AbortSignal): AbortSignal {
    return AbortSignal.any([signal, this.stopper.signal]);
  }

  /** True once a click on the `stop` button was seen. */
  get stopped(): boolean {
    return this.watch.stopped;
  }
}

/** Whether this message's reply goes into a card: `replyMode`, the group entry's first. */
export function cardModeOf(run: MessageRun): boolean {
  const { message, account } = need(run);
  const entry = run.group?.entryKey ? account.groups[run.group.entryKey] : undefined;
  const mode = entry?.replyMode ?? account.replyMode;
  return mode === 'card' && spaceOf(message) !== undefined;
}

/** The card of this message's reply, or undefined in markdown mode. */
export function cardReplyFor(run: MessageRun): CardTurn | undefined {
  if (!cardModeOf(run)) return undefined;
  const { message, account } = need(run);
  const stopper = new AbortController();
  const outTrackId = outTrackIdFor(account.accountId, message.msgId);
  const watch = new CardWatch({
    scope: run.rt,
    store: run.records,
    card: {
      accountId: account.accountId,
      outTrackId,
      msgId: message.msgId,
      conversationType: message.conversationType === 'group' ? 'group' : 'dm',
      conversationId: message.conversationId,
      watchdogAt: run.deadline + account.card.watchdogGraceMs,
    },
    pollMs: account.card.stopPollMs,
    now: run.rt.now,
    logger: run.log,
    onStop: (by) => {
      run.log.info('card.stop_seen', { outTrackId, by });
      stopper.abort(new ChannelError('card_stopped', 'the reply was stopped with its card button'));
    },
  });
  const reply = newCard(run, message, account, account.card.thinkingDelayMs, () => {
    void watch.open();
  });
  return new CardTurn(reply, watch, stopper);
}

/**
 * What a stopped turn ends with: the text so far and STOPPED_NOTE, a finished card. Only a call
 * the stop cut short counts: a click that came after the whole answer changes nothing.
 */
function afterStop(
  run: MessageRun,
  turn: CardTurn,
  result: { text: string; answered: boolean },
): { text: string; answered: boolean } {
  if (!turn.stopped || result.answered) return result;
  run.log.info('agent.stopped', { msgId: run.message?.msgId });
  return { text: withNote(turn.reply.textSoFar, STOPPED_NOTE), answered: true };
}

/**
 * Ends the card with the agent's result: the reply is stored first (with `alongside`, one round
 * trip), then the card is finalized; what the card cannot hold or show goes out as markdown.
 */
export async function finishCard(
  run: MessageRun,
  turn: CardTurn,
  answer: { text: string; answered: boolean },
  alongside?: Promise<unknown>,
  attachments: readonly StoredAttachment[] = [],
): Promise<void> {
  const card = turn.reply;
  // A stopped call came back as a failure (aborted): it ends as a finished card instead. It is
  // no exchange to build on, so the caller's history (kept only for answers) leaves it out.
  const result = afterStop(run, turn, answer);
  const text = boundReply(result.text).text;
  // A failure here reaches abortCard (converse.ts), which closes the card as interrupted.
  // The attachments are stored with it, so a retry that closes the card still sends them.
  if (run.claim) {
    await Promise.all([run.claim.storeReply(text, { card: true, attachments }), alongside]);
  }
  const shown = result.answered ? text : withNote(card.textSoFar, text);
  const outcome = await card.finish(shown, { failed: !result.answered });
  run.log.info('card.finished', {
    calls: outcome.calls,
    closed: outcome.closed,
    resumed: card.resumed,
    ...(turn.watch.stopped ? { stopped: true } : {}),
  });
  await endWatch(turn.watch, outcome);
  await afterCard(run, outcome, attachments);
}

/** A closed card's record goes; one that could not be closed stays for the watchdog. */
async function endWatch(watch: CardWatch, outcome: CardOutcome): Promise<void> {
  if (outcome.stuck) watch.release();
  else await watch.close();
}

/**
 * A card that could not be closed is a retryable failure: the reply is stored, so the retry
 * (resume step) closes the same card without asking the agent again.
 */
async function afterCard(
  run: MessageRun,
  outcome: CardOutcome,
  attachments: readonly StoredAttachment[] = [],
): Promise<void> {
  if (outcome.stuck) {
    throw new ChannelError(
      'card_close_failed',
      'the AI card could not be closed; a retry closes it',
      {
        retryable: true,
      },
    );
  }
  // What the card could not hold, then the answer's images and files (the webhook or OpenAPI
  // path, one unit of progress each, as after a markdown reply: lib/pipeline/reply.ts).
  if (outcome.markdown || attachments.length > 0) {
    await sendText(run, outcome.markdown ?? '', { attachments });
  }
}

/** Closes the card of a turn that ended in an error (the error goes on after this). */
export async function abortCard(run: MessageRun, turn: CardTurn, err: unknown): Promise<void> {
  run.log.warn('card.interrupted', { error: errorSummary(err) });
  const outcome = await turn.reply.finish(withNote(turn.reply.textSoFar, INTERRUPTED_NOTE), {
    failed: true,
  });
  await endWatch(turn.watch, outcome);
}

/** A resumed message in card mode: its card gets the stored reply and is closed. */
export async function resumeCard(
  run: MessageRun,
  reply: string,
  attachments: readonly StoredAttachment[] = [],
): Promise<void> {
  const { message, account } = need(run);
  const card = newCard(run, message, account, 0);
  // A stored "send nothing" may follow a card an earlier attempt showed: it is closed, not skipped.
  const outcome = await card.finish(reply, { resumed: true });
  // The record an earlier attempt left (if any) goes with the card it watched.
  if (outcome.closed) {
    await run.records
      .delete(...openCardKey(account.accountId, message.msgId))
      .catch((err: unknown) =>
        run.log.warn('card.record_delete_failed', { error: errorSummary(err) }),
      );
  }
  run.log.info('card.finished', { calls: outcome.calls, closed: outcome.closed, resumed: true });
  await afterCard(run, outcome, attachments);
}

function newCard(
  run: MessageRun,
  message: InboundMessage,
  account: AccountConfig,
  thinkingDelayMs: number,
  onOpen?: () => void,
): CardReply {
  const settings = account.card;
  return new CardReply({
    cards: new CardApi(run.rt.apiFor(account), {
      maxAttempts: 1,
      qps: sharedQpsBudget(settings.qpsPerApi),
    }),
    outTrackId: outTrackIdFor(account.accountId, message.msgId),
    templateId: settings.templateId,
    space: spaceOf(message)!,
    maxCalls: settings.maxCalls,
    minIntervalMs: settings.minIntervalMs,
    thinkingDelayMs,
    now: run.rt.now,
    logger: run.log,
    signal: AbortSignal.timeout(Math.max(1, run.deadline - run.rt.now() + 1_000)),
    ...(onOpen ? { onOpen } : {}),
    earlierAttempt: (run.claim?.attempts ?? 1) > 1,
  });
}

function openCardKey(accountId: string, msgId: string): [string, string] {
  const key = keys.openCard(accountId, outTrackIdFor(accountId, msgId));
  return [key.pk, key.sk];
}

function spaceOf(message: InboundMessage): CardSpace | undefined {
  if (message.conversationType === 'group') {
    return { type: 'group', conversationId: message.conversationId };
  }
  return message.sender.staffId ? { type: 'dm', staffId: message.sender.staffId } : undefined;
}
