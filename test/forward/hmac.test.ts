import { describe, expect, it } from 'vitest';
import {
  DEFAULT_REPLAY_WINDOW_MS,
  digestsEqual,
  hmacSignature,
  SIGNATURE_HEADER,
  signHmacRequest,
  TIMESTAMP_HEADER,
  verifyHmacRequest,
} from '../../lib/forward/hmac.js';
import { openSignedEvent } from '../../lib/forward/http-entry.js';
import { sampleEvent } from './fixtures.js';

const secret = 'relay-hmac-secret-0123456789';
const now = Date.UTC(2026, 0, 1, 12);
const body = JSON.stringify(sampleEvent());

function signed(at = now, payload: string = body) {
  return signHmacRequest({ secret, body: payload, now: at });
}

describe('signHmacRequest / verifyHmacRequest', () => {
  it('round-trips: a request signed now verifies', () => {
    const headers = signed();
    expect(headers[TIMESTAMP_HEADER]).toBe(String(now));
    expect(headers[SIGNATURE_HEADER]).toMatch(/^v1=[0-9a-f]{64}$/);
    expect(verifyHmacRequest({ headers, body, secret, now })).toEqual({ ok: true });
  });

  it('signs "<timestamp>.<body>" with HMAC-SHA256 (the documented wire format)', async () => {
    const { createHmac } = await import('node:crypto');
    const expected = createHmac('sha256', secret).update(`${now}.${body}`).digest('hex');
    expect(signed()[SIGNATURE_HEADER]).toBe(`v1=${expected}`);
  });

  it('verifies the same bytes given as a string or as a Uint8Array', () => {
    const bytes = new TextEncoder().encode(body);
    expect(verifyHmacRequest({ headers: signed(), body: bytes, secret, now })).toEqual({
      ok: true,
    });
  });

  it('reads header names case-insensitively, from arrays and from fetch Headers', () => {
    const h = signed();
    const upper = {
      'X-DingTalk-Channel-Timestamp': [h[TIMESTAMP_HEADER] ?? ''],
      'X-DINGTALK-CHANNEL-SIGNATURE': h[SIGNATURE_HEADER],
    };
    expect(verifyHmacRequest({ headers: upper, body, secret, now }).ok).toBe(true);
    expect(verifyHmacRequest({ headers: new Headers(h), body, secret, now }).ok).toBe(true);
  });

  it('rejects an unsigned request as missing_signature', () => {
    expect(verifyHmacRequest({ headers: {}, body, secret, now })).toEqual({
      ok: false,
      reason: 'missing_signature',
    });
    const onlyTimestamp = { [TIMESTAMP_HEADER]: String(now) };
    expect(verifyHmacRequest({ headers: onlyTimestamp, body, secret, now })).toMatchObject({
      reason: 'missing_signature',
    });
  });

  it.each([
    ['no version prefix', (sig: string) => sig.slice(3)],
    ['another version', (sig: string) => sig.replace('v1=', 'v2=')],
    ['a short digest', (sig: string) => sig.slice(0, -2)],
    ['a non-hex digest', (sig: string) => `${sig.slice(0, -1)}z`],
    ['garbage', () => 'not a signature'],
  ])('rejects a malformed signature header (%s) as bad_signature', (_name, mangle) => {
    const h = signed();
    const headers = { ...h, [SIGNATURE_HEADER]: mangle(h[SIGNATURE_HEADER] ?? '') };
    expect(verifyHmacRequest({ headers, body, secret, now })).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
  });

  it.each([
    ['missing', undefined],
    ['not a number', 'yesterday'],
    ['fractional', '1767268800000.5'],
    ['negative', '-1767268800000'],
    ['seconds in scientific notation', '1.7e12'],
  ])('rejects a timestamp that is %s as bad_timestamp', (_name, value) => {
    const headers: Record<string, string | undefined> = { ...signed(), [TIMESTAMP_HEADER]: value };
    expect(verifyHmacRequest({ headers, body, secret, now })).toEqual({
      ok: false,
      reason: 'bad_timestamp',
    });
  });

  it('accepts skew up to the window in both directions and rejects beyond it as stale', () => {
    const w = DEFAULT_REPLAY_WINDOW_MS;
    expect(w).toBe(300_000);
    for (const skew of [-w, w]) {
      expect(verifyHmacRequest({ headers: signed(now + skew), body, secret, now }).ok).toBe(true);
    }
    for (const skew of [-w - 1, w + 1, -3_600_000]) {
      expect(verifyHmacRequest({ headers: signed(now + skew), body, secret, now })).toEqual({
        ok: false,
        reason: 'stale',
      });
    }
  });

  it('honours a custom window', () => {
    const headers = signed(now - 2_000);
    expect(verifyHmacRequest({ headers, body, secret, now, windowMs: 1_000 })).toMatchObject({
      reason: 'stale',
    });
  });

  it('rejects a tampered body, a tampered timestamp and a wrong secret as bad_signature', () => {
    const headers = signed();
    const tampered = body.replace('你好', '再见');
    expect(verifyHmacRequest({ headers, body: tampered, secret, now })).toMatchObject({
      reason: 'bad_signature',
    });
    const moved = { ...headers, [TIMESTAMP_HEADER]: String(now + 1) };
    expect(verifyHmacRequest({ headers: moved, body, secret, now })).toMatchObject({
      reason: 'bad_signature',
    });
    expect(
      verifyHmacRequest({ headers, body, secret: 'another-secret-987654', now }),
    ).toMatchObject({ reason: 'bad_signature' });
  });

  it('digestsEqual compares digests exactly, and never throws on a length mismatch', () => {
    const digest = hmacSignature(secret, String(now), body);
    expect(digestsEqual(digest, digest)).toBe(true);
    const flipped = `${digest.slice(0, -1)}${digest.endsWith('0') ? '1' : '0'}`;
    expect(digestsEqual(digest, flipped)).toBe(false);
    expect(digestsEqual(digest, digest.slice(0, 10))).toBe(false);
    expect(digestsEqual(digest, '')).toBe(false);
  });
});

describe('openSignedEvent (the function HTTP entry)', () => {
  it('returns the event of a valid signed request', () => {
    const result = openSignedEvent({ headers: signed(), body, secret, now });
    expect(result).toEqual({ ok: true, event: sampleEvent() });
  });

  it('answers 401 with the reason for unsigned, stale and tampered requests', () => {
    expect(openSignedEvent({ headers: {}, body, secret, now })).toEqual({
      ok: false,
      status: 401,
      reason: 'missing_signature',
    });
    expect(openSignedEvent({ headers: signed(now - 600_000), body, secret, now })).toMatchObject({
      status: 401,
      reason: 'stale',
    });
    expect(openSignedEvent({ headers: signed(), body: `${body} `, secret, now })).toMatchObject({
      status: 401,
      reason: 'bad_signature',
    });
  });

  it('answers 400 for a signed body that is not JSON or not an event', () => {
    const notJson = 'hello';
    expect(openSignedEvent({ headers: signed(now, notJson), body: notJson, secret, now })).toEqual({
      ok: false,
      status: 400,
      reason: 'body is not JSON',
    });
    const notEvent = JSON.stringify({ ...sampleEvent(), version: 2 });
    expect(
      openSignedEvent({ headers: signed(now, notEvent), body: notEvent, secret, now }),
    ).toEqual({ ok: false, status: 400, reason: 'event.version must be 1' });
  });
});
