/**
 * The neutral inbound message: what the pipeline, policy, commands and the agent see of a
 * DingTalk robot callback (dingtalk-protocol.md §4). Built only by `parseRobotMessage`.
 */

import { ChannelError } from '../errors.js';

export type InboundMediaKind = 'picture' | 'audio' | 'video' | 'file';

/** One attachment; fetch its bytes with the OpenAPI download call (dingtalk-protocol.md §6.3). */
export interface InboundMedia {
  kind: InboundMediaKind;
  downloadCode: string;
  fileName?: string;
  /** Seconds (video and, when present, audio). */
  duration?: number;
  videoType?: string;
  /** DingTalk's speech-to-text of an audio message. */
  recognition?: string;
}

/** A quoted message: context for the agent, separate from the new text (§4.4). */
export interface InboundQuote {
  msgId?: string;
  /** The quoted message's type (`text`, `richText`, `picture`, `file`, `interactiveCard`, …). */
  msgtype: string;
  /** The quoted sender's encrypted id, when DingTalk sent it. */
  senderId?: string;
  senderNick?: string;
  /** True when the quoted message is the bot's own earlier reply (its senderId is the bot's). */
  fromBot: boolean;
  /** Readable text of the quoted message (a placeholder when it has none). */
  text: string;
  /** Attachments of the quoted message (download references; fetched under the same caps). */
  media: InboundMedia[];
  /** ms epoch. */
  createdAt?: number;
  /** A quote inside the quote, a few levels deep at most. */
  quote?: InboundQuote;
}

/** One inbound robot message, platform wire details already resolved. */
export interface InboundMessage {
  accountId?: string;
  /** The stream frame's `headers.messageId` (same on redelivery). */
  messageId?: string;
  /** DingTalk's message id; the dedup key together with the account. */
  msgId: string;
  msgtype: string;
  conversationType: 'dm' | 'group';
  conversationId: string;
  conversationTitle?: string;
  sender: {
    /** `senderStaffId`, else the encrypted `senderId` (external or cross-org senders). */
    id: string;
    staffId?: string;
    nick?: string;
    corpId?: string;
  };
  /** Trimmed text the agent and the command parser read (group leading space removed). */
  text: string;
  /** The message this one quotes (a quote-reply, dingtalk-protocol.md §4.4). */
  quote?: InboundQuote;
  media: InboundMedia[];
  isInAtList: boolean;
  /** staffIds of mentioned users, the bot itself excluded. */
  atUserIds: string[];
  /** userIds of richText @ elements (`atUserId`/`userId`), when any carried one. */
  mentionedUserIds?: string[];
  /** ms epoch. */
  createAt: number;
  sessionWebhook?: string;
  sessionWebhookExpiredTime?: number;
  /** Payload fields that were present but unusable and left out (e.g. a sessionWebhook that is no URL). */
  ignored?: string[];
  robotCode?: string;
  chatbotUserId?: string;
}

/**
 * The callback `data` is not a robot message we can act on. Handled, not retryable: the relay
 * acks it, because redelivering the same bytes cannot help (channel-semantics.md §9).
 */
export class InboundParseError extends ChannelError {
  override name = 'InboundParseError';
  /** The offending field, or `data` for the payload as a whole. */
  readonly field: string;
  /** The stream frame's messageId, when the caller passed it. */
  readonly messageId: string | undefined;
  /** The payload's msgId, when it was readable. */
  readonly msgId: string | undefined;
  /** Size of the raw payload in bytes, for logs (the content itself is never kept). */
  readonly rawSize: number | undefined;

  constructor(
    field: string,
    problem: string,
    context: { messageId?: string; msgId?: string; rawSize?: number; cause?: unknown } = {},
  ) {
    super('inbound_parse', `robot message: \`${field}\` ${problem}`, {
      cause: context.cause,
      retryable: false,
    });
    this.field = field;
    this.messageId = context.messageId;
    this.msgId = context.msgId;
    this.rawSize = context.rawSize;
  }
}
