/**
 * The StateStore contract: one suite every adapter runs (memory, DynamoDB on dynalite), so the
 * memory store used by unit tests can never drift from what DynamoDB does.
 */
import { describe, expect, it } from 'vitest';
import { ChannelError } from '../../lib/errors.js';
import { cond, type StateItem, type StateStore } from '../../lib/state/port.js';
import { conditionCases } from './contract-conditions.js';

export interface ContractTarget {
  /** A store on fresh, empty data. */
  store: StateStore;
  /** The same data read with tiny query pages (the same store where paging does not apply). */
  pagedStore: StateStore;
}

const rich: StateItem = {
  pk: 'p',
  sk: 's',
  text: '你好，世界 — emoji 😀 and ～',
  empty: '',
  zero: 0,
  negative: -12.5,
  big: 2 ** 52,
  yes: true,
  no: false,
  nothing: null,
  list: [1, 'two', null, [3], { four: 4 }],
  emptyList: [],
  map: { nested: { deeper: ['x'] }, 中文键: '值' },
  emptyMap: {},
  expiresAt: 1_767_225_600,
};

async function expectInvalid(promise: Promise<unknown>, code = 'invalid_state_input') {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ChannelError);
  expect((err as ChannelError).code).toBe(code);
}

/** Registers the contract suite for one adapter; `open` gives a store on empty data per test. */
export function describeStateStoreContract(name: string, open: () => Promise<ContractTarget>) {
  describe(`StateStore contract: ${name}`, () => {
    describeBasics(open);
    describeConditions(open);
    describeUpdateAndDelete(open);
    describeQuery(open);
    describeConcurrency(open);
    describeBadInput(open);
  });
}

function describeBasics(open: () => Promise<ContractTarget>) {
  describe('get and put', () => {
    it('returns undefined for an absent item', async () => {
      const { store } = await open();
      expect(await store.get('p', 'nothing')).toBeUndefined();
    });

    it('round-trips every JSON value kind, unicode included', async () => {
      const { store } = await open();
      expect(await store.put(rich)).toEqual({ ok: true });
      expect(await store.get('p', 's')).toEqual(rich);
    });

    it('keys may hold Chinese text, emoji and separators', async () => {
      const { store } = await open();
      const item = { pk: '会话#a:b=c+d/e', sk: '消息😀#%', v: '值' };
      await store.put(item);
      expect(await store.get(item.pk, item.sk)).toEqual(item);
      expect(await store.get(item.pk, '消息😀')).toBeUndefined();
    });

    it('put replaces the whole item and drops undefined attributes', async () => {
      const { store } = await open();
      await store.put({ pk: 'p', sk: 's', a: 1, b: 2 });
      await store.put({ pk: 'p', sk: 's', a: 3, c: undefined });
      expect(await store.get('p', 's')).toEqual({ pk: 'p', sk: 's', a: 3 });
    });

    it('returns expired items: expiry is the caller’s check, not the store’s', async () => {
      const { store } = await open();
      await store.put({ pk: 'p', sk: 'old', expiresAt: 1 });
      expect(await store.get('p', 'old')).toEqual({ pk: 'p', sk: 'old', expiresAt: 1 });
      expect(await store.query('p')).toHaveLength(1);
    });

    it('isolates stored items from callers’ objects', async () => {
      const { store } = await open();
      const input: StateItem = { pk: 'p', sk: 's', map: { n: 1 }, list: [1] };
      await store.put(input);
      (input.map as { n: number }).n = 99;
      (input.list as number[]).push(2);
      const got = (await store.get('p', 's'))!;
      (got.map as { n: number }).n = 100;
      const [queried] = await store.query('p');
      (queried!.list as number[]).push(3);
      const failed = await store.put({ pk: 'p', sk: 's' }, cond.notExists());
      if (failed.ok) throw new Error('condition should fail');
      (failed.current!.map as { n: number }).n = 101;
      expect(await store.get('p', 's')).toEqual({ pk: 'p', sk: 's', map: { n: 1 }, list: [1] });
    });

    it('rejects use after close with state_unavailable', async () => {
      const { store } = await open();
      await store.close();
      await expectInvalid(store.get('p', 's'), 'state_unavailable');
    });
  });
}

