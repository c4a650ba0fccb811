/**
 * One HTTP call to DingTalk, classified the way style.md asks: the platform answered with an
 * error (DingTalkApiError: code, message, requestId, endpoint) versus the call failed
 * (DingTalkNetworkError). Three answer shapes exist (dingtalk-protocol.md §5, §6):
 * - api.dingtalk.com `/v1.0/*`: HTTP 4xx/5xx with `{ requestid, code, message }`;
 * - oapi / session webhook: HTTP 200 with a non-zero `errcode` and `errmsg`;
 * - anything else (HTML ban pages, proxies): status only.
 */
import { DingTalkApiError, DingTalkNetworkError } from '../errors.js';

export type FetchLike = typeof fetch;

export interface CallOptions {
  method?: 'GET' | 'POST' | 'PUT';
  headers?: Record<string, string>;
  body?: unknown;
  signal?: AbortSignal;
  timeoutMs?: number;
  fetch?: FetchLike;
}

/** Codes that mean "slow down and try again" (§6.2 rate limits). */
export function isQpsLimit(code: string): boolean {
  return code.includes('QpsLimit') || code === '90018' || code === '90002';
}

export async function callDingTalk<T>(
  endpoint: string,
  url: string,
  options: CallOptions = {},
): Promise<T> {
  const doFetch = options.fetch ?? fetch;
  const timeout = AbortSignal.timeout(options.timeoutMs ?? 10_000);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  // A FormData body (media/upload) is sent as multipart; fetch sets its content type and boundary.
  const form = options.body instanceof FormData;
  let response: Response;
  try {
    response = await doFetch(url, {
      method: options.method ?? 'POST',
      headers: {
        accept: 'application/json',
        ...(options.body === undefined || form ? {} : { 'content-type': 'application/json' }),
        ...options.headers,
      },
      body: form
        ? (options.body as FormData)
        : options.body === undefined
          ? undefined
          : JSON.stringify(options.body),
      signal,
    });
  } catch (err) {
    throw new DingTalkNetworkError(endpoint, err);
  }
  const text = await response.text().catch(() => '');
  const body = parseJson(text);
  if (!response.ok) {
    const code = typeof body?.code === 'string' ? body.code : `http_${response.status}`;
    throw new DingTalkApiError({
      code,
      message: typeof body?.message === 'string' ? body.message : `HTTP ${response.status}`,
      status: response.status,
      endpoint,
      requestId: typeof body?.requestid === 'string' ? body.requestid : undefined,
      // A rejected token heals with a new one (tokens expire and are revoked on rotation).
      retryable: response.status >= 500 || isQpsLimit(code) || code === 'InvalidAuthentication',
    });
  }
  if (body && typeof body.errcode === 'number' && body.errcode !== 0) {
    throw new DingTalkApiError({
      code: String(body.errcode),
      message: typeof body.errmsg === 'string' ? body.errmsg : 'error',
      status: response.status,
      endpoint,
      retryable: body.errcode === 660026 || body.errcode === 130101 || body.errcode === -1,
    });
  }
  if (body === undefined) {
    throw new DingTalkApiError({
      code: 'bad_response',
      message: `expected JSON, got ${text.length} bytes`,
      status: response.status,
      endpoint,
    });
  }
  return body as T;
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(text) as unknown;
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Waits `ms`, or rejects early when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
