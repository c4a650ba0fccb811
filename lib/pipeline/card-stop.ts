/**
 * The card callback (`/v1.0/card/instances/callback`, dingtalk-protocol.md §2.4): a click on an
 * AI card's `stop` button, handed over by the relay like a message (architecture: the relay
 * stays thin, the function applies policy).
 *
 *   parse (§2.4 shape; `content` is a JSON string) ─► action `stop`? ─► the card's record
 *     (card-watch.ts; absent: the card is closed, a no-op) ─► policy: the clicker as the sender
 *     of a message in the card's conversation ─► one conditional write `stop: none → requested`
 *     ─► a turn of this process stops at once; one elsewhere sees it at its next poll
 *
 * Applied once: DingTalk redelivers an unacknowledged callback with the same messageId (§2.5),
 * and the conditional write lets only the first click of a card through; every later one
 * (a redelivery, a second click) finds `stop: requested` and changes nothing.
 * Nothing here throws for bad input: a malformed callback or an unknown action is dropped with
 * its reason (logged and counted as a `dropped` outcome), so the relay ACKs it.
 */
import { STOP_ACTION } from '../dingtalk/cards.js';
import { ChannelError, errorSummary } from '../errors.js';
import type { HandleContext, HandleOutcome, MessageEvent } from '../forward/port.js';
import { checkAccess } from '../policy/access.js';
import { storeWithDeadline } from '../state/deadline.js';
import { keys } from '../state/keys.js';
import { cond } from '../state/port.js';
import { openCardOf, STOP_NONE, STOP_REQUESTED, stopLocalTurn } from './card-watch.js';
import type { PipelineRuntime } from './runtime.js';

/** A card callback as far as the channel reads it. */
export interface CardCallback {
  outTrackId: string;
  /** The clicker (`userIdType` 1: the staffId). */
  userId: string;
  actionIds: string[];
  params: Record<string, unknown>;
}

/** Why a callback payload is not one: the first field that is wrong. */
export class CardCallbackError extends ChannelError {
  override name = 'CardCallbackError';
  constructor(readonly field: string) {
    // Final: the same bytes redelivered are just as malformed.
    super('card_callback_malformed', `card callback: bad or missing ${field}`, {
      retryable: false,
    });
  }
}

/** Parses the `data` of a card callback (§2.4); throws CardCallbackError naming the bad field. */
export function parseCardCallback(data: string): CardCallback {
  const value = parseObject(data, 'data is not a JSON object');
  const { outTrackId, userId, content } = value;
  if (typeof outTrackId !== 'string' || outTrackId === '')
    throw new CardCallbackError('outTrackId');
  if (typeof userId !== 'string' || userId === '') throw new CardCallbackError('userId');
  // `content` is a JSON string holding cardPrivateData (§2.4); some clients send an object.
  const body =
    typeof content === 'string'
      ? parseObject(content, 'content')
      : isRecord(content)
        ? content
        : undefined;
  if (!body) throw new CardCallbackError('content');
  const priv = body.cardPrivateData;
  if (!isRecord(priv)) throw new CardCallbackError('content.cardPrivateData');
  const ids = priv.actionIds ?? [];
  if (!Array.isArray(ids) || ids.some((id) => typeof id !== 'string')) {
    throw new CardCallbackError('content.cardPrivateData.actionIds');
  }
  const params = priv.params ?? {};
  if (!isRecord(params)) throw new CardCallbackError('content.cardPrivateData.params');
  return { outTrackId, userId, actionIds: ids as string[], params };
}

/** The action a callback asks for: `stop` (by action id, or `params.action`), else undefined. */
export function callbackAction(callback: CardCallback): 'stop' | undefined {
  if (callback.actionIds.includes(STOP_ACTION) || callback.params.action === STOP_ACTION) {
    return 'stop';
  }
  return undefined;
}

/** Handles one card callback event before `context.deadline`. */
export async function handleCardCallback(
  rt: PipelineRuntime,
  event: MessageEvent,
  context: HandleContext,
): Promise<HandleOutcome> {
  const log = rt.logger.child({ account: event.accountId, messageId: event.messageId });
  let callback: CardCallback;
  try {
    callback = parseCardCallback(event.data);
  } catch (err) {
    if (!(err instanceof CardCallbackError)) throw err;
    log.warn('card.callback_malformed', {
      field: err.field,
      size: Buffer.byteLength(event.data),
    });
    return { status: 'dropped', reason: 'card_callback_malformed' };
  }
  const { outTrackId, userId } = callback;
  if (callbackAction(callback) !== 'stop') {
    log.warn('card.callback_unknown_action', { outTrackId, actionIds: callback.actionIds });
    return { status: 'dropped', reason: 'card_action_unknown' };
  }
  const account = rt.config.accounts.find((a) => a.accountId === event.accountId);
  if (!account) {
    log.error('card.callback_drop', { reason: 'unknown_account' });
    return { status: 'dropped', reason: 'unknown_account' };
  }
  const store = storeWithDeadline(
    rt.store,
    AbortSignal.timeout(Math.max(1, context.deadline - rt.now())),
  );
  const key = keys.openCard(account.accountId, outTrackId);
  const card = openCardOf(await store.get(key.pk, key.sk));
  if (!card) {
    log.info('card.stop_ignored', { outTrackId, userId, reason: 'the card is closed or unknown' });
    return { status: 'handled', reason: 'card_closed' };
  }
  // The same policy as a message from the clicker in the card's conversation (§2–§4); a click
  // is an explicit address to the bot, so the group mention gate counts as passed.
  const access = await checkAccess(
    store,
    {
      conversationType: card.conversationType,
      conversationId: card.conversationId,
      isInAtList: true,
      text: '',
      sender: { id: userId },
    },
    account,
  );
  if (access.outcome !== 'admit') {
    log.warn('card.stop_refused', {
      outTrackId,
      userId,
      reason: access.outcome === 'drop' ? access.reason : 'pairing_required',
    });
    return { status: 'dropped', reason: 'card_stop_not_allowed' };
  }
  const written = await store.update(
    key.pk,
    key.sk,
    {
      stop: STOP_REQUESTED,
      stoppedBy: userId,
      stopCallbackId: event.messageId,
      stopRequestedAt: rt.now(),
    },
    cond.equals('stop', STOP_NONE),
  );
  if (!written.ok) {
    if (!written.current) {
      log.info('card.stop_ignored', { outTrackId, userId, reason: 'the card closed meanwhile' });
      return { status: 'handled', reason: 'card_closed' };
    }
    log.info('card.stop_duplicate', {
      outTrackId,
      redelivery: written.current.stopCallbackId === event.messageId,
    });
    return { status: 'duplicate', reason: 'card_stop_recorded' };
  }
  let local = false;
  try {
    local = stopLocalTurn(rt, account.accountId, outTrackId, userId);
  } catch (err) {
    log.warn('card.local_stop_failed', { error: errorSummary(err) });
  }
  log.info('card.stop_requested', { outTrackId, userId, msgId: card.msgId, local });
  return { status: 'handled', reason: 'card_stopped' };
}

function parseObject(text: string, field: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new CardCallbackError(field);
  }
  if (!isRecord(value)) throw new CardCallbackError(field);
  return value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
