/**
 * HTTP entry of the message function for the HMAC forwarder (`RELAY_TARGET=https://…`): a
 * Lambda Function URL / API Gateway v2 event, or any platform that can hand over the raw body
 * and headers. Unsigned, stale or tampered requests get 401 and are never parsed; an accepted
 * event is handled before the answer (2xx = durable for the relay).
 */
import { applySecretConfig } from '../../lib/config/aws-secret.js';
import { loadConfig } from '../../lib/config/index.js';
import { errorSummary } from '../../lib/errors.js';
import { openSignedEvent } from '../../lib/forward/http-entry.js';
import { createLogger } from '../../lib/log.js';
import { MessageMetrics } from '../../lib/metrics/index.js';
import { handleMessage, resetMessageRuntime } from './handler.js';

export interface HttpRequestEvent {
  headers?: Record<string, string | undefined>;
  body?: string | null;
  isBase64Encoded?: boolean;
}

export interface HttpResult {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

const json = (statusCode: number, value: unknown): HttpResult => ({
  statusCode,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(value),
});

let secret: string | undefined;

/** Verifies and handles one signed hand-off; `remainingMs` is the platform time left. */
export async function handleSignedRequest(
  request: HttpRequestEvent,
  remainingMs: number,
  metrics?: MessageMetrics,
): Promise<HttpResult> {
  secret ??= loadConfig(process.env, { requireCredentials: true }).settings.relay.hmacSecret;
  if (!secret)
    return json(500, { error: 'RELAY_HMAC_SECRET is not configured for the HTTP entry' });
  const raw = request.body ?? '';
  const body = request.isBase64Encoded ? Buffer.from(raw, 'base64') : raw;
  const opened = openSignedEvent({ headers: request.headers ?? {}, body, secret, now: Date.now() });
  if (!opened.ok) {
    createLogger().warn('message.http_rejected', { status: opened.status, reason: opened.reason });
    return json(opened.status, { error: opened.reason });
  }
  try {
    const outcome = await handleMessage(opened.event, { remainingMs, metrics });
    return json(200, outcome);
  } catch (err) {
    createLogger().error('message.http_failed', { error: errorSummary(err) });
    return json(503, { error: 'handling failed; retry' });
  }
}

/** On Lambda, metrics as CloudWatch EMF lines (lib/metrics/). */
const lambdaMetrics = new MessageMetrics({ format: 'emf' });

/** Lambda Function URL / HTTP API handler; the config comes from CONFIG_SECRET_ID when set. */
export async function handler(
  event: HttpRequestEvent,
  context: { getRemainingTimeInMillis(): number },
): Promise<HttpResult> {
  const { changed } = await applySecretConfig(process.env, 'message-http');
  if (changed) {
    secret = undefined;
    resetMessageRuntime();
  }
  return handleSignedRequest(event, context.getRemainingTimeInMillis(), lambdaMetrics);
}
