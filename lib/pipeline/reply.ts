/**
 * Reply delivery (channel-semantics.md §7, dingtalk-protocol.md §5, §6.2):
 * - the message's session webhook while `now < sessionWebhookExpiredTime - margin`;
 * - after that, or when the webhook answers errcode 300001 (or any other DingTalk error), the
 *   robot OpenAPI: `oToMessages/batchSend` for a DM, `groupMessages/send` for a group;
 * - a network failure (no answer: the post may or may not have landed) is not re-sent here; it
 *   fails the attempt and the retry resumes from the stored progress (see dedup.ts).
 * Chunks go out one by one, in order; `onSent(n)` records progress so a retry never sends a
 * chunk twice.
 */
import type { DingTalkApi, OpenApiMessage } from '../dingtalk/api.js';
import type { InboundMessage } from '../dingtalk/inbound-types.js';
import { type FormattedChunk, markdownReplyBody } from '../dingtalk/reply-format.js';
import { ChannelError, DingTalkApiError } from '../errors.js';
import type { Logger } from '../log.js';

/** The webhook is not used in its last minute: a slow send would land after it expired. */
export const WEBHOOK_EXPIRY_MARGIN_MS = 60_000;

export interface DeliveryOptions {
  api: DingTalkApi;
  now: () => number;
  logger: Logger;
  signal?: AbortSignal;
  /** Chunks already delivered by an earlier attempt. */
  alreadySent: number;
  onSent: (sentChunks: number) => Promise<void>;
}

export type DeliveryChannel = 'webhook' | 'openapi';

/** Sends `chunks[alreadySent..]` in order; returns the channel each chunk went through. */
export async function deliverReply(
  message: InboundMessage,
  chunks: FormattedChunk[],
  options: DeliveryOptions,
): Promise<DeliveryChannel[]> {
  const used: DeliveryChannel[] = [];
  let webhookUsable = webhookValid(message, options.now());
  for (let i = options.alreadySent; i < chunks.length; i++) {
    const chunk = chunks[i]!;
    let channel: DeliveryChannel = 'openapi';
    if (webhookUsable && message.sessionWebhook) {
      try {
        await options.api.sendBySessionWebhook(
          message.sessionWebhook,
          markdownReplyBody(chunk),
          options.signal,
        );
        channel = 'webhook';
      } catch (err) {
        if (!(err instanceof DingTalkApiError)) throw err;
        // DingTalk answered "no" (300001 expired session, 5xx, …): the chunk did not land.
        webhookUsable = false;
        options.logger.warn('reply.webhook_failed', { msgId: message.msgId, code: err.code });
      }
    }
    if (channel === 'openapi') await sendThroughOpenApi(message, chunk, options);
    used.push(channel);
    await options.onSent(i + 1);
  }
  return used;
}

function webhookValid(message: InboundMessage, now: number): boolean {
  if (!message.sessionWebhook) return false;
  const expires = message.sessionWebhookExpiredTime;
  return typeof expires !== 'number' || now < expires - WEBHOOK_EXPIRY_MARGIN_MS;
}

async function sendThroughOpenApi(
  message: InboundMessage,
  chunk: FormattedChunk,
  options: DeliveryOptions,
): Promise<void> {
  const body: OpenApiMessage = {
    msgKey: 'sampleMarkdown',
    msgParam: { title: chunk.title, text: chunk.text },
  };
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
  await options.api.sendToUsers([userId], body, options.signal);
}
