import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ChannelError } from '../../lib/errors.js';
import {
  escapeId,
  type ItemKey,
  isExpired,
  keys,
  PAIRING_SLOTS,
  unescapeId,
} from '../../lib/state/keys.js';
import { MemoryStateStore } from '../../lib/state/memory.js';

// Ids built from the characters most likely to break a naive layout.
const id = fc
  .array(fc.constantFrom('a', 'B', '#', '%', '2', '3', '5', ':', '=', '+', '/', '中', '😀'), {
    minLength: 1,
    maxLength: 8,
  })
  .map((chars) => chars.join(''));

const keyString = (k: ItemKey) => `${k.pk}\u0000${k.sk}`;

/** Every record of one (account, a, b) input, labelled by kind. */
function allKeys(account: string, a: string, b: string, n: number): [string, ItemKey][] {
  return [
    ['pairingSender', keys.pairingSender(account, a)],
    ['pairingSlot', keys.pairingSlot(account, n % PAIRING_SLOTS)],
    ['pairingRequest', keys.pairingRequest(account, a)],
    ['allowEntry', keys.allowEntry(account, a)],
    ['dedupClaim', keys.dedupClaim(account, a)],
    ['sessionMeta', keys.sessionMeta(account, a)],
    ['sessionHistory', keys.sessionHistory(account, a, n)],
    ['sessionLease', keys.sessionLease(account, a)],
    ['sessionQueueEntry', keys.sessionQueueEntry(account, a, n, b)],
    ['groupHint', keys.groupHint(account, a)],
  ];
}

function expectInvalid(fn: () => unknown) {
  expect(fn).toThrow(ChannelError);
  try {
    fn();
  } catch (err) {
    expect((err as ChannelError).code).toBe('invalid_state_input');
  }
}

