/**
 * Reply delivery (channel-semantics.md §7, dingtalk-protocol.md §5, §6.2):
 * - the message's session webhook while `now < sessionWebhookExpiredTime - margin`;
 * - after that, or when the webhook answers with an error (300001 and any other), the robot
 *   OpenAPI: `oToMessages/batchSend` for a DM, `groupMessages/send` for a group. Every chunk
 *   fits both routes' size rules (lib/dingtalk/reply-format.ts).
 *
 * A send that may have happened is never repeated. Before a chunk's request goes out it is
 * recorded as attempted (`beforeSend`); when no answer comes (a timeout, a reset after the
 * request was written) the chunk may have landed, so it is not sent again, here or by a retry:
 * the attempt fails as retryable with `reply_ambiguous` and the retry goes on from the next
 * chunk. Only an answer that says "not sent" (an error code, or a connection that never opened)
 * lets a chunk be sent again.
 *
 * Attachments (issue 16) are sends of their own after the text chunks, counted in the same
 * progress (index `chunks.length + k` is attachment k), so the same rules hold for them: each is
 * attempted before it goes out and never sent twice. An image goes through the webhook as a
 * markdown image of its media id (§5 "Markdown subset": images may be a mediaId, PEDIA `faq.md`
 * L30-43), else as `sampleImageMsg` (`photoURL` takes a media id, §6.2);
 * a file has no webhook message type (§5 lists text, markdown, actionCard, feedCard, link), so it
 * always goes through the OpenAPI as `sampleFile` (§6.2).
 *
 * Failure classes raised here: retryable (QPS and flow control past their retries, 5xx, no
 * answer) and final (`reply_no_route`, `recipient_rejected`, a 4xx DingTalk refusal).
 */
import type { DingTalkApi, OpenApiMessage, WebhookMessage } from '../dingtalk/api.js';
import type { InboundMessage } from '../dingtalk/inbound-types.js';
import { type FormattedChunk, markdownReplyBody } from '../dingtalk/reply-format.js';
import { ChannelError, DingTalkApiError, DingTalkNetworkError } from '../errors.js';
import type { Logger } from '../log.js';
import type { StoredAttachment } from './attachments.js';

/** Webhook URLs the API client refuses to post to (lib/dingtalk/api.ts): the OpenAPI answers instead. */
const UNUSABLE_WEBHOOK = new Set(['webhook_host_not_allowed', 'webhook_url_invalid']);

/** The webhook is not used in its last minute: a slow send would land after it expired. */
export const WEBHOOK_EXPIRY_MARGIN_MS = 60_000;

export interface DeliveryOptions {
  api: DingTalkApi;
  now: () => number;
  logger: Logger;
  signal?: AbortSignal;
  /** The first part to send (an earlier attempt sent or attempted the ones before). */
  from: number;
  /** Uploaded attachments, sent after the chunks as parts `chunks.length + k`. */
  attachments?: readonly StoredAttachment[];
  /** No chunk is started after this (epoch ms): the rest is left, unattempted, for a retry. */
  startBy?: number;
  /** Records chunk `index` as attempted; runs before its request goes out. */
  beforeSend: (index: number) => Promise<void>;
  /** DingTalk answered for chunk `index`: it `landed`, or it certainly did not (no call when unknown). */
  settled: (index: number, landed: boolean) => void;
}

export type DeliveryChannel = 'webhook' | 'openapi';

/** One send of a reply: its webhook body (none for a file) and its OpenAPI message. */
export interface ReplyPart {
  webhook?: WebhookMessage;
  openapi: OpenApiMessage;
}

/** The parts of a reply in order: its chunks, then its attachments. */
export function replyParts(
  chunks: readonly FormattedChunk[],
  attachments: readonly StoredAttachment[] = [],
): ReplyPart[] {
  const text = chunks.map((chunk) => ({
    webhook: markdownReplyBody(chunk),
    openapi: { msgKey: 'sampleMarkdown', msgParam: { title: chunk.title, text: chunk.text } },
  }));
  return [...text, ...attachments.map(attachmentPart)];
}

