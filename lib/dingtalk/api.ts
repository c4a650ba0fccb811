/**
 * The DingTalkApi port (architecture.md "Ports"): session-webhook send, robot OpenAPI send,
 * access-token cache and media download, with every base URL configurable so the simulator and
 * DingTalk's international hosts can stand in (dingtalk-protocol.md §5, §6).
 *
 * Rate limits (§6.2): a 403 `…QpsLimit…` answer lasts about a second, so the call is retried
 * with backoff; recipients listed in `flowControlledStaffIdList` are sent to again later.
 * Paid calls (counted against an org's monthly quota: everything but token calls) are reported
 * through `onCall` so benchmarks can show that a webhook reply costs none.
 */
import { ChannelError, DingTalkApiError, DingTalkNetworkError } from '../errors.js';
import { registerSecret } from '../log.js';
import { callDingTalk, type FetchLike, isQpsLimit, sleep } from './http.js';
import {
  checkUpload,
  type MediaUpload,
  postMediaUpload,
  UPLOAD_TOKEN_ERRCODES,
} from './media-upload.js';
import { DEFAULT_API_BASE, DEFAULT_OAPI_BASE } from './payload.js';

/** Where DingTalk's session webhooks live (dingtalk-protocol.md §4: `https://oapi.dingtalk.com/robot/sendBySession?session=…`). */
export const DINGTALK_WEBHOOK_ORIGIN = 'https://oapi.dingtalk.com';

/** Domains whose hosts serve DingTalk's temporary media download URLs (§6.3). */
const DINGTALK_MEDIA_DOMAINS = ['dingtalk.com', 'dingtalkapps.com'];

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '(not a URL)';
  }
}

/** Reads a body up to `maxBytes`; more fails final (`media_too_large`) before the excess is buffered. */
export async function readBounded(response: Response, maxBytes: number): Promise<Buffer> {
  const tooLarge = (size: string) =>
    new ChannelError('media_too_large', `media download: ${size} exceeds the ${maxBytes}-byte cap`);
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw tooLarge(`${declared} bytes`);
  }
  if (!response.body) return Buffer.alloc(0);
  const reader = response.body.getReader();
  const parts: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge('the file');
    }
    parts.push(value);
  }
  return Buffer.concat(parts);
}

function originOf(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}

/**
 * Checks a payload's session webhook before anything is posted to it (§5): it must be an
 * http(s) URL on DingTalk's webhook origin or on a configured DingTalk base (the simulator in
 * demo mode and tests). The URL comes from the message, so a forged or odd one must never turn
 * the bot into a client of another host. Errors name the host, never the `session` token, and
 * an unparsable URL is not shown at all. Both are final: another try cannot make it valid.
 */
export function checkWebhookUrl(webhookUrl: string, allowedOrigins: ReadonlySet<string>): URL {
  let url: URL;
  try {
    url = new URL(webhookUrl);
  } catch {
    throw new ChannelError(
      'webhook_url_invalid',
      `robot/sendBySession: the session webhook is not a valid URL (${webhookUrl.length} characters, not shown)`,
    );
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || !allowedOrigins.has(url.origin)) {
    throw new ChannelError(
      'webhook_host_not_allowed',
      `robot/sendBySession: the session webhook host ${url.protocol}//${url.host} is not a DingTalk host (allowed: ${[...allowedOrigins].join(', ')}); nothing was sent`,
    );
  }
  return url;
}

export interface DingTalkApiOptions {
  clientId: string;
  clientSecret: string;
  /** robotCode for OpenAPI sends; for an internal-app bot it is the clientId. */
  robotCode?: string;
  apiBase?: string;
  /** Legacy OAPI base; its origin may host session webhooks too (the simulator's does). */
  oapiBase?: string;
  fetch?: FetchLike;
  /** Attempts for a QPS-limited call and for flow-controlled recipients. */
  maxAttempts?: number;
  /** First retry delay; doubles each attempt (DingTalk says "sleep 1 s and retry"). */
  retryDelayMs?: number;
  onCall?: (call: ApiCall) => void;
  /** Bound of one session-webhook post (default WEBHOOK_TIMEOUT_MS). */
  webhookTimeoutMs?: number;
}

