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
 * - The watchdog for a process that died with a card open is that retry: the dedup lease runs
 *   out after `leaseMs`, the relay (or the platform) delivers the message again, and the resume
 *   step closes the card with the stored reply, or the agent turn runs again into that card.
 * - The stored reply (the claim) is written before the card is finalized, so a resumed message
 *   closes its card with that text and never asks the agent twice (`resumeCard`).
 */
import type { AccountConfig } from '../config/index.js';
import { CardApi, type CardSpace, outTrackIdFor } from '../dingtalk/cards.js';
import type { InboundMessage } from '../dingtalk/inbound-types.js';
import { ChannelError, errorSummary } from '../errors.js';
import { boundReply } from './bounds.js';
import { type CardOutcome, CardReply } from './card-reply.js';
import { type MessageRun, need, sendText } from './steps.js';

export const INTERRUPTED_NOTE =
  '(The reply was interrupted; it continues if the message is retried.)';

/** Whether this message's reply goes into a card: `replyMode`, the group entry's first. */
export function cardModeOf(run: MessageRun): boolean {
  const { message, account } = need(run);
  const entry = run.group?.entryKey ? account.groups[run.group.entryKey] : undefined;
  const mode = entry?.replyMode ?? account.replyMode;
  return mode === 'card' && spaceOf(message) !== undefined;
}

/** The card of this message's reply, or undefined in markdown mode. */
export function cardReplyFor(run: MessageRun): CardReply | undefined {
  if (!cardModeOf(run)) return undefined;
  const { message, account } = need(run);
  return newCard(run, message, account, account.card.thinkingDelayMs);
}

/**
 * Ends the card with the agent's result: the reply is stored first (with `alongside`, one round
 * trip), then the card is finalized; what the card cannot hold or show goes out as markdown.
 */
export async function finishCard(
  run: MessageRun,
  card: CardReply,
  result: { text: string; answered: boolean },
  alongside?: Promise<unknown>,
): Promise<void> {
  const text = boundReply(result.text).text;
  // A failure here reaches abortCard (converse.ts), which closes the card as interrupted.
  if (run.claim) await Promise.all([run.claim.storeReply(text, { card: true }), alongside]);
  const shown = result.answered ? text : withNote(card.textSoFar, text);
  const outcome = await card.finish(shown, { failed: !result.answered });
  run.log.info('card.finished', {
    calls: outcome.calls,
    closed: outcome.closed,
    resumed: card.resumed,
  });
  await afterCard(run, outcome);
}

/**
 * A card that could not be closed is a retryable failure: the reply is stored, so the retry
 * (resume step) closes the same card without asking the agent again.
 */
async function afterCard(run: MessageRun, outcome: CardOutcome): Promise<void> {
  if (outcome.stuck) {
    throw new ChannelError(
      'card_close_failed',
      'the AI card could not be closed; a retry closes it',
      {
        retryable: true,
      },
    );
  }
  if (outcome.markdown) await sendText(run, outcome.markdown);
}

/** Closes the card of a turn that ended in an error (the error goes on after this). */
export async function abortCard(run: MessageRun, card: CardReply, err: unknown): Promise<void> {
  run.log.warn('card.interrupted', { error: errorSummary(err) });
  await card.finish(withNote(card.textSoFar, INTERRUPTED_NOTE), { failed: true });
}

/** A resumed message in card mode: its card gets the stored reply and is closed. */
export async function resumeCard(run: MessageRun, reply: string): Promise<void> {
  const { message, account } = need(run);
  const card = newCard(run, message, account, 0);
  // A stored "send nothing" may follow a card an earlier attempt showed: it is closed, not skipped.
  const outcome = await card.finish(reply, { resumed: true });
  run.log.info('card.finished', { calls: outcome.calls, closed: outcome.closed, resumed: true });
  await afterCard(run, outcome);
}

function newCard(
  run: MessageRun,
  message: InboundMessage,
  account: AccountConfig,
  thinkingDelayMs: number,
): CardReply {
  const settings = account.card;
  return new CardReply({
    cards: new CardApi(run.rt.apiFor(account), { maxAttempts: 1 }),
    outTrackId: outTrackIdFor(account.accountId, message.msgId),
    templateId: settings.templateId,
    space: spaceOf(message)!,
    maxCalls: settings.maxCalls,
    minIntervalMs: settings.minIntervalMs,
    thinkingDelayMs,
    now: run.rt.now,
    logger: run.log,
    signal: AbortSignal.timeout(Math.max(1, run.deadline - run.rt.now() + 1_000)),
  });
}

function spaceOf(message: InboundMessage): CardSpace | undefined {
  if (message.conversationType === 'group') {
    return { type: 'group', conversationId: message.conversationId };
  }
  return message.sender.staffId ? { type: 'dm', staffId: message.sender.staffId } : undefined;
}

function withNote(text: string, note: string): string {
  return text ? `${text}\n\n---\n${note}` : note;
}
