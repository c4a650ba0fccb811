/**
 * Builds the `data` of a robot CALLBACK (§4) from a control-API injection request:
 * DM vs group fields, `isInAtList` and `atUsers` (including the bot itself), the leading space
 * DingTalk leaves in group text after removing "@Bot", a fresh sessionWebhook, and downloadable
 * media for picture/richText/audio/video/file unless the request brings its own codes.
 */
import { z } from 'zod';
import type { AtUser, RobotMessagePayload } from '../dingtalk/payload.js';
import type { MediaFile } from './directory.js';
import { DownloadsSchema } from './downloads.js';
import {
  dmConversationId,
  groupConversationId,
  lwcpId,
  mintMsgId,
  mintSessionToken,
  randomHex,
} from './ids.js';
import { type MediaKind, mintMedia } from './media.js';
import type { SimApp } from './options.js';
import { legacyQuoteMessage, type QuoteTarget, repliedText } from './quote-builder.js';
import { type Parsed, parseWith } from './validation.js';

const DM_ONLY = new Set(['audio', 'video', 'file']);
const BUILT_IN = new Set(['text', 'richText', 'picture', 'audio', 'video', 'file']);

const AtUserSchema = z.union([
  z.string().min(1),
  z.strictObject({ staffId: z.string().min(1), dingtalkId: z.string().min(1).optional() }),
]);

const InjectMessageSchema = z
  .strictObject({
    account: z.string().min(1).optional(),
    conversationType: z.enum(['1', '2']),
    conversationId: z.string().min(1).optional(),
    conversationTitle: z.string().optional(),
    sender: z.strictObject({
      staffId: z.string().min(1),
      nick: z.string().optional(),
      isAdmin: z.boolean().optional(),
    }),
    msgtype: z.string().min(1).default('text'),
    text: z.string().optional(),
    content: z.record(z.string(), z.unknown()).optional(),
    atBot: z.boolean().optional(),
    atUsers: z.array(AtUserSchema).optional(),
    createAt: z.number().int().nonnegative().optional(),
    /** Extra payload fields (e.g. senderPlatform); a null value removes a built field. */
    extra: z.record(z.string(), z.unknown()).optional(),
    /**
     * Quote an earlier injected or sent message by its msgId (or an AI card by outTrackId):
     * the payload gets `text.isReplyMsg` + `repliedMsg`, and with `legacy` also `quoteMessage`.
     */
    quote: z
      .strictObject({
        msgId: z.string().min(1).optional(),
        outTrackId: z.string().min(1).optional(),
        legacy: z.boolean().optional(),
      })
      .refine((q) => (q.msgId === undefined) !== (q.outTrackId === undefined), {
        message: 'give `msgId` or `outTrackId` (one of them)',
      })
      .optional(),
    /** Bytes behind download codes this message names (download code → `{contentType, text|base64}`). */
    downloads: DownloadsSchema.optional(),
  })
  .superRefine((req, ctx) => {
    if (req.msgtype === 'text' && req.text === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['text'],
        message: 'is required when msgtype is "text"',
      });
    }
    if (req.conversationType === '2' && DM_ONLY.has(req.msgtype)) {
      ctx.addIssue({
        code: 'custom',
        path: ['msgtype'],
        message: `DingTalk delivers ${req.msgtype} messages only in DMs (conversationType "1")`,
      });
    }
    if (!BUILT_IN.has(req.msgtype) && req.content === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['content'],
        message: `is required for msgtype "${req.msgtype}" (passed through as the payload's content)`,
      });
    }
    if (req.quote && req.msgtype !== 'text') {
      ctx.addIssue({
        code: 'custom',
        path: ['quote'],
        message: 'DingTalk delivers quote-replies as text messages (msgtype "text")',
      });
    }
    if (req.msgtype === 'richText' && req.content && !Array.isArray(req.content.richText)) {
      ctx.addIssue({ code: 'custom', path: ['content', 'richText'], message: 'must be an array' });
    }
  });

export type InjectMessageRequest = z.infer<typeof InjectMessageSchema>;
/** A message injection as callers write it (`msgtype` defaults to "text"). */
export type InjectMessageInput = z.input<typeof InjectMessageSchema>;

/** Validates a `POST /__sim/messages` body. */
export function parseInjectMessage(body: unknown): Parsed<InjectMessageRequest> {
  return parseWith(InjectMessageSchema, body, 'message injection');
}

/** Everything one injected message creates. */
export interface BuiltInbound {
  payload: RobotMessagePayload;
  sessionToken: string;
  files: MediaFile[];
  /** staffIds the message shows to exist in the org (sender and @-mentioned users). */
  staffIds: string[];
}