/**
 * A session-webhook post normally answers in well under a second. The bound is generous on
 * purpose: past it the post counts as "maybe delivered" and is never repeated
 * (lib/pipeline/reply.ts), so a slow answer should still be seen as the success it is.
 */
export const WEBHOOK_TIMEOUT_MS = 15_000;

export interface ApiCall {
  endpoint: string;
  /** Counts against the org's monthly OpenAPI quota. */
  paid: boolean;
}

/** Webhook and OpenAPI message bodies (§5, §6.2). */
export interface WebhookMessage {
  msgtype: 'text' | 'markdown' | 'actionCard' | 'feedCard' | 'link';
  [field: string]: unknown;
}

export interface OpenApiMessage {
  msgKey: string;
  msgParam: Record<string, unknown>;
}

interface CachedToken {
  token: string;
  expiresAt: number;
}

/** One token per app and API host for the life of the process (a warm function reuses it). */
const tokenCache = new Map<string, CachedToken>();
const tokenRequests = new Map<string, Promise<CachedToken>>();
const TOKEN_REFRESH_MARGIN_MS = 5 * 60_000;

export class DingTalkApi {
  readonly robotCode: string;
  private readonly apiBase: string;
  private readonly oapiBase: string;
  private readonly options: DingTalkApiOptions;
  /** DingTalk's webhook origin plus the configured bases' (where the simulator hosts them). */
  private readonly webhookOrigins: ReadonlySet<string>;

  constructor(options: DingTalkApiOptions) {
    registerSecret(options.clientSecret);
    this.options = options;
    this.apiBase = trimSlash(options.apiBase ?? DEFAULT_API_BASE);
    this.robotCode = options.robotCode ?? options.clientId;
    this.oapiBase = trimSlash(options.oapiBase ?? DEFAULT_OAPI_BASE);
    const origins = [
      DINGTALK_WEBHOOK_ORIGIN,
      originOf(this.apiBase),
      originOf(options.oapiBase ?? DEFAULT_OAPI_BASE),
    ];
    this.webhookOrigins = new Set(origins.filter((o): o is string => o !== undefined));
  }

  /** Replies through a message's session webhook; a non-zero `errcode` throws (§5). */
  async sendBySessionWebhook(
    webhookUrl: string,
    message: WebhookMessage,
    signal?: AbortSignal,
  ): Promise<void> {
    const url = checkWebhookUrl(webhookUrl, this.webhookOrigins);
    this.report('robot/sendBySession', false);
    await callDingTalk('robot/sendBySession', url.href, {
      body: message,
      signal,
      timeoutMs: this.options.webhookTimeoutMs ?? WEBHOOK_TIMEOUT_MS,
      fetch: this.options.fetch,
    });
  }

  /** `oToMessages/batchSend`: a DM to up to 20 users; flow-controlled users are retried. */
  async sendToUsers(
    userIds: string[],
    message: OpenApiMessage,
    signal?: AbortSignal,
  ): Promise<{ invalidUserIds: string[] }> {
    let pending = userIds;
    const invalid: string[] = [];
    for (let attempt = 0; ; attempt++) {
      const result = await this.openApi<{
        invalidStaffIdList?: string[];
        flowControlledStaffIdList?: string[];
      }>(
        'robot/oToMessages/batchSend',
        {
          robotCode: this.robotCode,
          userIds: pending,
          msgKey: message.msgKey,
          msgParam: JSON.stringify(message.msgParam),
        },
        signal,
      );
      invalid.push(...(result.invalidStaffIdList ?? []));
      pending = result.flowControlledStaffIdList ?? [];
      if (pending.length === 0) return { invalidUserIds: invalid };
      if (attempt + 1 >= this.maxAttempts) {
        throw new DingTalkApiError({
          code: 'flowControlled',
          message: `${pending.length} recipient(s) still flow-controlled after ${this.maxAttempts} attempts`,
          status: 200,
          endpoint: 'robot/oToMessages/batchSend',
          retryable: true,
        });
      }
      await sleep(this.retryDelay(attempt), signal);
    }
  }

