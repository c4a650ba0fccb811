/**
 * HMAC-SHA256 signing of HTTP hand-offs, used by both ends: the relay's HTTP forwarder signs,
 * the message function's HTTP entry verifies (architecture.md "Runtime modes", HTTP with HMAC).
 *
 *   x-dingtalk-channel-timestamp: <epoch ms>
 *   x-dingtalk-channel-signature: v1=<hex HMAC-SHA256(secret, `${timestamp}.${raw body}`)>
 *
 * The timestamp is signed with the body, so a captured request cannot be replayed after the
 * window (default 5 min, either direction of clock skew), and neither part can be changed.
 * Signatures are compared in constant time. Guarded by test/forward/hmac.test.ts.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const TIMESTAMP_HEADER = 'x-dingtalk-channel-timestamp';
export const SIGNATURE_HEADER = 'x-dingtalk-channel-signature';
/** How far a request's timestamp may be from the receiver's clock, either way. */
export const DEFAULT_REPLAY_WINDOW_MS = 5 * 60_000;

const SIGNATURE_FORMAT = /^v1=([0-9a-f]{64})$/;
const TIMESTAMP_FORMAT = /^\d{1,15}$/;

/** The raw request body: the exact bytes sent (a string is taken as UTF-8). */
export type SignedBody = string | Uint8Array;

/** Request headers as Node, Lambda, FC or fetch hand them over; names are case-insensitive. */
export type HeaderSource =
  | { get(name: string): string | null }
  | Record<string, string | string[] | undefined>;

export type HmacFailure = 'missing_signature' | 'bad_timestamp' | 'stale' | 'bad_signature';
export type HmacVerdict = { ok: true } | { ok: false; reason: HmacFailure };

/** Hex HMAC-SHA256 of `${timestamp}.${body}`. */
export function hmacSignature(secret: string, timestamp: string, body: SignedBody): string {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex');
}

/** The two headers that sign `body` at time `now` (epoch ms). */
export function signHmacRequest(input: {
  secret: string;
  body: SignedBody;
  now: number;
}): Record<string, string> {
  const timestamp = String(Math.trunc(input.now));
  return {
    [TIMESTAMP_HEADER]: timestamp,
    [SIGNATURE_HEADER]: `v1=${hmacSignature(input.secret, timestamp, input.body)}`,
  };
}

function headerValue(headers: HeaderSource, name: string): string | undefined {
  if (typeof headers.get === 'function') {
    return (headers as { get(name: string): string | null }).get(name) ?? undefined;
  }
  for (const [key, value] of Object.entries(headers as Record<string, unknown>)) {
    if (key.toLowerCase() !== name) continue;
    const first = Array.isArray(value) ? value[0] : value;
    return typeof first === 'string' ? first : undefined;
  }
  return undefined;
}

/** Constant-time equality of two hex digests of the same (public) length. */
export function digestsEqual(expectedHex: string, providedHex: string): boolean {
  const expected = Buffer.from(expectedHex, 'hex');
  const provided = Buffer.from(providedHex, 'hex');
  return expected.length === provided.length && timingSafeEqual(expected, provided);
}

/**
 * Checks a signed request. The order matters for what the caller learns: an unsigned request
 * is `missing_signature`, a timestamp that is absent or not epoch ms `bad_timestamp`, one
 * outside the window `stale`, and only then is the signature computed (`bad_signature`).
 */
export function verifyHmacRequest(input: {
  headers: HeaderSource;
  body: SignedBody;
  secret: string;
  now: number;
  windowMs?: number;
}): HmacVerdict {
  const signature = headerValue(input.headers, SIGNATURE_HEADER)?.trim();
  if (!signature) return { ok: false, reason: 'missing_signature' };
  const timestamp = headerValue(input.headers, TIMESTAMP_HEADER)?.trim();
  if (!timestamp || !TIMESTAMP_FORMAT.test(timestamp))
    return { ok: false, reason: 'bad_timestamp' };
  const windowMs = input.windowMs ?? DEFAULT_REPLAY_WINDOW_MS;
  if (Math.abs(input.now - Number(timestamp)) > windowMs) return { ok: false, reason: 'stale' };
  const provided = SIGNATURE_FORMAT.exec(signature.toLowerCase())?.[1];
  if (!provided) return { ok: false, reason: 'bad_signature' };
  const expected = hmacSignature(input.secret, timestamp, input.body);
  return digestsEqual(expected, provided) ? { ok: true } : { ok: false, reason: 'bad_signature' };
}
