/**
 * Alibaba Cloud Function Compute 3.0 entry of the send function, behind an HTTP trigger. FC 3.0
 * passes an HTTP request to a built-in runtime handler as a JSON event (FC "HTTP trigger" docs:
 * `{ version, rawPath, headers, queryParameters, body, isBase64Encoded, requestContext: { http:
 * { method, path } } }`) and sends back the `{ statusCode, headers, body }` the handler returns.
 */
import { exportCredentials, type FcContext } from '../fc/context.js';
import { handleSendRequest } from './handler.js';

interface FcHttpEvent {
  headers?: Record<string, string | undefined>;
  body?: string;
  isBase64Encoded?: boolean;
  requestContext?: { http?: { method?: string } };
}

function parseEvent(event: Buffer | string): FcHttpEvent | undefined {
  try {
    const value = JSON.parse(Buffer.isBuffer(event) ? event.toString('utf8') : event) as unknown;
    return value && typeof value === 'object' ? (value as FcHttpEvent) : undefined;
  } catch {
    return undefined;
  }
}

export async function handler(event: Buffer | string, context: FcContext) {
  exportCredentials(context);
  const request = parseEvent(event);
  if (!request) {
    // Not an HTTP trigger event (e.g. a console test invoke): nothing to authenticate or send.
    return reply(400, { error: 'bad_request', message: 'expected an FC 3.0 HTTP trigger event' });
  }
  const raw = request.body ?? '';
  // UTF-8, never ASCII: DingTalk text is mostly Chinese (style.md, Bolt).
  const body = request.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
  const method = request.requestContext?.http?.method;
  const result = await handleSendRequest({
    headers: request.headers ?? {},
    body,
    ...(method ? { method } : {}),
  });
  return reply(result.status, result.body);
}

function reply(statusCode: number, body: Record<string, unknown>) {
  return {
    statusCode,
    headers: { 'content-type': 'application/json' },
    isBase64Encoded: false,
    body: JSON.stringify(body),
  };
}
