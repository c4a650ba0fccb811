/**
 * The fake Tablestore checked against Tablestore's documented behaviour, driven by the real
 * `tablestore` SDK (never by our adapter), so it is a fake of Tablestore and not of our code.
 * Sources:
 * - Error codes: https://www.alibabacloud.com/help/en/tablestore/developer-reference/error-codes
 * - Conditional updates (row existence, column conditions, passIfMissing, ≤ 10 conditions):
 *   https://www.alibabacloud.com/help/en/tablestore/developer-reference/configure-conditional-update-by-using-nodejs-sdk
 * - GetRange (inclusive start, exclusive end, INF_MIN/INF_MAX, limit, next_start_primary_key):
 *   https://www.alibabacloud.com/help/en/tablestore/developer-reference/read-data-by-using-nodejs-sdk
 * - Limits (names, 1 KB primary key value, 2 MB column value, TTL ≥ 86400):
 *   https://www.alibabacloud.com/help/en/tablestore/product-overview/general-limits
 */
import { request } from 'node:http';
import TableStore from 'tablestore';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeTablestore, startFakeTablestore } from '../../lib/tablestore-fake/index.js';

const ID = 'LTAI-fake-id';
const SECRET = 'fake-secret-value';
const INSTANCE = 'inst';

let fake: FakeTablestore;
let client: TableStore.Client;
let n = 0;
let table: string;

const sdk = (secret = SECRET, id = ID, instance = INSTANCE) =>
  new TableStore.Client({
    accessKeyId: id,
    secretAccessKey: secret,
    endpoint: fake.endpoint,
    instancename: instance,
    maxRetries: 0,
  });

/** The SDK's error: `code` is the HTTP status, the body (Error{code,message}) is in `message`. */
async function failure(promise: Promise<unknown>): Promise<{ status: unknown; text: string }> {
  const err = (await promise.then(
    () => ({ code: 'no error', message: '' }),
    (e: unknown) => e,
  )) as { code: unknown; message: string };
  return { status: err.code, text: err.message };
}

const cond = (existence: number, column: TableStore.ColumnCondition | null = null) =>
  new TableStore.Condition(existence as never, column);
const IGNORE = TableStore.RowExistenceExpectation.IGNORE;
const EXPECT_EXIST = TableStore.RowExistenceExpectation.EXPECT_EXIST;
const EXPECT_NOT_EXIST = TableStore.RowExistenceExpectation.EXPECT_NOT_EXIST;

async function createTable(name: string, options: Record<string, number> = {}) {
  await client.createTable({
    tableMeta: {
      tableName: name,
      primaryKey: [
        { name: 'pk', type: 'STRING' },
        { name: 'sk', type: 'STRING' },
      ],
    },
    reservedThroughput: { capacityUnit: { read: 0, write: 0 } },
    tableOptions: { timeToLive: -1, maxVersions: 1, ...options },
  } as never);
}

function put(sk: string, columns: Array<Record<string, unknown>>, condition = cond(IGNORE)) {
  return client.putRow({
    tableName: table,
    condition,
    primaryKey: [{ pk: 'p' }, { sk }],
    attributeColumns: columns,
  } as never);
}

async function get(sk: string) {
  const out = (await client.getRow({
    tableName: table,
    primaryKey: [{ pk: 'p' }, { sk }],
    maxVersions: 1,
  } as never)) as { row: { attributes?: Array<{ columnName: string; columnValue: unknown }> } };
  if (!out.row.attributes && !('primaryKey' in out.row)) return undefined;
  return Object.fromEntries((out.row.attributes ?? []).map((a) => [a.columnName, a.columnValue]));
}

beforeAll(async () => {
  fake = await startFakeTablestore({
    accessKeyId: ID,
    accessKeySecret: SECRET,
    instance: INSTANCE,
  });
  client = sdk();
});
afterAll(async () => {
  await fake?.close();
});
beforeEach(async () => {
  fake.faults.reset();
  table = `t${++n}`;
  await createTable(table);
});

