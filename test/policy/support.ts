/**
 * Builders for policy tests: accounts come from the real configuration loader (so defaults and
 * the §1 validation apply), messages from the real inbound parser (so the senderStaffId /
 * senderId fallback is the parser's).
 */
import { type AccountConfig, getAccount, loadConfig } from '../../lib/config/index.js';
import { parseRobotMessage } from '../../lib/dingtalk/inbound.js';
import type { InboundMessage } from '../../lib/dingtalk/inbound-types.js';

/** The resolved account for a `channels.dingtalk` object (default account unless named). */
export function accountOf(dingtalk: Record<string, unknown>, accountId?: string): AccountConfig {
  const config = loadConfig({ DINGTALK_CONFIG: JSON.stringify({ channels: { dingtalk } }) });
  return getAccount(config, accountId);
}

export const GROUP_ID = 'cidFbEwwavwcAsXDZbYqSBLnA==';
export const OTHER_GROUP_ID = 'cidOtherGroupXYZ==';

let seq = 0;

export interface MessageInput {
  /** `senderStaffId`; pass null to leave it out (external sender). */
  staffId?: string | null;
  /** The encrypted `senderId`. */
  senderId?: string;
  nick?: string;
  conversationId?: string;
  text?: string;
  /** `isInAtList` for groups (default true: DingTalk pushes group messages when @-mentioned). */
  atBot?: boolean;
}

function payload(conversationType: '1' | '2', input: MessageInput): Record<string, unknown> {
  seq += 1;
  const base: Record<string, unknown> = {
    conversationId:
      input.conversationId ?? (conversationType === '1' ? 'cidDmWithBot==' : GROUP_ID),
    chatbotUserId: '$:LWCP_v1:$bot',
    msgId: `msg${seq}`,
    senderNick: input.nick ?? 'Zhang San',
    senderId: input.senderId ?? `$:LWCP_v1:$sender${seq}==`,
    createAt: 1769851697611,
    conversationType,
    sessionWebhook: 'https://oapi.dingtalk.com/robot/sendBySession?session=abc',
    sessionWebhookExpiredTime: 1769857097744,
    msgtype: 'text',
    text: { content: input.text ?? 'hello' },
  };
  if (input.staffId !== null) base.senderStaffId = input.staffId ?? 'manager807';
  if (conversationType === '2') {
    base.isInAtList = input.atBot ?? true;
    base.conversationTitle = 'Team chat';
  }
  return base;
}

/** A parsed DM. */
export function dm(input: MessageInput = {}): InboundMessage {
  return parseRobotMessage(payload('1', input));
}

/** A parsed group message. */
export function group(input: MessageInput = {}): InboundMessage {
  return parseRobotMessage(payload('2', input));
}