  /** `groupMessages/send`: a message to a group the bot is in. */
  async sendToGroup(
    openConversationId: string,
    message: OpenApiMessage,
    signal?: AbortSignal,
  ): Promise<void> {
    await this.openApi(
      'robot/groupMessages/send',
      {
        robotCode: this.robotCode,
        openConversationId,
        msgKey: message.msgKey,
        msgParam: JSON.stringify(message.msgParam),
      },
      signal,
    );
  }

  /** `messageFiles/download`: a temporary URL for an inbound media `downloadCode` (§6.3). */
  async mediaDownloadUrl(downloadCode: string, signal?: AbortSignal): Promise<string> {
    const result = await this.openApi<{ downloadUrl?: unknown }>(
      'robot/messageFiles/download',
      { downloadCode, robotCode: this.robotCode },
      signal,
    );
    if (typeof result.downloadUrl !== 'string' || !result.downloadUrl) {
      throw new DingTalkApiError({
        code: 'bad_response',
        message: 'no downloadUrl',
        status: 200,
        endpoint: 'robot/messageFiles/download',
      });
    }
    return result.downloadUrl;
  }

  /**
   * Downloads an inbound media file's bytes (the temporary URL needs no auth, §6.3). The URL is
   * fetched only from a DingTalk host (or a configured base: the simulator), and at most
   * `maxBytes` are read: a larger file fails final (`media_too_large`) without buffering it.
   */
  async downloadMedia(
    downloadCode: string,
    signal?: AbortSignal,
    limits: { maxBytes?: number } = {},
  ): Promise<{ bytes: Buffer; mimeType: string; url: string }> {
    const url = await this.mediaDownloadUrl(downloadCode, signal);
    if (!this.isMediaHost(url)) {
      throw new ChannelError(
        'media_host_not_allowed',
        `media download: the download URL's host ${hostOf(url)} is not a DingTalk host; not fetched`,
      );
    }
    const doFetch = this.options.fetch ?? fetch;
    let response: Response;
    try {
      response = await doFetch(url, { signal: signal ?? AbortSignal.timeout(30_000) });
    } catch (err) {
      throw new DingTalkNetworkError('media', err);
    }
    if (!response.ok) {
      await response.body?.cancel().catch(() => undefined);
      throw new DingTalkApiError({
        code: `http_${response.status}`,
        message: 'media download failed',
        status: response.status,
        endpoint: 'media',
        retryable: response.status >= 500,
      });
    }
    const bytes = await readBounded(response, limits.maxBytes ?? Number.POSITIVE_INFINITY);
    return {
      bytes,
      mimeType: response.headers.get('content-type') ?? 'application/octet-stream',
      url,
    };
  }

  /**
   * `media/upload` on the legacy OAPI host (lib/dingtalk/media-upload.ts): the media id for a
   * `sampleImageMsg`, `sampleFile` or a markdown image. A paid call; a rejected token is
   * retried once with a fresh one.
   */
  async uploadMedia(upload: MediaUpload, signal?: AbortSignal): Promise<string> {
    checkUpload(upload); // a file DingTalk would refuse costs no call
    for (let attempt = 0; ; attempt++) {
      const token = await this.accessToken();
      this.report('media/upload', true);
      try {
        return await postMediaUpload(this.oapiBase, token, upload, {
          fetch: this.options.fetch,
          signal,
        });
      } catch (err) {
        if (attempt > 0 || !(err instanceof DingTalkApiError)) throw err;
        if (!UPLOAD_TOKEN_ERRCODES.has(err.code)) throw err;
        tokenCache.delete(`${this.apiBase}|${this.options.clientId}`);
      }
    }
  }

  /**
   * A `/v1.0/<endpoint>` call with the token, QPS retries and paid-call reporting of every robot
   * call; the AI card client (cards.ts) uses it for its POST and PUT routes.
   */
  call<T>(
    method: 'POST' | 'PUT',
    endpoint: string,
    body: unknown,
    options: { signal?: AbortSignal; maxAttempts?: number } = {},
  ): Promise<T> {
    return this.openApi<T>(endpoint, body, options.signal, method, options.maxAttempts);
  }

