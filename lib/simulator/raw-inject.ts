/**
 * Raw injection (`POST /__sim/messages` with `raw`): replays a captured robot payload exactly as
 * given, so real payloads can be tested as DingTalk sent them (issue 16). Nothing in it is added
 * or rewritten: a `content` given as a JSON string stays a string, explicit `null`s stay, an
 * unknown type without `content` is accepted, and a payload missing required fields is pushed
 * as it is (the channel's parser is what is being tested). Only the transport envelope is the
 * simulator's (frame headers, messageId). Around the payload, the simulator registers what it
 * shows to exist: download codes it did not mint (so `messageFiles/download` answers them),
 * the sender and mentioned users, the group, and the session webhook when it points at the
 * simulator itself (any other webhook is left as it is and not served).
 */
import { z } from 'zod';
import { TOPIC_ROBOT } from '../dingtalk/payload.js';
import type { SimContext } from './context.js';
import { DownloadsSchema, registerDownloads, registerForeignCodes } from './downloads.js';
import { isRecord } from './http-io.js';
import type { InboundState } from './ledger.js';
import type { SimApp } from './options.js';
import { type Parsed, parseWith } from './validation.js';

const RawInjectSchema = z.strictObject({
  account: z.string().min(1).optional(),
  /** The robot payload (`data`): an object, or its JSON text pushed byte for byte. */
  raw: z.union([z.record(z.string(), z.unknown()), z.string().min(1)]),
  /** Bytes behind download codes of the payload (download code → `{contentType, text|base64}`). */
  downloads: DownloadsSchema.optional(),
});

/** A raw injection as callers write it. */
export type RawInjectInput = z.input<typeof RawInjectSchema>;

/** True when a message injection body asks for raw mode. */
export function isRawInjection(body: unknown): boolean {
  return isRecord(body) && Object.hasOwn(body, 'raw');
}

/** What a raw injection answers (fields the payload lacks are empty strings). */
export interface InjectedRaw {
  messageId: string;
  msgId: string;
  conversationId: string;
  sessionWebhook: string;
  state: InboundState;
}

/** Validates and pushes one raw robot payload. */
export function injectRaw(
  ctx: SimContext,
  body: unknown,
  resolveApp: (account: string | undefined) => Parsed<SimApp>,
): Parsed<InjectedRaw> {
  const parsed = parseWith(RawInjectSchema, body, 'raw message injection');
  if (!parsed.ok) return parsed;
  const req = parsed.value;
  const resolved = resolveApp(req.account);
  if (!resolved.ok) return resolved;
  const app = resolved.value;
  const decoded = decodeRaw(req.raw);
  if (!decoded.ok) return decoded;
  const { payload, data } = decoded.value;
  registerDownloads(ctx.directory, app, req.downloads);
  registerForeignCodes(ctx.directory, app, payload);
  const text = (key: string) => (typeof payload[key] === 'string' ? (payload[key] as string) : '');
  const conversationType = wireConversationType(payload.conversationType);
  registerParties(ctx, app, payload, conversationType);
  const sessionWebhook = text('sessionWebhook');
  routeSession(ctx, app, payload, sessionWebhook, conversationType);
  const messageId = ctx.dispatcher.nextMessageId();
  const record = {
    messageId,
    ...(text('msgId') ? { msgId: text('msgId') } : {}),
    type: 'CALLBACK' as const,
    topic: TOPIC_ROBOT,
    account: app.accountId,
    ...(text('conversationId') ? { conversationId: text('conversationId') } : {}),
    ...(conversationType ? { conversationType } : {}),
    ...(text('msgtype') ? { msgtype: text('msgtype') } : {}),
    raw: true,
    injectedAt: Date.now(),
    state: 'queued' as InboundState,
    deliveries: [],
    payload,
  };
  ctx.dispatcher.submit({ messageId, type: 'CALLBACK', topic: TOPIC_ROBOT, app, data, record });
  return {
    ok: true,
    value: {
      messageId,
      msgId: text('msgId'),
      conversationId: text('conversationId'),
      sessionWebhook,
      state: record.state,
    },
  };
}

function decodeRaw(
  raw: string | Record<string, unknown>,
): Parsed<{ payload: Record<string, unknown>; data: string }> {
  if (typeof raw !== 'string')
    return { ok: true, value: { payload: raw, data: JSON.stringify(raw) } };
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return { ok: false, error: 'invalid raw message injection: `raw` is not valid JSON text' };
  }
  if (!isRecord(value)) {
    return { ok: false, error: 'invalid raw message injection: `raw` must encode a JSON object' };
  }
  return { ok: true, value: { payload: value, data: raw } };
}

function wireConversationType(value: unknown): '1' | '2' | undefined {
  if (value === '1' || value === 1) return '1';
  if (value === '2' || value === 2) return '2';
  return undefined;
}

/** The sender, mentioned users and (for a group) the bot's membership become known. */
function registerParties(
  ctx: SimContext,
  app: SimApp,
  payload: Record<string, unknown>,
  conversationType: '1' | '2' | undefined,
): void {
  if (typeof payload.senderStaffId === 'string' && payload.senderStaffId !== '') {
    ctx.directory.addUser(payload.senderStaffId);
  }
  if (Array.isArray(payload.atUsers)) {
    for (const user of payload.atUsers) {
      if (isRecord(user) && typeof user.staffId === 'string' && user.staffId !== '')
        ctx.directory.addUser(user.staffId);
    }
  }
  if (conversationType === '2' && typeof payload.conversationId === 'string') {
    ctx.directory.addGroupMember(payload.conversationId, app);
  }
}

/** A sessionWebhook on the simulator's own sendBySession route is served; others are left alone. */
function routeSession(
  ctx: SimContext,
  app: SimApp,
  payload: Record<string, unknown>,
  webhook: string,
  conversationType: '1' | '2' | undefined,
): void {
  let url: URL;
  try {
    url = new URL(webhook);
  } catch {
    return;
  }
  const token = url.searchParams.get('session');
  const ours = url.origin === new URL(ctx.baseUrl()).origin;
  if (!ours || url.pathname !== '/robot/sendBySession' || !token) return;
  if (ctx.directory.liveSession(token)) return;
  const expires = payload.sessionWebhookExpiredTime;
  ctx.directory.addSession({
    token,
    app,
    conversationId: typeof payload.conversationId === 'string' ? payload.conversationId : '',
    conversationType: conversationType ?? '1',
    senderStaffId: typeof payload.senderStaffId === 'string' ? payload.senderStaffId : '',
    expiresAt:
      typeof expires === 'number'
        ? expires
        : ctx.options.clock.now() + ctx.options.sessionWebhookTtlMs,
  });
}
