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
 * Failure classes raised here: retryable (QPS and flow control past their retries, 5xx, no
 * answer) and final (`reply_no_route`, `recipient_rejected`, a 4xx DingTalk refusal).
 */
import type { DingTalkApi, OpenApiMessage } from '../dingtalk/api.js';
import type { InboundMessage } from '../dingtalk/inbound-types.js';
import { type FormattedChunk, markdownReplyBody } from '../dingtalk/reply-format.js';
import { ChannelError, DingTalkApiError, DingTalkNetworkError } from '../errors.js';
import type { Logger } from '../log.js';

/** Webhook URLs the API client refuses to post to (lib/dingtalk/api.ts): the OpenAPI answers instead. */
const UNUSABLE_WEBHOOK = new Set(['webhook_host_not_allowed', 'webhook_url_invalid']);

/** The webhook is not used in its last minute: a slow send would land after it expired. */
export const WEBHOOK_EXPIRY_MARGIN_MS = 60_000;

export interface DeliveryOptions {
  api: DingTalkApi;
  now: () => number;
  logger: Logger;
  signal?: AbortSignal;
  /** The first chunk to send (an earlier attempt sent or attempted the ones before). */
  from: number;
  /** No chunk is started after this (epoch ms): the rest is left, unattempted, for a retry. */
  startBy?: number;
  /** Records chunk `index` as attempted; runs before its request goes out. */
  beforeSend: (index: number) => Promise<void>;
  /** DingTalk answered for chunk `index`: it `landed`, or it certainly did not (no call when unknown). */
  settled: (index: number, landed: boolean) => void;
}

export type DeliveryChannel = 'webhook' | 'openapi';

/** Sends `chunks[from..]` in order; returns the channel each chunk went through. */
export async function deliverReply(
  message: InboundMessage,
  chunks: FormattedChunk[],
  options: DeliveryOptions,
): Promise<DeliveryChannel[]> {
  const used: DeliveryChannel[] = [];
  let webhookUsable = webhookValid(message, options.now());
  for (let i = options.from; i < chunks.length; i++) {
    const chunk = chunks[i]!;
    if (options.startBy !== undefined && options.now() > options.startBy) {
      throw new ChannelError(
        'reply_deadline',
        `no time left to send chunk ${i + 1} of ${chunks.length}; a retry sends it`,
        { retryable: true },
      );
    }
    await options.beforeSend(i);
    let channel: DeliveryChannel = 'openapi';
    try {
      if (webhookUsable && message.sessionWebhook) {
        try {
          await options.api.sendBySessionWebhook(
            message.sessionWebhook,
            markdownReplyBody(chunk),
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
      if (channel === 'openapi') await sendThroughOpenApi(message, chunk, options);
    } catch (err) {
      if (!mayHaveLanded(err)) {
        options.settled(i, false);
        throw err;
      }
      // Left as attempted and unconfirmed: neither this attempt nor a retry sends it again.
      options.logger.warn('reply.ambiguous', { msgId: message.msgId, chunk: i, of: chunks.length });
      throw new ChannelError(
        'reply_ambiguous',
        `chunk ${i + 1} of ${chunks.length} got no answer; it may have been delivered, so it is not sent again`,
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
  const { invalidUserIds } = await options.api.sendToUsers([userId], body, options.signal);
  if (invalidUserIds.includes(userId)) {
    throw new ChannelError(
      'recipient_rejected',
      `DingTalk refused recipient ${userId} (invalidStaffIdList): the bot cannot send to them`,
    );
  }
}
