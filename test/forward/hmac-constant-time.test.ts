/**
 * The signature comparison must be constant-time. Timing cannot be asserted reliably, so this
 * checks that verification goes through `crypto.timingSafeEqual` (spied at the Node boundary)
 * for every well-formed signature, matching or not.
 */
import * as crypto from 'node:crypto';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { signHmacRequest, verifyHmacRequest } from '../../lib/forward/hmac.js';

vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:crypto')>();
  return { ...actual, timingSafeEqual: vi.fn(actual.timingSafeEqual) };
});

const secret = 'relay-hmac-secret-0123456789';
const now = 1_767_268_800_000;

describe('HMAC verification', () => {
  beforeEach(() => {
    vi.mocked(crypto.timingSafeEqual).mockClear();
  });

  it('compares a valid signature with timingSafeEqual', () => {
    const headers = signHmacRequest({ secret, body: 'x', now });
    expect(verifyHmacRequest({ headers, body: 'x', secret, now }).ok).toBe(true);
    expect(crypto.timingSafeEqual).toHaveBeenCalledTimes(1);
  });

  it('compares a wrong signature with timingSafeEqual too', () => {
    const headers = signHmacRequest({ secret, body: 'x', now });
    expect(verifyHmacRequest({ headers, body: 'y', secret, now }).ok).toBe(false);
    expect(crypto.timingSafeEqual).toHaveBeenCalledTimes(1);
  });
});
