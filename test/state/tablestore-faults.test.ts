/**
 * The Tablestore adapter under failure, on the fake Tablestore through the real SDK: its own
 * bounded retry of throttling (the SDK's is off), the caller's deadline, an ambiguous write,
 * auth and missing-table errors, and the stored layout (typed columns, `_item` marker).
 */
import TableStore from 'tablestore';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ChannelError } from '../../lib/errors.js';
import { cond } from '../../lib/state/port.js';
import { prefixUpperBound, TablestoreStateStore } from '../../lib/state/tablestore.js';
import { escapeName, unescapeName } from '../../lib/state/tablestore-codec.js';
import {
  startTestTablestore,
  TEST_ACCESS_KEY_ID,
  TEST_ACCESS_KEY_SECRET,
  TEST_INSTANCE,
  type TestTablestore,
} from '../support/tablestore.js';

let ts: TestTablestore;
let n = 0;

beforeAll(async () => {
  ts = await startTestTablestore();
});
afterAll(async () => {
  await ts?.close();
});
beforeEach(() => ts.fake.faults.reset());

const fresh = (options: Parameters<TestTablestore['openStore']>[0] = {}) =>
  ts.openStore({ tableName: `faults_${++n}`, ...options });

async function rejection(promise: Promise<unknown>): Promise<ChannelError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ChannelError);
  return err as ChannelError;
}

describe('TablestoreStateStore retry', () => {
  it('retries throttled writes and reads (ServerBusy, QuotaExhausted, TableNotReady)', async () => {
    const store = await fresh();
    const before = ts.fake.calls().PutRow ?? 0;
    ts.fake.faults.throttle(1, { code: 'OTSServerBusy', operations: ['PutRow'] });
    ts.fake.faults.throttle(1, { code: 'OTSQuotaExhausted', operations: ['PutRow'] });
    ts.fake.faults.throttle(1, { code: 'OTSTableNotReady', operations: ['PutRow'] });
    expect(await store.put({ pk: 'p', sk: 's', v: 1 }, cond.notExists())).toEqual({ ok: true });
    expect((ts.fake.calls().PutRow ?? 0) - before).toBe(4);
    ts.fake.faults.throttle(2, { operations: ['GetRow'] });
    expect(await store.get('p', 's')).toEqual({ pk: 'p', sk: 's', v: 1 });
  });

  it('gives up after its attempts with a retryable error naming operation and table, no secret', async () => {
    const store = await fresh({ retry: { attempts: 3, baseMs: 1 } });
    const before = ts.fake.calls().UpdateRow ?? 0;
    ts.fake.faults.throttle(10, { operations: ['UpdateRow'] });
    const err = await rejection(store.update('p', 's', { v: 1 }));
    expect(err).toMatchObject({ code: 'state_unavailable', retryable: true });
    expect(err.message).toContain('UpdateRow');
    expect(err.message).toContain(store.tableName);
    expect(err.message).toContain('OTSServerBusy');
    expect(err.message).not.toContain(TEST_ACCESS_KEY_SECRET);
    // Exactly our attempts reached the server: the SDK's own retry is off.
    expect((ts.fake.calls().UpdateRow ?? 0) - before).toBe(3);
  });
});

describe('TablestoreStateStore deadline and ambiguity', () => {
  it('a store slower than the caller’s deadline ends the call with state_deadline', async () => {
    const store = await fresh();
    ts.fake.faults.latency(2_000);
    const started = Date.now();
    const err = await rejection(store.get('p', 's', { signal: AbortSignal.timeout(50) }));
    expect(err).toMatchObject({ code: 'state_deadline', retryable: true });
    expect(err.message).toContain('GetRow');
    expect(Date.now() - started).toBeLessThan(1_500);
    const aborted = AbortSignal.abort();
    expect(
      (await rejection(store.put({ pk: 'p', sk: 's' }, undefined, { signal: aborted }))).code,
    ).toBe('state_deadline');
  });

  it('an ambiguous write is a retryable error, and its conditional semantics still hold', async () => {
    const store = await fresh();
    ts.fake.faults.dropAfterWrite(1);
    const err = await rejection(store.put({ pk: 'd', sk: 'claim', owner: 'a' }, cond.notExists()));
    expect(err).toMatchObject({ code: 'state_unavailable', retryable: true });
    expect(err.message).toContain('may or may not have happened');
    // The write did happen: a retry of the same claim loses against it, and reports it.
    expect(await store.put({ pk: 'd', sk: 'claim', owner: 'b' }, cond.notExists())).toEqual({
      ok: false,
      current: { pk: 'd', sk: 'claim', owner: 'a' },
    });
  });
});

