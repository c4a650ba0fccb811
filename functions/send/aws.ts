/**
 * AWS Lambda entry of the send function (Function URL or HTTP API v2 event). The configuration
 * comes from the config secret named by CONFIG_SECRET_ID, filtered to what sending needs (the
 * send token and the apps' credentials; never the agent key or the HMAC key).
 */
import { applySecretConfig } from '../../lib/config/aws-secret.js';
import { handleSendRequest, resetSendFunction } from './handler.js';

interface HttpEvent {
  headers?: Record<string, string | undefined>;
  body?: string | null;
  isBase64Encoded?: boolean;
  requestContext?: { http?: { method?: string } };
}

export async function handler(event: HttpEvent) {
  const { changed } = await applySecretConfig(process.env, 'send');
  if (changed) resetSendFunction();
  const raw = event.body ?? '';
  const body = event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
  const method = event.requestContext?.http?.method;
  const result = await handleSendRequest({
    headers: event.headers ?? {},
    body,
    ...(method ? { method } : {}),
  });
  return {
    statusCode: result.status,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(result.body),
  };
}
