/**
 * Proactive sends (channel-semantics.md §8) for `dingtalk-channel send`, `pairing approve
 * --notify` and the send function: the text is formatted like a reply (chunks, markdown) and
 * sent through the robot OpenAPI, the only route that needs no inbound message.
 */
import type { AccountConfig } from '../config/index.js';
import type { DingTalkApi } from '../dingtalk/api.js';
import { formatReply } from '../dingtalk/reply-format.js';
import type { Target } from '../dingtalk/targets.js';
import { ChannelError } from '../errors.js';

/** Sends `text` to `target`; returns the number of messages sent. */
export async function sendToTarget(
  api: DingTalkApi,
  account: AccountConfig,
  target: Target,
  text: string,
  signal?: AbortSignal,
): Promise<number> {
  const chunks = formatReply(text, { limit: account.textChunkLimit, mode: account.chunkMode });
  if (chunks.length === 0)
    throw new ChannelError('empty_message', 'Nothing to send: the text is empty.');
  for (const chunk of chunks) {
    const message = {
      msgKey: 'sampleMarkdown',
      msgParam: { title: chunk.title, text: chunk.text },
    };
    if (target.kind === 'group') await api.sendToGroup(target.openConversationId, message, signal);
    else {
      const { invalidUserIds } = await api.sendToUsers([target.userId], message, signal);
      if (invalidUserIds.length > 0) {
        throw new ChannelError(
          'unknown_user',
          `DingTalk does not know user ${target.userId} (invalidStaffIdList)`,
        );
      }
    }
  }
  return chunks.length;
}