function describeConditions(open: () => Promise<ContractTarget>) {
  describe('conditions', () => {
    for (const c of conditionCases) {
      it(`${c.name} → ${c.holds ? 'writes' : 'fails with the current item'}`, async () => {
        const { store } = await open();
        const stored = c.stored ? { pk: 'p', sk: 's', ...c.stored } : undefined;
        if (stored) await store.put(stored);
        const result = await store.put({ pk: 'p', sk: 's', written: true }, c.condition);
        if (c.holds) {
          expect(result).toEqual({ ok: true });
          expect(await store.get('p', 's')).toEqual({ pk: 'p', sk: 's', written: true });
        } else {
          expect(result).toEqual({ ok: false, current: stored });
          expect(await store.get('p', 's')).toEqual(stored);
        }
      });
    }

    it('absentOrExpired claims an expired record and then blocks others', async () => {
      const { store } = await open();
      const key = { pk: 'dedup', sk: 'claim' };
      await store.put({ ...key, owner: 'a', expiresAt: 100 });
      expect(
        await store.put({ ...key, owner: 'b', expiresAt: 200 }, cond.absentOrExpired(150)),
      ).toEqual({
        ok: true,
      });
      const third = await store.put(
        { ...key, owner: 'c', expiresAt: 300 },
        cond.absentOrExpired(150),
      );
      expect(third).toEqual({ ok: false, current: { ...key, owner: 'b', expiresAt: 200 } });
    });
  });
}

function describeUpdateAndDelete(open: () => Promise<ContractTarget>) {
  describe('update', () => {
    it('creates an absent item when unconditional', async () => {
      const { store } = await open();
      expect(await store.update('p', 's', { n: 1, text: '新' })).toEqual({ ok: true });
      expect(await store.get('p', 's')).toEqual({ pk: 'p', sk: 's', n: 1, text: '新' });
    });

    it('sets, replaces and removes attributes, keeping the others', async () => {
      const { store } = await open();
      await store.put({ pk: 'p', sk: 's', keep: 'k', change: 1, drop: 'x', map: { a: 1, b: 2 } });
      await store.update('p', 's', { change: 2, drop: undefined, add: [1], map: { c: 3 } });
      expect(await store.get('p', 's')).toEqual({
        pk: 'p',
        sk: 's',
        keep: 'k',
        change: 2,
        add: [1],
        map: { c: 3 },
      });
    });

    it('removing the last attribute leaves the keys', async () => {
      const { store } = await open();
      await store.put({ pk: 'p', sk: 's', only: 1 });
      await store.update('p', 's', { only: undefined });
      expect(await store.get('p', 's')).toEqual({ pk: 'p', sk: 's' });
    });

    it('checks the condition and reports the current item', async () => {
      const { store } = await open();
      await store.put({ pk: 'p', sk: 's', version: 1 });
      expect(await store.update('p', 's', { version: 2 }, cond.equals('version', 1))).toEqual({
        ok: true,
      });
      const stale = await store.update('p', 's', { version: 2 }, cond.equals('version', 1));
      expect(stale).toEqual({ ok: false, current: { pk: 'p', sk: 's', version: 2 } });
    });

    it('with exists on an absent item fails and creates nothing', async () => {
      const { store } = await open();
      expect(await store.update('p', 's', { n: 1 }, cond.exists())).toEqual({
        ok: false,
        current: undefined,
      });
      expect(await store.get('p', 's')).toBeUndefined();
    });

    it('with notExists creates the item once', async () => {
      const { store } = await open();
      expect((await store.update('p', 's', { n: 1 }, cond.notExists())).ok).toBe(true);
      expect((await store.update('p', 's', { n: 2 }, cond.notExists())).ok).toBe(false);
      expect(await store.get('p', 's')).toEqual({ pk: 'p', sk: 's', n: 1 });
    });

    it('sets and clears expiresAt', async () => {
      const { store } = await open();
      await store.update('p', 's', { expiresAt: 500 });
      expect((await store.put({ pk: 'p', sk: 's' }, cond.absentOrExpired(400))).ok).toBe(false);
      await store.update('p', 's', { expiresAt: undefined });
      expect(await store.get('p', 's')).toEqual({ pk: 'p', sk: 's' });
    });
  });

  describe('delete', () => {
    it('deleting an absent item without a condition is ok', async () => {
      const { store } = await open();
      expect(await store.delete('p', 'missing')).toEqual({ ok: true });
    });

    it('deletes only when the condition holds', async () => {
      const { store } = await open();
      const item = { pk: 'p', sk: 's', code: 'ABCD2345' };
      await store.put(item);
      expect(await store.delete('p', 's', cond.equals('code', 'ZZZZ2345'))).toEqual({
        ok: false,
        current: item,
      });
      expect(await store.get('p', 's')).toEqual(item);
      expect(await store.delete('p', 's', cond.equals('code', 'ABCD2345'))).toEqual({ ok: true });
      expect(await store.get('p', 's')).toBeUndefined();
    });

    it('conditional delete of an absent item fails with no current item', async () => {
      const { store } = await open();
      expect(await store.delete('p', 's', cond.exists())).toEqual({
        ok: false,
        current: undefined,
      });
    });
  });
}