describe('fake Tablestore: rows and conditions', () => {
  it('PutRow replaces the whole row; GetRow of an absent row is empty', async () => {
    await put('a', [{ x: 'one' }, { y: 1.5 }, { z: true }]);
    expect(await get('a')).toEqual({ x: 'one', y: 1.5, z: true });
    await put('a', [{ y: 2 }]);
    expect(await get('a')).toEqual({ y: 2 });
    expect(await get('missing')).toBeUndefined();
  });

  it('a failed row existence check is 403 OTSConditionCheckFail and changes nothing', async () => {
    await put('a', [{ x: 'one' }]);
    const err = await failure(put('a', [{ x: 'two' }], cond(EXPECT_NOT_EXIST)));
    expect(err.status).toBe(403);
    expect(err.text).toContain('OTSConditionCheckFail');
    expect(err.text).toContain('Condition check failed.');
    expect(await get('a')).toEqual({ x: 'one' });
    const absent = await failure(put('b', [{ x: 'one' }], cond(EXPECT_EXIST)));
    expect(absent.status).toBe(403);
    expect(await get('b')).toBeUndefined();
  });

  it('SingleColumnCondition passes on a missing column by default (passIfMissing = true)', async () => {
    await put('a', [{ x: 'one' }]);
    const onMissing = new TableStore.SingleColumnCondition(
      'nope',
      'v',
      TableStore.ComparatorType.EQUAL,
    );
    await put('a', [{ x: 'two' }], cond(IGNORE, onMissing));
    expect(await get('a')).toEqual({ x: 'two' });
    const strict = new TableStore.SingleColumnCondition(
      'nope',
      'v',
      TableStore.ComparatorType.EQUAL,
      false,
    );
    expect((await failure(put('a', [{ x: 'three' }], cond(IGNORE, strict)))).status).toBe(403);
    // An absent row has no columns: passIfMissing decides there too.
    await put('new', [{ x: 'created' }], cond(IGNORE, onMissing));
    expect(await get('new')).toEqual({ x: 'created' });
    expect((await failure(put('other', [{ x: 'no' }], cond(IGNORE, strict)))).status).toBe(403);
  });

  it('relational operators and composite NOT/AND/OR are evaluated on the stored values', async () => {
    await put('a', [{ n: 5 }, { s: 'abc' }]);
    const c = (column: string, value: unknown, op: number) =>
      new TableStore.SingleColumnCondition(column, value as never, op as never, false);
    const and = new TableStore.CompositeCondition(TableStore.LogicalOperator.AND);
    and.addSubCondition(c('n', 5, TableStore.ComparatorType.GREATER_EQUAL));
    and.addSubCondition(c('s', 'abd', TableStore.ComparatorType.LESS_THAN));
    await put('a', [{ n: 5 }, { s: 'abc' }, { ok: 1 }], cond(EXPECT_EXIST, and));
    expect(await get('a')).toMatchObject({ ok: 1 });
    const not = new TableStore.CompositeCondition(TableStore.LogicalOperator.NOT);
    not.addSubCondition(c('n', 5, TableStore.ComparatorType.EQUAL));
    expect((await failure(put('a', [{ n: 6 }], cond(EXPECT_EXIST, not)))).status).toBe(403);
    const or = new TableStore.CompositeCondition(TableStore.LogicalOperator.OR);
    or.addSubCondition(c('n', 4, TableStore.ComparatorType.LESS_THAN));
    or.addSubCondition(c('s', 'abc', TableStore.ComparatorType.NOT_EQUAL));
    expect((await failure(put('a', [{ n: 6 }], cond(IGNORE, or)))).status).toBe(403);
  });

  it('more than 10 column conditions is 400 OTSParameterInvalid', async () => {
    const and = new TableStore.CompositeCondition(TableStore.LogicalOperator.AND);
    for (let i = 0; i < 11; i++) {
      and.addSubCondition(
        new TableStore.SingleColumnCondition(`c${i}`, 1, TableStore.ComparatorType.EQUAL),
      );
    }
    const err = await failure(put('a', [{ x: 1 }], cond(IGNORE, and)));
    expect(err.status).toBe(400);
    expect(err.text).toContain('OTSParameterInvalid');
  });

  it('UpdateRow under IGNORE creates the row; PUT and DELETE_ALL change single columns', async () => {
    await client.updateRow({
      tableName: table,
      condition: cond(IGNORE),
      primaryKey: [{ pk: 'p' }, { sk: 'u' }],
      updateOfAttributeColumns: [{ PUT: [{ a: 'x' }, { b: 2 }] }],
    } as never);
    await client.updateRow({
      tableName: table,
      condition: cond(EXPECT_EXIST),
      primaryKey: [{ pk: 'p' }, { sk: 'u' }],
      updateOfAttributeColumns: [{ PUT: [{ c: false }] }, { DELETE_ALL: ['a'] }],
    } as never);
    expect(await get('u')).toEqual({ b: 2, c: false });
  });

  it('rejects bad names and oversize values with 400 OTSParameterInvalid', async () => {
    const badName = await failure(put('a', [{ 'a.b': 1 }]));
    expect(badName.status).toBe(400);
    expect(badName.text).toContain("Invalid column name: 'a.b'");
    const longKey = await failure(put('k'.repeat(1025), [{ x: 1 }]));
    expect(longKey.status).toBe(400);
    expect(longKey.text).toContain('primary key');
    const ttl = await failure(createTable(`${table}_ttl`, { timeToLive: 3600 }));
    expect(ttl.status).toBe(400);
  });
});

