/**
 * Identifier formats of DingTalk, minted so they look like production values
 * (dingtalk-protocol.md §2.1 messageIds, §4.1 payload ids, §6 request ids).
 * Identities (users, bots, conversations) are derived from a seed so that the same staffId or
 * group title yields the same id across injections, as it would in a real org.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';

function digest(seed: string, bytes: number): Buffer {
  return createHash('sha256').update(seed).digest().subarray(0, bytes);
}

/** Random lowercase hex of `chars` characters. */
export function randomHex(chars: number): string {
  return randomBytes(Math.ceil(chars / 2))
    .toString('hex')
    .slice(0, chars);
}

// The first segment of CALLBACK messageIds is stable per server process in production logs.
const SERVER_PREFIX = randomHex(8);

/** CALLBACK/EVENT messageId: `<8hex>_<3-4hex>_<hex ms>_<hex seq>` (§2.1, PEDIA L220). */
export function callbackMessageId(now: number, seq: number): string {
  return `${SERVER_PREFIX}_${randomHex(3 + (seq % 2))}_${now.toString(16)}_${seq.toString(16)}`;
}

/** SYSTEM messageId: `c0a815dd` + ms timestamp + hex suffix (§2.1, PY issue #22). */
export function systemMessageId(now: number): string {
  return `c0a815dd${now}${randomHex(6)}`;
}

/** `msg…==`: the encrypted message id of a robot payload. */
export function mintMsgId(): string {
  return `msg${randomBytes(16).toString('base64')}`;
}

/** `$:LWCP_v1:$…`: an encrypted dingtalkId, stable per seed. */
export function lwcpId(seed: string, bytes = 16): string {
  return `$:LWCP_v1:$${digest(`lwcp:${seed}`, bytes).toString('base64')}`;
}

/** The bot's dingtalkId (`chatbotUserId`) for an app. */
export function botUserIdFor(clientId: string): string {
  return lwcpId(`bot:${clientId}`, 24);
}

/** The `appId` header value for an app: a uuid-shaped value stable per clientId. */
export function appIdFor(clientId: string): string {
  const h = digest(`app:${clientId}`, 16).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** A corpId (`ding` + 16 hex). */
export function corpIdFor(seed: string): string {
  return `ding${digest(`corp:${seed}`, 8).toString('hex')}`;
}

/** A DM conversationId (`cid` + 32-byte base64), stable per bot and user. */
export function dmConversationId(clientId: string, staffId: string): string {
  return `cid${digest(`dm:${clientId}:${staffId}`, 32).toString('base64')}`;
}

/** A group conversationId (`cid` + 16-byte base64), stable per seed. */
export function groupConversationId(seed: string): string {
  return `cid${digest(`group:${seed}`, 16).toString('base64')}`;
}

/** The `session` query value of a sessionWebhook: 32 hex. */
export function mintSessionToken(): string {
  return randomHex(32);
}

/** An OpenAPI `requestid`, uppercase uuid as in PROBE P3. */
export function mintRequestId(): string {
  return randomUUID().toUpperCase();
}

/** An access token (32 hex, like production's opaque tokens). */
export function mintAccessToken(): string {
  return randomHex(32);
}

/** A robot-send `processQueryKey`. */
export function mintProcessQueryKey(): string {
  return randomBytes(32).toString('base64');
}

/** A media downloadCode (base64 text like `mIofN681YE3f7A==`). */
export function mintDownloadCode(): string {
  return `mIof${randomBytes(24).toString('base64')}`;
}

export { randomUUID };

/** A media id as `media/upload` answers it: `@lA…` (sampleImageMsg takes it as photoURL, §6.2). */
export function mintMediaId(): string {
  return `@lAXP${randomBytes(18).toString('base64url')}`;
}