describe('state keys', () => {
  it('escaping is reversible and leaves no raw separator', () => {
    fc.assert(
      fc.property(id, (raw) => {
        const escaped = escapeId(raw);
        expect(escaped).not.toContain('#');
        expect(unescapeId(escaped)).toBe(raw);
      }),
    );
  });

  it('distinct inputs never share a key, within or across record kinds', () => {
    fc.assert(
      fc.property(
        fc.tuple(id, id, id, fc.nat(50)),
        fc.tuple(id, id, id, fc.nat(50)),
        ([acc1, a1, b1, n1], [acc2, a2, b2, n2]) => {
          const first = allKeys(acc1, a1, b1, n1);
          const second = allKeys(acc2, a2, b2, n2);
          // Within one input, every kind has its own key.
          expect(new Set(first.map(([, k]) => keyString(k))).size).toBe(first.length);
          // Same key across inputs only for the same kind with equal (normalised) parts.
          for (const [kind1, k1] of first) {
            for (const [kind2, k2] of second) {
              if (keyString(k1) !== keyString(k2)) continue;
              expect(kind1).toBe(kind2);
              expect(acc1).toBe(acc2);
              // Only codes (upper-cased), allowlist ids (lower-cased) and slot numbers fold.
              if (!['pairingRequest', 'allowEntry', 'pairingSlot'].includes(kind1)) {
                expect(a1).toBe(a2);
              }
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('keeps ids case-preserving and readable; separators other than # pass through', () => {
    const k = keys.dedupClaim('Work+1', 'msgAbC/x=y:z');
    expect(k).toEqual({ pk: 'dedup#Work+1#msgAbC/x=y:z', sk: 'claim' });
    expect(keys.dedupClaim('a#b', 'c')).not.toEqual(keys.dedupClaim('a', 'b#c'));
    expect(keys.dedupClaim('a%23', 'c')).not.toEqual(keys.dedupClaim('a#', 'c'));
    expect(keys.sessionMeta('work', 'dingtalk:work:dm:0418245234').pk).toBe(
      'session#work#dingtalk:work:dm:0418245234',
    );
  });

  it('every partition key starts with a record-type prefix and includes the account', () => {
    for (const [, k] of allKeys('Acct', 'x', 'y', 1)) {
      expect(k.pk).toMatch(/^(pairing|allow|dedup|session|grouphint)#Acct(#|$)/);
    }
  });

  it('pairing codes match case-insensitively; allowlist keys fold case', () => {
    expect(keys.pairingRequest('a', ' abcd2345 ')).toEqual(keys.pairingRequest('a', 'ABCD2345'));
    expect(keys.allowEntry('a', 'Manager807')).toEqual(keys.allowEntry('a', 'manager807'));
    expect(keys.pairingSender('a', 'User1')).not.toEqual(keys.pairingSender('a', 'user1'));
  });

  it('session queue entries sort in arrival order (createAt, then msgId)', async () => {
    const store = new MemoryStateStore();
    const arrivals = [
      [9, 'm-b'],
      [1_767_225_600_123, 'm-late'],
      [10, 'm-a'],
      [9, 'm-a'],
    ] as const;
    for (const [createAt, msgId] of arrivals) {
      await store.put({ ...keys.sessionQueueEntry('w', 's', createAt, msgId), msgId, createAt });
    }
    await store.put({ ...keys.sessionLease('w', 's'), msgId: 'x' });
    await store.put({ ...keys.sessionMeta('w', 's'), generation: 1 });
    await store.put({ ...keys.sessionHistory('w', 's', 1), turns: [] });
    const q = keys.sessionQueue('w', 's');
    const order = (await store.query(q.pk, { skPrefix: q.skPrefix })).map((i) => i.msgId);
    expect(order).toEqual(['m-a', 'm-b', 'm-a', 'm-late']);
  });

  it('pairing queries see only their own record kind', async () => {
    const store = new MemoryStateStore();
    await store.put({ ...keys.pairingSender('w', 'code#X'), code: 'ABCD2345' });
    await store.put({ ...keys.pairingSlot('w', 0), code: 'ABCD2345' });
    await store.put({ ...keys.pairingRequest('w', 'ABCD2345'), senderId: 'code#X' });
    await store.put({ ...keys.pairingRequest('other', 'ZZZZ2345'), senderId: 'y' });
    const requests = keys.pairingRequests('w');
    const found = await store.query(requests.pk, { skPrefix: requests.skPrefix });
    expect(found.map((i) => i.senderId)).toEqual(['code#X']);
    const slots = keys.pairingSlots('w');
    expect(await store.query(slots.pk, { skPrefix: slots.skPrefix })).toHaveLength(1);
  });

  it('rejects empty ids, bad numbers and oversized keys with invalid_state_input', () => {
    expectInvalid(() => keys.dedupClaim('', 'm'));
    expectInvalid(() => keys.dedupClaim('a', ''));
    expectInvalid(() => keys.pairingRequest('a', '   '));
    expectInvalid(() => keys.pairingSlot('a', PAIRING_SLOTS));
    expectInvalid(() => keys.pairingSlot('a', -1));
    expectInvalid(() => keys.sessionQueueEntry('a', 's', -1, 'm'));
    expectInvalid(() => keys.sessionQueueEntry('a', 's', 1.5, 'm'));
    expectInvalid(() => keys.sessionHistory('a', 's', 1e10));
    expectInvalid(() => keys.pairingSender('a', 'x'.repeat(1100)));
    expectInvalid(() => keys.dedupClaim('a', 'x'.repeat(2100)));
    expectInvalid(() => keys.dedupClaim(undefined as unknown as string, 'm'));
  });

  it('isExpired agrees with cond.absentOrExpired (alive through its expiresAt second)', () => {
    expect(isExpired({ expiresAt: 100 }, 100)).toBe(false);
    expect(isExpired({ expiresAt: 100 }, 101)).toBe(true);
    expect(isExpired({}, 1e9)).toBe(false);
  });
});
