/**
 * Wire shapes of DingTalk Stream mode (dingtalk-protocol.md §2) and of the robot message
 * payload (§4). Shared by the simulator (which builds them), the stream client (which receives
 * them) and the inbound parser (which turns them into the neutral message).
 */

export const TOPIC_ROBOT = '/v1.0/im/bot/messages/get';
export const TOPIC_CARD = '/v1.0/card/instances/callback';
export const DEFAULT_GATEWAY_URL = 'https://api.dingtalk.com/v1.0/gateway/connections/open';
export const DEFAULT_API_BASE = 'https://api.dingtalk.com';
export const DEFAULT_OAPI_BASE = 'https://oapi.dingtalk.com';

export type FrameType = 'SYSTEM' | 'EVENT' | 'CALLBACK';

/** A downstream frame (server → client), §2.1. Every header value is a string; `data` is JSON text. */
export interface DownstreamFrame {
  specVersion: string;
  type: FrameType;
  headers: {
    topic: string;
    contentType: string;
    messageId: string;
    time: string;
    appId?: string;
    connectionId?: string;
    [header: string]: string | undefined;
  };
  data: string;
}

/** An upstream ACK/response (client → server), §2.2. */
export interface UpstreamFrame {
  code: number;
  headers: { contentType?: string; messageId: string; [header: string]: string | undefined };
  message: string;
  data: string;
}

export interface Subscription {
  type: string;
  topic: string;
}

export interface AtUser {
  dingtalkId: string;
  staffId?: string;
}

export type RichTextElement =
  | { text: string; type?: 'text' }
  | { type: 'picture'; downloadCode?: string; pictureDownloadCode?: string }
  | { type: 'at'; atName?: string; atUserId?: string };

/** The `data` of a robot CALLBACK (`/v1.0/im/bot/messages/get`), §4.1. Parse leniently. */
export interface RobotMessagePayload {
  conversationId: string;
  /** "1" = DM (user↔bot), "2" = group. */
  conversationType: '1' | '2';
  conversationTitle?: string;
  chatbotCorpId?: string;
  chatbotUserId?: string;
  robotCode?: string;
  msgId: string;
  msgtype: string;
  createAt: number;
  senderId?: string;
  senderStaffId?: string;
  senderNick?: string;
  senderCorpId?: string;
  isAdmin?: boolean;
  isInAtList?: boolean;
  atUsers?: AtUser[];
  sessionWebhook?: string;
  sessionWebhookExpiredTime?: number;
  text?: { content: string; isReplyMsg?: boolean; repliedMsg?: unknown };
  content?: Record<string, unknown>;
  [extra: string]: unknown;
}