describe('fake Tablestore: GetRange', () => {
  const range = (start: unknown, end: unknown, extra: Record<string, unknown> = {}) =>
    client.getRange({
      tableName: table,
      direction: TableStore.Direction.FORWARD,
      inclusiveStartPrimaryKey: [{ pk: 'p' }, { sk: start }],
      exclusiveEndPrimaryKey: [{ pk: 'p' }, { sk: end }],
      maxVersions: 1,
      ...extra,
    } as never) as Promise<{
      rows: Array<{ primaryKey: Array<{ value: string }> }>;
      nextStartPrimaryKey: Array<{ name: string; value: string }> | null;
    }>;
  const sks = (out: { rows: Array<{ primaryKey: Array<{ value: string }> }> }) =>
    out.rows.map((r) => r.primaryKey[1]!.value);

  it('orders string keys by UTF-8 bytes, start inclusive and end exclusive', async () => {
    for (const sk of ['😀', '～', '中', 'z', 'A', 'a']) await put(sk, [{ v: 1 }]);
    await client.putRow({
      tableName: table,
      condition: cond(IGNORE),
      primaryKey: [{ pk: 'q' }, { sk: 'a' }],
      attributeColumns: [{ v: 1 }],
    } as never);
    expect(sks(await range(TableStore.INF_MIN, TableStore.INF_MAX))).toEqual([
      'A',
      'a',
      'z',
      '中',
      '～',
      '😀',
    ]);
    expect(sks(await range('a', '中'))).toEqual(['a', 'z']);
  });

  it('stops at the limit and returns next_start_primary_key to continue from', async () => {
    for (let i = 0; i < 7; i++) await put(`k${i}`, [{ v: i }]);
    const first = await range(TableStore.INF_MIN, TableStore.INF_MAX, { limit: 3 });
    expect(sks(first)).toEqual(['k0', 'k1', 'k2']);
    expect(first.nextStartPrimaryKey).toEqual([
      { name: 'pk', value: 'p' },
      { name: 'sk', value: 'k3' },
    ]);
    const rest = await range('k3', TableStore.INF_MAX);
    expect(sks(rest)).toEqual(['k3', 'k4', 'k5', 'k6']);
    expect(rest.nextStartPrimaryKey).toBeNull();
  });

  it('reads backwards from the start key', async () => {
    for (const sk of ['a', 'b', 'c']) await put(sk, [{ v: 1 }]);
    const back = await range(TableStore.INF_MAX, TableStore.INF_MIN, {
      direction: TableStore.Direction.BACKWARD,
    });
    expect(sks(back)).toEqual(['c', 'b', 'a']);
  });
});

describe('fake Tablestore: tables, auth and faults', () => {
  it('a missing table is 404 OTSObjectNotExist; creating one twice is 409', async () => {
    const missing = await failure(
      client.getRow({ tableName: 'nope', primaryKey: [{ pk: 'p' }, { sk: 's' }] } as never),
    );
    expect(missing.status).toBe(404);
    expect(missing.text).toContain('OTSObjectNotExist');
    const twice = await failure(createTable(table));
    expect(twice.status).toBe(409);
    expect(twice.text).toContain('OTSObjectAlreadyExist');
    expect(((await client.listTable({})) as { tableNames: string[] }).tableNames).toContain(table);
    await client.deleteTable({ tableName: table });
    expect(fake.tables()).not.toContain(table);
  });

  it('a wrong secret, key id or instance is 403 OTSAuthFailed', async () => {
    const wrongSecret = await failure(sdk('wrong-secret').listTable({}));
    expect(wrongSecret.status).toBe(403);
    expect(wrongSecret.text).toContain('OTSAuthFailed');
    expect(wrongSecret.text).toContain('Signature mismatch.');
    expect((await failure(sdk(SECRET, 'other-id').listTable({}))).text).toContain(
      'The AccessKeyID does not exist.',
    );
    expect((await failure(sdk(SECRET, ID, 'other').listTable({}))).status).toBe(403);
  });

  it('a body that does not match x-ots-contentmd5 is refused; GET is 405', async () => {
    const send = (method: string, headers: Record<string, string>) =>
      new Promise<number>((resolve, reject) => {
        const req = request(`${fake.endpoint}/ListTable`, { method, headers }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end(method === 'POST' ? 'tampered' : undefined);
      });
    expect(
      await send('POST', {
        'x-ots-date': new Date().toISOString(),
        'x-ots-apiversion': '2015-12-31',
        'x-ots-accesskeyid': ID,
        'x-ots-contentmd5': 'AAAAAAAAAAAAAAAAAAAAAA==',
        'x-ots-signature': 'x',
        'x-ots-instancename': INSTANCE,
      }),
    ).toBe(403);
    expect(await send('GET', {})).toBe(405);
  });

  it('injects throttling (503 OTSServerBusy) before touching data', async () => {
    fake.faults.throttle(1, { operations: ['PutRow'] });
    const err = await failure(put('a', [{ x: 1 }]));
    expect(err.status).toBe(503);
    expect(err.text).toContain('OTSServerBusy');
    expect(await get('a')).toBeUndefined();
    await put('a', [{ x: 1 }]);
    expect(await get('a')).toEqual({ x: 1 });
  });

  it('an ambiguous write: applied, then the connection drops unanswered', async () => {
    fake.faults.dropAfterWrite(1);
    const err = await failure(put('a', [{ x: 'applied' }]));
    expect(err.status).toBe('NetworkingError');
    expect(await get('a')).toEqual({ x: 'applied' });
  });
});