/** §5 / §6.2: an image as a markdown image or `sampleImageMsg`, a file as `sampleFile` only. */
export function attachmentPart(attachment: StoredAttachment): ReplyPart {
  if (attachment.type === 'file') {
    return {
      openapi: {
        msgKey: 'sampleFile',
        msgParam: {
          mediaId: attachment.mediaId,
          fileName: attachment.name,
          fileType: attachment.fileType,
        },
      },
    };
  }
  const alt = attachment.name.replace(/[[\]\\]/g, '');
  return {
    webhook: {
      msgtype: 'markdown',
      markdown: {
        title: [...alt].slice(0, 20).join('') || 'image',
        text: `![${alt}](${attachment.mediaId})`,
      },
    },
    openapi: { msgKey: 'sampleImageMsg', msgParam: { photoURL: attachment.mediaId } },
  };
}

/** Sends `chunks[from..]`, then the attachments, in order; returns the channel of each part. */
export async function deliverReply(
  message: InboundMessage,
  chunks: FormattedChunk[],
  options: DeliveryOptions,
): Promise<DeliveryChannel[]> {
  const used: DeliveryChannel[] = [];
  const parts = replyParts(chunks, options.attachments);
  let webhookUsable = webhookValid(message, options.now());
  for (let i = options.from; i < parts.length; i++) {
    const part = parts[i]!;
    if (options.startBy !== undefined && options.now() > options.startBy) {
      throw new ChannelError(
        'reply_deadline',
        `no time left to send part ${i + 1} of ${parts.length}; a retry sends it`,
        { retryable: true },
      );
    }
    await options.beforeSend(i);
    let channel: DeliveryChannel = 'openapi';
    try {
      if (webhookUsable && message.sessionWebhook && part.webhook) {
        try {
          await options.api.sendBySessionWebhook(
            message.sessionWebhook,
            part.webhook,
            options.signal,
          );
          channel = 'webhook';
        } catch (err) {
          // DingTalk answered "no" (300001 expired session, 460101, 5xx, …), or the webhook is not
          // one of DingTalk's hosts and was never posted to: the chunk did not land either way.
          const refused =
            err instanceof DingTalkApiError ||
            (err instanceof ChannelError && UNUSABLE_WEBHOOK.has(err.code));
          if (!refused) throw err;
          webhookUsable = false;
          options.logger.warn('reply.webhook_failed', {
            msgId: message.msgId,
            code: (err as ChannelError).code,
          });
        }
      }
      if (channel === 'openapi') await sendThroughOpenApi(message, part.openapi, options);
    } catch (err) {
      if (!mayHaveLanded(err)) {
        options.settled(i, false);
        throw err;
      }
      // Left as attempted and unconfirmed: neither this attempt nor a retry sends it again.
      options.logger.warn('reply.ambiguous', { msgId: message.msgId, chunk: i, of: parts.length });
      throw new ChannelError(
        'reply_ambiguous',
        `part ${i + 1} of ${parts.length} got no answer; it may have been delivered, so it is not sent again`,
        { cause: err, retryable: true },
      );
    }
    options.settled(i, true);
    used.push(channel);
  }
  return used;
}

function webhookValid(message: InboundMessage, now: number): boolean {
  if (!message.sessionWebhook) return false;
  const expires = message.sessionWebhookExpiredTime;
  return typeof expires !== 'number' || now < expires - WEBHOOK_EXPIRY_MARGIN_MS;
}

/** Connection errors that happen before a request is written: nothing can have landed. */
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
]);

/** False only when the error proves the request never reached DingTalk or was refused. */
function mayHaveLanded(err: unknown): boolean {
  if (!(err instanceof DingTalkNetworkError)) return false; // an answer, or a failure before sending
  for (let cause: unknown = err.cause; cause instanceof Error; cause = cause.cause) {
    const code = Reflect.get(cause, 'code');
    if (typeof code === 'string' && NOT_SENT_CODES.has(code)) return false;
  }
  return true;
}

async function sendThroughOpenApi(
  message: InboundMessage,
  body: OpenApiMessage,
  options: DeliveryOptions,
): Promise<void> {
  if (message.conversationType === 'group') {
    await options.api.sendToGroup(message.conversationId, body, options.signal);
    return;
  }
  const userId = message.sender.staffId;
  if (!userId) {
    throw new ChannelError(
      'reply_no_route',
      'the session webhook is unusable and the sender has no staffId for oToMessages/batchSend',
    );
  }
  const { invalidUserIds } = await options.api.sendToUsers([userId], body, options.signal);
  if (invalidUserIds.includes(userId)) {
    throw new ChannelError(
      'recipient_rejected',
      `DingTalk refused recipient ${userId} (invalidStaffIdList): the bot cannot send to them`,
    );
  }
}
