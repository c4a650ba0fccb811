/**
 * "Clicking" a button on a simulated AI card (`POST /__sim/cards/<outTrackId>/click`): the fake
 * pushes the CALLBACK frame DingTalk sends on the card topic (dingtalk-protocol.md §2.4), with
 * the real `data` shape (type actionCallback, corpId, userId, outTrackId, space, and `content`
 * as a JSON string holding `cardPrivateData.actionIds` and `params`). The dispatcher delivers it
 * like any callback: to one connection subscribed to `/v1.0/card/instances/callback`, queued
 * while none is, and redelivered with the same messageId when unacked (§2.5, §8.1).
 */
import { z } from 'zod';
import { TOPIC_CARD } from '../dingtalk/payload.js';
import type { SimContext } from './context.js';
import type { InboundState } from './ledger.js';
import { type Parsed, parseWith } from './validation.js';

const ClickSchema = z
  .strictObject({
    /** The clicker's userId (staffId; `userIdType` 1). */
    userId: z.string().min(1).optional(),
    /** Same as `userId` (the name the message injection uses). */
    staffId: z.string().min(1).optional(),
    /** The button's action id (`cardPrivateData.actionIds[0]`). */
    action: z.string().min(1),
    /** The template's button params (`cardPrivateData.params`). */
    params: z.record(z.string(), z.unknown()).default({}),
  })
  .refine((b) => b.userId !== undefined || b.staffId !== undefined, {
    message: 'one of `userId` or `staffId` (the clicker) is required',
  });

/** A click: `{ userId | staffId, action, params? }`. */
export type CardClickInput = z.input<typeof ClickSchema>;

/** The answer to a click. */
export interface CardClicked {
  messageId: string;
  outTrackId: string;
  state: InboundState;
}

/** What went wrong with a click: a bad body (400) or no such card (404). */
export type ClickResult = Parsed<CardClicked> & { notFound?: boolean };

/** Validates a click and pushes its callback frame. */
export function clickCard(ctx: SimContext, outTrackId: string, body: unknown): ClickResult {
  const parsed = parseWith(ClickSchema, body, 'card click');
  if (!parsed.ok) return parsed;
  const card = ctx.cards.get(outTrackId);
  const app = card ? ctx.findApp(card.account) : undefined;
  if (!card || !app) {
    return { ok: false, notFound: true, error: `no card with outTrackId "${outTrackId}"` };
  }
  const { action, params } = parsed.value;
  const userId = (parsed.value.userId ?? parsed.value.staffId)!;
  const payload = {
    type: 'actionCallback',
    corpId: app.corpId,
    userId,
    userIdType: 1,
    outTrackId,
    spaceType: card.space.type === 'IM_GROUP' ? 'IM_GROUP' : 'IM_ROBOT',
    spaceId: card.space.id,
    extension: '{}',
    content: JSON.stringify({ cardPrivateData: { actionIds: [action], params } }),
  };
  const messageId = ctx.dispatcher.nextMessageId();
  const record = {
    messageId,
    type: 'CALLBACK' as const,
    topic: TOPIC_CARD,
    account: app.accountId,
    conversationId: card.space.id,
    injectedAt: Date.now(),
    state: 'queued' as InboundState,
    deliveries: [],
    payload,
  };
  ctx.cards.recordCallback(outTrackId, { messageId, userId, action, at: ctx.options.clock.now() });
  const data = JSON.stringify(payload);
  ctx.dispatcher.submit({ messageId, type: 'CALLBACK', topic: TOPIC_CARD, app, data, record });
  return { ok: true, value: { messageId, outTrackId, state: record.state } };
}
