/**
 * Proactive sends (channel-semantics.md §8) for `dingtalk-channel send`, `pairing approve
 * --notify` and the send function: the text is formatted like a reply (chunks, markdown) and
 * sent through the robot OpenAPI, the only route that needs no inbound message; attachments
 * follow the text as `sampleImageMsg` / `sampleFile` (lib/pipeline/reply.ts `attachmentPart`).
 *
 * Unlike a reply, a proactive send is all or nothing for its attachments: each one is fetched
 * and uploaded before anything is sent, and one that cannot be sent fails the whole request
 * (`attachment_failed`, naming it and why), so the caller can fix it and send again.
 */
import type { ReplyAttachment } from '../agent/attachments.js';
import type { AccountConfig } from '../config/index.js';
import type { DingTalkApi, OpenApiMessage } from '../dingtalk/api.js';
import { formatReply } from '../dingtalk/reply-format.js';
import type { Target } from '../dingtalk/targets.js';
import { ChannelError } from '../errors.js';
import { createLogger, type Logger } from '../log.js';
import { prepareAttachments } from './attachments.js';
import { replyParts } from './reply.js';

/** What a proactive send carries: a text (may be empty with attachments) and attachments. */
export interface OutboundContent {
  text: string;
  attachments?: readonly ReplyAttachment[];
}

/** Bound of the uploads of one proactive send. */
const UPLOADS_TIMEOUT_MS = 120_000;

/** Sends `content` to `target`; returns the number of messages sent. */
export async function sendToTarget(
  api: DingTalkApi,
  account: AccountConfig,
  target: Target,
  content: string | OutboundContent,
  signal?: AbortSignal,
  logger: Logger = createLogger(),
): Promise<number> {
  const { text, attachments = [] } = typeof content === 'string' ? { text: content } : content;
  const chunks = formatReply(text, { limit: account.textChunkLimit, mode: account.chunkMode });
  if (chunks.length === 0 && attachments.length === 0)
    throw new ChannelError('empty_message', 'Nothing to send: the text is empty.');
  const prepared = await prepareAttachments(attachments, {
    api,
    signal: signal
      ? AbortSignal.any([signal, AbortSignal.timeout(UPLOADS_TIMEOUT_MS)])
      : AbortSignal.timeout(UPLOADS_TIMEOUT_MS),
    logger,
  });
  if (prepared.notes.length > 0) {
    const reasons = prepared.notes.map((n) => n.replace(/^\((.*)\)$/, '$1')).join('; ');
    throw new ChannelError('attachment_failed', `Nothing was sent: ${reasons}.`);
  }
  const parts = replyParts(chunks, prepared.ready);
  for (const part of parts) await sendOne(api, target, part.openapi, signal);
  return parts.length;
}

async function sendOne(
  api: DingTalkApi,
  target: Target,
  message: OpenApiMessage,
  signal: AbortSignal | undefined,
): Promise<void> {
  if (target.kind === 'group') {
    await api.sendToGroup(target.openConversationId, message, signal);
    return;
  }
  const { invalidUserIds } = await api.sendToUsers([target.userId], message, signal);
  if (invalidUserIds.length > 0) {
    throw new ChannelError(
      'unknown_user',
      `DingTalk does not know user ${target.userId} (invalidStaffIdList)`,
    );
  }
}