function describeQuery(open: () => Promise<ContractTarget>) {
  describe('query', () => {
    it('returns one partition in ascending sk order', async () => {
      const { store } = await open();
      for (const sk of ['b', 'a#2', 'c', 'a#10', 'a#1']) await store.put({ pk: 'p', sk, v: sk });
      await store.put({ pk: 'other', sk: 'a#0' });
      await store.put({ pk: 'p2', sk: 'a#0' });
      const sks = (await store.query('p')).map((i) => i.sk);
      expect(sks).toEqual(['a#1', 'a#10', 'a#2', 'b', 'c']);
    });

    it('orders by UTF-8 bytes like DynamoDB (emoji after ～, unlike UTF-16 order)', async () => {
      const { store } = await open();
      const sks = ['😀', '～', '中', 'z', 'A', 'a'];
      for (const sk of sks) await store.put({ pk: 'p', sk });
      expect((await store.query('p')).map((i) => i.sk)).toEqual(['A', 'a', 'z', '中', '～', '😀']);
    });

    it('filters by sk prefix and applies the limit', async () => {
      const { store } = await open();
      for (const sk of ['code#B', 'code#A', 'sender#x', 'slot#0', 'code#C', 'cod']) {
        await store.put({ pk: 'p', sk });
      }
      expect((await store.query('p', { skPrefix: 'code#' })).map((i) => i.sk)).toEqual([
        'code#A',
        'code#B',
        'code#C',
      ]);
      expect((await store.query('p', { skPrefix: 'code#', limit: 2 })).map((i) => i.sk)).toEqual([
        'code#A',
        'code#B',
      ]);
      expect(await store.query('p', { skPrefix: 'zzz' })).toEqual([]);
      expect(await store.query('nobody')).toEqual([]);
    });

    it('pages through many items in order, with and without a limit', async () => {
      const { store, pagedStore } = await open();
      const sks = Array.from({ length: 25 }, (_, i) => `q#${String(i).padStart(3, '0')}`);
      await Promise.all(sks.map((sk) => store.put({ pk: 'p', sk, text: '长'.repeat(50) })));
      await store.put({ pk: 'p', sk: 'r#after' });
      expect((await pagedStore.query('p', { skPrefix: 'q#' })).map((i) => i.sk)).toEqual(sks);
      expect((await pagedStore.query('p', { limit: 10 })).map((i) => i.sk)).toEqual(
        sks.slice(0, 10),
      );
      expect(await pagedStore.query('p')).toHaveLength(26);
    });

    it('pages through more than 1 MB of data', async () => {
      const { store } = await open();
      const big = 'x'.repeat(100_000);
      const sks = Array.from({ length: 14 }, (_, i) => `big#${String(i).padStart(2, '0')}`);
      for (const sk of sks) await store.put({ pk: 'p', sk, big });
      const items = await store.query('p');
      expect(items.map((i) => i.sk)).toEqual(sks);
      expect(items.every((i) => i.big === big)).toBe(true);
    });
  });
}

