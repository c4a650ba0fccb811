/**
 * Injecting inbound traffic: a robot message (CALLBACK on TOPIC_ROBOT) or an EVENT. Registers
 * what the message makes exist (session, media, users, group membership) and hands the push to
 * the dispatcher.
 */
import { z } from 'zod';
import { TOPIC_ROBOT } from '../dingtalk/payload.js';
import type { SimContext } from './context.js';
import { registerDownloads } from './downloads.js';
import { randomHex } from './ids.js';
import { buildInbound, type InjectMessageRequest, parseInjectMessage } from './inbound-builder.js';
import type { InboundState } from './ledger.js';
import type { SimApp } from './options.js';
import { findQuoteTarget, type QuoteTarget } from './quote-builder.js';
import { injectRaw, isRawInjection } from './raw-inject.js';
import { type Parsed, parseWith } from './validation.js';

/** The answer to a message injection. */
export interface InjectedMessage {
  messageId: string;
  msgId: string;
  conversationId: string;
  sessionWebhook: string;
  /** State right after injection: delivered, queued (no connection) or dropped. */
  state: InboundState;
}

/** The answer to an event injection. */
export interface InjectedEvent {
  messageId: string;
  eventId: string;
  state: InboundState;
}

function resolveAccount(ctx: SimContext, account: string | undefined): Parsed<SimApp> {
  const app = account === undefined ? ctx.options.apps[0] : ctx.findApp(account);
  if (app) return { ok: true, value: app };
  const known = ctx.options.apps.map((a) => a.accountId).join(', ');
  return {
    ok: false,
    error: `invalid message injection: \`account\`: unknown account "${account}" (known: ${known})`,
  };
}

/**
 * Validates and injects one robot message (`POST /__sim/messages`): built from a description,
 * or, with `raw`, a captured payload replayed exactly as given (raw-inject.ts).
 */
export function injectMessage(ctx: SimContext, body: unknown): Parsed<InjectedMessage> {
  if (isRawInjection(body)) return injectRaw(ctx, body, (account) => resolveAccount(ctx, account));
  const parsed = parseInjectMessage(body);
  if (!parsed.ok) return parsed;
  const req = parsed.value;
  const resolved = resolveAccount(ctx, req.account);
  if (!resolved.ok) return resolved;
  const app = resolved.value;
  const quoted = resolveQuote(ctx, req);
  if (!quoted.ok) return quoted;
  const now = ctx.options.clock.now();
  const built = buildInbound(
    req,
    app,
    ctx.baseUrl(),
    now,
    ctx.options.sessionWebhookTtlMs,
    quoted.value,
  );
  const { payload } = built;
  for (const staffId of built.staffIds) ctx.directory.addUser(staffId);
  for (const file of built.files) ctx.directory.addFile(file);
  // Codes the request names itself stay unknown (an expired code, say) unless `downloads` gives
  // their bytes; a quoted message's codes were registered when it was injected.
  registerDownloads(ctx.directory, app, req.downloads);
  if (req.conversationType === '2') ctx.directory.addGroupMember(payload.conversationId, app);
  ctx.directory.addSession({
    token: built.sessionToken,
    app,
    conversationId: payload.conversationId,
    conversationType: req.conversationType,
    senderStaffId: req.sender.staffId,
    expiresAt: payload.sessionWebhookExpiredTime ?? now + ctx.options.sessionWebhookTtlMs,
  });
  const messageId = ctx.dispatcher.nextMessageId();
  const record = {
    messageId,
    msgId: payload.msgId,
    type: 'CALLBACK' as const,
    topic: TOPIC_ROBOT,
    account: app.accountId,
    conversationId: payload.conversationId,
    conversationType: req.conversationType,
    msgtype: req.msgtype,
    injectedAt: Date.now(),
    state: 'queued' as InboundState,
    deliveries: [],
    payload,
  };
  const data = JSON.stringify(payload);
  ctx.dispatcher.submit({ messageId, type: 'CALLBACK', topic: TOPIC_ROBOT, app, data, record });
  return {
    ok: true,
    value: {
      messageId,
      msgId: payload.msgId,
      conversationId: payload.conversationId,
      sessionWebhook: payload.sessionWebhook ?? '',
      state: record.state,
    },
  };
}

/** The message a `quote` option points at; an unknown id is a clear 400. */
function resolveQuote(ctx: SimContext, req: InjectMessageRequest): Parsed<QuoteTarget | undefined> {
  if (!req.quote) return { ok: true, value: undefined };
  const id = req.quote.msgId ?? req.quote.outTrackId ?? '';
  const card = req.quote.outTrackId ? ctx.cards.get(req.quote.outTrackId) : undefined;
  const target = findQuoteTarget(id, {
    inbound: req.quote.msgId ? ctx.ledger.inbound : [],
    outbox: req.quote.msgId ? ctx.ledger.outbox : [],
    ...(card ? { card } : {}),
  });
  if (target) return { ok: true, value: target };
  const what = req.quote.msgId ? `msgId "${id}" (injected or sent)` : `card outTrackId "${id}"`;
  return { ok: false, error: `invalid message injection: \`quote\`: no message with ${what}` };
}

const InjectEventSchema = z.strictObject({
  account: z.string().min(1).optional(),
  eventType: z.string().min(1),
  data: z.record(z.string(), z.unknown()).default({}),
  eventId: z.string().min(1).optional(),
});

/** An event injection: `{ account?, eventType, data?, eventId? }`. */
export type InjectEventInput = z.input<typeof InjectEventSchema>;

/** Validates and injects one EVENT push (`POST /__sim/events`), topic `*` as in PEDIA. */
export function injectEvent(ctx: SimContext, body: unknown): Parsed<InjectedEvent> {
  const parsed = parseWith(InjectEventSchema, body, 'event injection');
  if (!parsed.ok) return parsed;
  const req = parsed.value;
  const resolved = resolveAccount(ctx, req.account);
  if (!resolved.ok) return resolved;
  const app = resolved.value;
  const messageId = ctx.dispatcher.nextMessageId();
  const eventId = req.eventId ?? randomHex(32);
  const eventHeaders = {
    eventBornTime: String(ctx.options.clock.now()),
    eventCorpId: app.corpId,
    eventId,
    eventType: req.eventType,
    eventUnifiedAppId: app.appId,
  };
  const record = {
    messageId,
    type: 'EVENT' as const,
    topic: '*',
    account: app.accountId,
    eventType: req.eventType,
    injectedAt: Date.now(),
    state: 'queued' as InboundState,
    deliveries: [],
    payload: req.data,
  };
  const data = JSON.stringify(req.data);
  ctx.dispatcher.submit({ messageId, type: 'EVENT', topic: '*', app, data, eventHeaders, record });
  return { ok: true, value: { messageId, eventId, state: record.state } };
}