  /** DingTalk's own hosts, plus the configured bases' origins (where the simulator serves files). */
  private isMediaHost(url: string): boolean {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return false;
    }
    if (this.webhookOrigins.has(parsed.origin)) return true;
    if (parsed.protocol !== 'https:') return false;
    return DINGTALK_MEDIA_DOMAINS.some(
      (domain) => parsed.hostname === domain || parsed.hostname.endsWith(`.${domain}`),
    );
  }

  /** A valid access token, from the cache while it has more than 5 minutes left (§6.1). */
  async accessToken(): Promise<string> {
    const key = `${this.apiBase}|${this.options.clientId}`;
    const cached = tokenCache.get(key);
    if (cached && cached.expiresAt - TOKEN_REFRESH_MARGIN_MS > Date.now()) return cached.token;
    let request = tokenRequests.get(key);
    if (!request) {
      request = this.fetchToken().finally(() => tokenRequests.delete(key));
      tokenRequests.set(key, request);
    }
    const fresh = await request;
    tokenCache.set(key, fresh);
    return fresh.token;
  }

  private async fetchToken(): Promise<CachedToken> {
    const result = await callDingTalk<{ accessToken?: unknown; expireIn?: unknown }>(
      'oauth2/accessToken',
      `${this.apiBase}/v1.0/oauth2/accessToken`,
      {
        body: { appKey: this.options.clientId, appSecret: this.options.clientSecret },
        fetch: this.options.fetch,
      },
    );
    if (typeof result.accessToken !== 'string' || typeof result.expireIn !== 'number') {
      throw new DingTalkApiError({
        code: 'bad_response',
        message: 'no accessToken in answer',
        status: 200,
        endpoint: 'oauth2/accessToken',
      });
    }
    registerSecret(result.accessToken);
    return { token: result.accessToken, expiresAt: Date.now() + result.expireIn * 1000 };
  }

  /** An OpenAPI call with the token header, QPS-limit retries and one retry on a stale token. */
  private async openApi<T>(
    endpoint: string,
    body: unknown,
    signal?: AbortSignal,
    method: 'POST' | 'PUT' = 'POST',
    maxAttempts = this.maxAttempts,
  ): Promise<T> {
    let tokenRetried = false;
    for (let attempt = 0; ; attempt++) {
      const token = await this.accessToken();
      this.report(endpoint, true);
      try {
        return await callDingTalk<T>(endpoint, `${this.apiBase}/v1.0/${endpoint}`, {
          method,
          body,
          signal,
          headers: { 'x-acs-dingtalk-access-token': token },
          fetch: this.options.fetch,
        });
      } catch (err) {
        if (!(err instanceof DingTalkApiError)) throw err;
        if (err.code === 'InvalidAuthentication' && !tokenRetried) {
          tokenRetried = true;
          tokenCache.delete(`${this.apiBase}|${this.options.clientId}`);
          continue;
        }
        if (!isQpsLimit(err.code) || attempt + 1 >= maxAttempts) throw err;
        await sleep(this.retryDelay(attempt), signal);
      }
    }
  }

  private get maxAttempts(): number {
    return this.options.maxAttempts ?? 4;
  }

  private retryDelay(attempt: number): number {
    return (this.options.retryDelayMs ?? 1000) * 2 ** attempt;
  }

  private report(endpoint: string, paid: boolean): void {
    this.options.onCall?.({ endpoint, paid });
  }
}

/** Forgets every cached token (tests; a rotated secret). */
export function clearTokenCache(): void {
  tokenCache.clear();
}

function trimSlash(url: string): string {
  return url.endsWith('/') ? url.slice(0, -1) : url;
}

/** The API client of one configured account: its credentials and robotCode, on `apiBase`. */
export function accountApi(
  account: { clientId: string; clientSecret: string; robotCode?: string },
  apiBase: string,
  extra: Pick<DingTalkApiOptions, 'fetch' | 'onCall' | 'oapiBase'> = {},
): DingTalkApi {
  return new DingTalkApi({
    clientId: account.clientId,
    clientSecret: account.clientSecret,
    ...(account.robotCode ? { robotCode: account.robotCode } : {}),
    apiBase,
    ...extra,
  });
}