describe('TablestoreStateStore errors and layout', () => {
  it('a wrong secret is a final state_unavailable that shows no credential', async () => {
    await fresh({ tableName: 'auth_table' });
    const store = new TablestoreStateStore({
      endpoint: ts.endpoint,
      instance: TEST_INSTANCE,
      tableName: 'auth_table',
      accessKeyId: TEST_ACCESS_KEY_ID,
      accessKeySecret: 'a-wrong-secret-4711',
    });
    const err = await rejection(store.get('p', 's'));
    expect(err).toMatchObject({ code: 'state_unavailable', retryable: false });
    expect(err.message).toContain('OTSAuthFailed');
    expect(err.message).not.toContain('a-wrong-secret-4711');
    await store.close();
  });

  it('a missing table is a retryable state_unavailable naming it', async () => {
    const store = new TablestoreStateStore({
      endpoint: ts.endpoint,
      instance: TEST_INSTANCE,
      tableName: 'no_such_table',
      accessKeyId: TEST_ACCESS_KEY_ID,
      accessKeySecret: TEST_ACCESS_KEY_SECRET,
    });
    const err = await rejection(store.put({ pk: 'p', sk: 's' }));
    expect(err).toMatchObject({ code: 'state_unavailable', retryable: true });
    expect(err.message).toContain('no_such_table');
    expect(err.message).toContain('OTSObjectNotExist');
    await store.close();
  });

  it('refuses a pk over Tablestore’s 1 KB key limit before sending', async () => {
    const store = await fresh();
    expect((await rejection(store.put({ pk: 'x'.repeat(1025), sk: 's' }))).code).toBe(
      'invalid_state_input',
    );
  });

  it('stores typed columns and the _item marker, as documented in tablestore-codec.ts', async () => {
    const store = await fresh();
    await store.put({ pk: 'p', sk: 's', status: 'OK', version: 3, 'a.b': true, list: [1] });
    const raw = (await ts.client.getRow({
      tableName: store.tableName,
      primaryKey: [{ pk: 'p' }, { sk: 's' }],
      maxVersions: 1,
    } as never)) as { row: { attributes: Array<{ columnName: string; columnValue: unknown }> } };
    const columns = Object.fromEntries(
      raw.row.attributes.map((a) => [a.columnName, a.columnValue]),
    );
    expect(columns).toEqual({
      _item: true,
      s_status: 'OK',
      n_version: 3,
      b_a_2Eb: true,
      j_list: '[1]',
    });
  });

  it('escapes attribute names reversibly into legal column names', () => {
    for (const name of ['plain', 'snake_case', 'a.b', 'with space', '中文', '_x_', '__', 'a_2E']) {
      const escaped = escapeName(name);
      expect(escaped).toMatch(/^[A-Za-z0-9_]+$/);
      expect(unescapeName(escaped)).toBe(name);
    }
  });

  it('bounds a prefix scan exactly in UTF-8 byte order', () => {
    expect(prefixUpperBound('code#')).toBe('code$');
    expect(prefixUpperBound('a😀')).toBe('a😁');
    expect(prefixUpperBound(`a${String.fromCodePoint(0x10ffff)}`)).toBe('b');
    expect(prefixUpperBound(String.fromCodePoint(0x10ffff))).toBeUndefined();
    expect(prefixUpperBound('\ud7ff')).toBe('\ue000');
  });

  it('queries a prefix that emoji continue (beyond U+FFFF)', async () => {
    const store = await fresh();
    for (const sk of ['p#a', 'p#😀', 'p#\uffff', 'p$', 'p']) await store.put({ pk: 'q', sk });
    expect((await store.query('q', { skPrefix: 'p#' })).map((i) => i.sk)).toEqual([
      'p#a',
      'p#\uffff',
      'p#😀',
    ]);
  });
});

describe('TablestoreStateStore reading rows it did not write', () => {
  it('ignores foreign columns and refuses a j_ column that holds no JSON', async () => {
    const store = await fresh();
    const write = (sk: string, columns: Array<Record<string, unknown>>) =>
      ts.client.putRow({
        tableName: store.tableName,
        condition: new TableStore.Condition(TableStore.RowExistenceExpectation.IGNORE, null),
        primaryKey: [{ pk: 'p' }, { sk }],
        attributeColumns: columns,
      } as never);
    await write('foreign', [{ _item: true }, { s_name: 'kept' }, { OtherTool: 'x' }]);
    expect(await store.get('p', 'foreign')).toEqual({ pk: 'p', sk: 'foreign', name: 'kept' });
    await write('broken', [{ _item: true }, { j_list: '[1,' }]);
    const err = await rejection(store.get('p', 'broken'));
    expect(err).toMatchObject({ code: 'state_unavailable', retryable: false });
    expect(err.message).toContain('j_list');
  });
});

describe('TablestoreStateStore conditions run inside Tablestore', () => {
  it('a conditional write that holds is one PutRow/UpdateRow/DeleteRow and no read', async () => {
    const store = await fresh();
    await store.put({ pk: 'c', sk: 'lease', owner: 'old', expiresAt: 10 });
    const before = ts.fake.calls();
    const count = (op: string) => (ts.fake.calls()[op] ?? 0) - (before[op] ?? 0);
    expect(
      await store.put(
        { pk: 'c', sk: 'lease', owner: 'new', expiresAt: 99 },
        cond.absentOrExpired(50),
      ),
    ).toEqual({ ok: true });
    expect(
      await store.update('c', 'lease', { owner: 'newer' }, cond.equals('owner', 'new')),
    ).toEqual({ ok: true });
    expect(
      await store.delete('c', 'lease', cond.and(cond.exists(), cond.lessThan('expiresAt', 100))),
    ).toEqual({
      ok: true,
    });
    expect([count('PutRow'), count('UpdateRow'), count('DeleteRow'), count('GetRow')]).toEqual([
      1, 1, 1, 0,
    ]);
  });
});
