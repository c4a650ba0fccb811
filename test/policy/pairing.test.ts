import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  approveCommand,
  isPairingCodeShape,
  PAIRING_ALPHABET,
  PAIRING_CODE_LENGTH,
  pairingChallengeText,
  type RandomInt,
  randomPairingCode,
  uniquePairingCode,
} from '../../lib/policy/index.js';

/** A RandomInt that replays `indices`, then fails loudly. */
function scripted(indices: number[]): RandomInt {
  let i = 0;
  return (bound) => {
    expect(bound).toBe(PAIRING_ALPHABET.length);
    const next = indices[i++];
    if (next === undefined) throw new Error('scripted random exhausted');
    return next;
  };
}

describe('§3 Pairing: codes', () => {
  it('uses 8 characters from the alphabet without 0/O/1/I', () => {
    expect(PAIRING_ALPHABET).toHaveLength(32);
    expect(PAIRING_ALPHABET).not.toMatch(/[01OI]/);
    expect(PAIRING_CODE_LENGTH).toBe(8);
    for (let i = 0; i < 200; i++) {
      const code = randomPairingCode();
      expect(code).toMatch(/^[ABCDEFGHJKLMNPQRSTUVWXYZ23456789]{8}$/);
      expect(isPairingCodeShape(code)).toBe(true);
    }
  });

  it('maps every random index to its alphabet character', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 31 }), { minLength: 8, maxLength: 8 }),
        (ix) => {
          expect(randomPairingCode(scripted(ix))).toBe(ix.map((i) => PAIRING_ALPHABET[i]).join(''));
        },
      ),
    );
  });

  it('uses the cryptographic RNG by default (codes differ)', () => {
    const codes = new Set(Array.from({ length: 100 }, () => randomPairingCode()));
    expect(codes.size).toBe(100);
  });

  it('refuses a broken random source instead of producing a short code', () => {
    expect(() => randomPairingCode(() => 32)).toThrow(/not 0\.\.31/);
  });

  it('picks a code not among the pending ones', () => {
    const taken = new Set(['AAAAAAAA']);
    const random = scripted([...Array(8).fill(0), ...Array(8).fill(1)]);
    expect(uniquePairingCode(taken, random)).toBe('BBBBBBBB');
  });

  it('rejects strings that cannot be codes', () => {
    for (const bad of ['ABCD234', 'ABCD23450', 'ABCD2340', 'abcd2345', 'ABCD-345']) {
      expect(isPairingCodeShape(bad)).toBe(false);
    }
  });
});

describe('§3 Pairing: challenge text', () => {
  const text = pairingChallengeText({
    userId: 'manager807',
    code: 'ABCD2345',
    accountId: 'default',
    defaultAccountId: 'default',
  });

  it('states approval is needed, shows the user id, the code and the owner command', () => {
    expect(text).toMatch(/approved/i);
    expect(text).toContain('manager807');
    expect(text).toContain('ABCD2345');
    expect(text).toContain('dingtalk-channel pairing approve ABCD2345');
    expect(text).not.toContain('--account');
    expect(text).not.toContain('```');
    expect(text.length).toBeLessThan(400);
  });

  it('adds --account for a non-default account', () => {
    expect(approveCommand('ABCD2345', 'work', 'default')).toBe(
      'dingtalk-channel pairing approve ABCD2345 --account work',
    );
    expect(
      pairingChallengeText({
        userId: 'u',
        code: 'ABCD2345',
        accountId: 'work',
        defaultAccountId: 'default',
      }),
    ).toContain('pairing approve ABCD2345 --account work');
  });
});
