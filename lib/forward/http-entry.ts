/**
 * The receiving half of the HTTP hand-off, for the message function's HTTP entries (Lambda
 * function URL, FC HTTP trigger, a plain Node server): verify the signature first, then parse
 * and check the event. Unsigned, stale or tampered requests are 401 and are never parsed;
 * a signed body that is not an event is 400. Both are final for the HTTP forwarder (no retry).
 */
import { type HeaderSource, type HmacFailure, type SignedBody, verifyHmacRequest } from './hmac.js';
import { invalidEventReason, type MessageEvent } from './port.js';

export type SignedEventResult =
  | { ok: true; event: MessageEvent }
  | { ok: false; status: 401; reason: HmacFailure }
  | { ok: false; status: 400; reason: string };

/**
 * Opens one signed hand-off request. `body` must be the raw bytes received (decode a
 * base64-encoded platform body to bytes first; never re-serialise parsed JSON).
 */
export function openSignedEvent(input: {
  headers: HeaderSource;
  body: SignedBody;
  secret: string;
  now: number;
  windowMs?: number;
}): SignedEventResult {
  const verdict = verifyHmacRequest(input);
  if (!verdict.ok) return { ok: false, status: 401, reason: verdict.reason };
  const text = typeof input.body === 'string' ? input.body : Buffer.from(input.body).toString();
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, status: 400, reason: 'body is not JSON' };
  }
  const invalid = invalidEventReason(value);
  if (invalid) return { ok: false, status: 400, reason: invalid };
  return { ok: true, event: value as MessageEvent };
}