/** Builds the §4 payload; `baseUrl` hosts the sessionWebhook, `now` stamps `createAt`. */
export function buildInbound(
  req: InjectMessageRequest,
  app: SimApp,
  baseUrl: string,
  now: number,
  sessionTtlMs: number,
  quoted?: QuoteTarget,
): BuiltInbound {
  const isGroup = req.conversationType === '2';
  const createAt = req.createAt ?? now;
  const sessionToken = mintSessionToken();
  const files: MediaFile[] = [];
  const atBot = isGroup && req.atBot !== false;
  const atUsers = isGroup ? buildAtUsers(req, app, atBot) : [];
  const conversationId =
    req.conversationId ??
    (isGroup
      ? groupConversationId(`${app.clientId}:${req.conversationTitle ?? 'default'}`)
      : dmConversationId(app.clientId, req.sender.staffId));
  const payload: RobotMessagePayload = {
    conversationId,
    ...(atUsers.length > 0 ? { atUsers } : {}),
    chatbotCorpId: app.corpId,
    chatbotUserId: app.chatbotUserId,
    msgId: mintMsgId(),
    senderNick: req.sender.nick ?? req.sender.staffId,
    isAdmin: req.sender.isAdmin ?? false,
    senderStaffId: req.sender.staffId,
    sessionWebhookExpiredTime: createAt + sessionTtlMs,
    createAt,
    senderCorpId: app.corpId,
    conversationType: req.conversationType,
    senderId: lwcpId(`user:${req.sender.staffId}`),
    ...(isGroup ? { conversationTitle: req.conversationTitle ?? 'Simulator group' } : {}),
    ...(isGroup ? { isInAtList: atBot } : {}),
    sessionWebhook: `${baseUrl}/robot/sendBySession?session=${sessionToken}`,
    ...messageBody(req, app, atBot, files),
    robotCode: app.robotCode,
    msgtype: req.msgtype,
  };
  if (quoted && payload.text) {
    payload.text = repliedText(payload.text.content, quoted, app);
    if (req.quote?.legacy) payload.quoteMessage = legacyQuoteMessage(quoted, app);
  }
  applyExtra(payload, req.extra);
  const staffIds = [req.sender.staffId, ...atUsers.flatMap((u) => (u.staffId ? [u.staffId] : []))];
  return { payload, sessionToken, files, staffIds };
}

function buildAtUsers(req: InjectMessageRequest, app: SimApp, atBot: boolean): AtUser[] {
  const users: AtUser[] = atBot ? [{ dingtalkId: app.chatbotUserId }] : [];
  for (const user of req.atUsers ?? []) {
    const staffId = typeof user === 'string' ? user : user.staffId;
    const dingtalkId = typeof user === 'string' ? undefined : user.dingtalkId;
    users.push({ dingtalkId: dingtalkId ?? lwcpId(`user:${staffId}`), staffId });
  }
  return users;
}

/** The `text` or `content` part of the payload for the request's msgtype (§4.2). */
function messageBody(
  req: InjectMessageRequest,
  app: SimApp,
  atBot: boolean,
  files: MediaFile[],
): Pick<RobotMessagePayload, 'text' | 'content'> {
  const given = req.content ?? {};
  const mint = (kind: MediaKind, fileName?: string) => {
    const file = mintMedia(app, kind, fileName);
    files.push(file);
    return file.code;
  };
  const code = (kind: MediaKind, fileName?: string) =>
    typeof given.downloadCode === 'string' ? given.downloadCode : mint(kind, fileName);
  switch (req.msgtype) {
    case 'text': {
      const text = req.text ?? '';
      // §4.1: group text keeps the space left where "@Bot" was removed.
      return { text: { content: atBot && !text.startsWith(' ') ? ` ${text}` : text } };
    }
    case 'picture':
      return {
        content: {
          ...given,
          downloadCode: code('picture'),
          pictureDownloadCode: pictureCode(given),
        },
      };
    case 'richText':
      return { content: { ...given, richText: richText(req, given, mint) } };
    case 'audio':
      return {
        content: {
          recognition: req.text ?? 'simulated speech',
          ...given,
          downloadCode: code('audio'),
        },
      };
    case 'video':
      return {
        content: { duration: '5', videoType: 'mp4', ...given, downloadCode: code('video') },
      };
    case 'file': {
      const fileName = typeof given.fileName === 'string' ? given.fileName : 'file.txt';
      return {
        content: {
          spaceId: '22345573',
          fileId: String(100_000 + Math.floor(Math.random() * 900_000)),
          ...given,
          fileName,
          downloadCode: code('file', fileName),
        },
      };
    }
    default:
      return { content: given };
  }
}

function pictureCode(given: Record<string, unknown>): string {
  return typeof given.pictureDownloadCode === 'string'
    ? given.pictureDownloadCode
    : `pWjA${randomHex(16)}`;
}

function richText(
  req: InjectMessageRequest,
  given: Record<string, unknown>,
  mint: (kind: MediaKind) => string,
): unknown[] {
  if (!Array.isArray(given.richText)) {
    return [
      { text: req.text ?? 'simulated rich text' },
      { type: 'picture', downloadCode: mint('picture'), pictureDownloadCode: pictureCode({}) },
    ];
  }
  return given.richText.map((element: unknown) => {
    const el = element as Record<string, unknown> | null;
    if (el?.type !== 'picture' || typeof el.downloadCode === 'string') return element;
    return { ...el, downloadCode: mint('picture'), pictureDownloadCode: pictureCode(el) };
  });
}

function applyExtra(
  payload: RobotMessagePayload,
  extra: Record<string, unknown> | undefined,
): void {
  for (const [key, value] of Object.entries(extra ?? {})) {
    if (value === null) delete payload[key];
    else payload[key] = value;
  }
}