function describeConcurrency(open: () => Promise<ContractTarget>) {
  describe('concurrency', () => {
    it('N parallel conditional puts on one key: exactly one wins', async () => {
      const { store } = await open();
      const results = await Promise.all(
        Array.from({ length: 25 }, (_, i) =>
          store.put({ pk: 'p', sk: 'claim', owner: `w${i}` }, cond.notExists()),
        ),
      );
      const winners = results.flatMap((r, i) => (r.ok ? [`w${i}`] : []));
      expect(winners).toHaveLength(1);
      const stored = await store.get('p', 'claim');
      expect(stored?.owner).toBe(winners[0]);
      for (const r of results) if (!r.ok) expect(r.current).toEqual(stored);
    });

    it('parallel claims of one expired record: exactly one wins', async () => {
      const { store } = await open();
      await store.put({ pk: 'p', sk: 'lease', owner: 'dead', expiresAt: 10 });
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          store.put(
            { pk: 'p', sk: 'lease', owner: `w${i}`, expiresAt: 100 },
            cond.absentOrExpired(50),
          ),
        ),
      );
      expect(results.filter((r) => r.ok)).toHaveLength(1);
    });

    it('optimistic read-modify-write loses no increment', async () => {
      const { store } = await open();
      await store.put({ pk: 'p', sk: 'counter', version: 0 });
      const increment = async () => {
        for (;;) {
          const current = (await store.get('p', 'counter'))!;
          const version = current.version as number;
          const r = await store.update(
            'p',
            'counter',
            { version: version + 1 },
            cond.equals('version', version),
          );
          if (r.ok) return;
        }
      };
      await Promise.all(Array.from({ length: 8 }, increment));
      expect((await store.get('p', 'counter'))?.version).toBe(8);
    });
  });
}

function describeBadInput(open: () => Promise<ContractTarget>) {
  describe('bad input is rejected with invalid_state_input', () => {
    it('empty keys, non-JSON values, ms timestamps, empty or/and, bad limits', async () => {
      const { store } = await open();
      await expectInvalid(store.put({ pk: '', sk: 's' }));
      await expectInvalid(store.get('p', ''));
      await expectInvalid(store.put({ pk: 'p', sk: 's', n: Number.NaN }));
      await expectInvalid(store.put({ pk: 'p', sk: 's', d: new Date() as never }));
      await expectInvalid(store.put({ pk: 'p', sk: 's', expiresAt: Date.now() }));
      await expectInvalid(store.put({ pk: 'p', sk: 's' }, cond.absentOrExpired(Date.now())));
      await expectInvalid(store.put({ pk: 'p', sk: 's' }, cond.or()));
      await expectInvalid(store.update('p', 's', { pk: 'other' }));
      await expectInvalid(store.query('p', { limit: 0 }));
      await expectInvalid(store.put({ pk: 'p', sk: 'x'.repeat(1025) }));
      expect(await store.query('p')).toEqual([]);
    });

    it('rejects items over 400 KB with state_item_too_large', async () => {
      const { store } = await open();
      await expectInvalid(
        store.put({ pk: 'p', sk: 's', big: 'x'.repeat(410 * 1024) }),
        'state_item_too_large',
      );
      await store.put({ pk: 'p', sk: 's', big: 'x'.repeat(300 * 1024) });
      await expectInvalid(
        store.update('p', 's', { more: 'y'.repeat(200 * 1024) }),
        'state_item_too_large',
      );
    });
  });
}
