import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manualClock } from '../../lib/clock.js';
import {
  approvePairing,
  findAllowed,
  isPairingCodeShape,
  listPendingRequests,
  PAIRING_TTL_MS,
  type PairingStart,
  rejectPairing,
  startPairing,
} from '../../lib/policy/index.js';
import { DynamoStateStore, localDynamoClient } from '../../lib/state/dynamodb.js';
import { keys } from '../../lib/state/keys.js';
import { MemoryStateStore } from '../../lib/state/memory.js';
import type { StateStore } from '../../lib/state/port.js';
import { startTestDynalite, type TestDynalite } from '../support/dynalite.js';

interface Backend {
  name: string;
  store(): StateStore;
  /** A store for one concurrent "handler" (its own connection where the backend has one). */
  handlerStore(): StateStore;
}

let dynalite: TestDynalite;
const memory = new MemoryStateStore();
const extraClients: ReturnType<typeof localDynamoClient>[] = [];

beforeAll(async () => {
  dynalite = await startTestDynalite();
});

afterAll(async () => {
  for (const client of extraClients) client.destroy();
  await memory.close();
  await dynalite.close();
});

const backends: Backend[] = [
  { name: 'memory', store: () => memory, handlerStore: () => memory },
  {
    name: 'dynalite',
    store: () => dynalite.store,
    handlerStore: () => {
      const client = localDynamoClient(dynalite.endpoint);
      extraClients.push(client);
      return new DynamoStateStore({ tableName: dynalite.tableName, client });
    },
  },
];

let accountSeq = 0;
/** Each test gets its own account: state is keyed by account (§1), so tests never share rows. */
const freshAccount = () => `acct${++accountSeq}`;

const HOUR = PAIRING_TTL_MS;

describe.each(backends)('§3 Pairing ($name)', (backend) => {
  function setup() {
    const store = backend.store();
    const clock = manualClock();
    const accountId = freshAccount();
    const start = (userId: string, nick?: string) =>
      startPairing(store, { accountId, userId, ...(nick ? { nick } : {}) }, { clock });
    const pending = () => listPendingRequests(store, accountId, clock.now());
    return { store, clock, accountId, start, pending };
  }

  it('a new sender gets a request with a fresh code, living 1 hour', async () => {
    const { clock, start, pending } = setup();
    const created = await start('alice', 'Alice');
    expect(created.status).toBe('created');
    const { request } = created as Extract<PairingStart, { status: 'created' }>;
    expect(isPairingCodeShape(request.code)).toBe(true);
    expect(request).toEqual({
      code: request.code,
      userId: 'alice',
      nick: 'Alice',
      createdAt: clock.now(),
      expiresAt: (clock.now() + HOUR) / 1000,
    });
    expect(await pending()).toEqual([request]);
  });

  it('a repeat sender keeps the same code and gets no reply; messages do not extend it', async () => {
    const { clock, start, pending } = setup();
    const first = await start('alice');
    clock.advance(59 * 60_000);
    const again = await start('alice');
    expect(again).toEqual({ status: 'pending', request: (first as { request: unknown }).request });
    expect(await pending()).toHaveLength(1);
    clock.advance(60_000 + 1000); // 1 h + 1 s after creation: expired, not extended
    expect(await pending()).toEqual([]);
  });

  it('the first message after expiry creates a new code', async () => {
    const { clock, start, pending } = setup();
    const first = (await start('alice')) as { request: { code: string } };
    clock.advance(HOUR + 1000);
    const second = await start('alice');
    expect(second.status).toBe('created');
    const code = (second as { request: { code: string } }).request.code;
    expect(code).not.toBe(first.request.code);
    expect((await pending()).map((r) => r.code)).toEqual([code]);
  });

  it('at most 3 pending per account: a 4th sender gets no record and no reply', async () => {
    const { store, accountId, start, pending } = setup();
    for (const user of ['a', 'b', 'c']) expect((await start(user)).status).toBe('created');
    expect(await start('d')).toEqual({ status: 'capacity' });
    expect(await start('d')).toEqual({ status: 'capacity' });
    expect((await pending()).map((r) => r.userId).sort()).toEqual(['a', 'b', 'c']);
    const claim = keys.pairingSender(accountId, 'd');
    expect(await store.get(claim.pk, claim.sk)).toBeUndefined();
  });

  it('an expired request frees its place for a new sender', async () => {
    const { clock, start } = setup();
    await start('a');
    clock.advance(30 * 60_000);
    await start('b');
    await start('c');
    expect((await start('d')).status).toBe('capacity');
    clock.advance(30 * 60_000 + 1000); // a expired, b and c live
    expect((await start('d')).status).toBe('created');
    expect((await start('e')).status).toBe('capacity');
  });

  it('pending codes of an account are unique', async () => {
    const { start, pending } = setup();
    await start('a');
    await start('b');
    await start('c');
    const codes = (await pending()).map((r) => r.code);
    expect(new Set(codes).size).toBe(3);
  });

  it('approve is case-insensitive, allowlists the sender and deletes every request record', async () => {
    const { store, clock, accountId, start, pending } = setup();
    const { request } = (await start('Alice', 'Alice W')) as { request: { code: string } };
    const approved = await approvePairing(store, accountId, request.code.toLowerCase(), { clock });
    expect(approved).toMatchObject({ code: request.code, userId: 'Alice', nick: 'Alice W' });
    expect(await findAllowed(store, accountId, 'alice')).toMatchObject({
      userId: 'Alice',
      via: 'pairing',
      nick: 'Alice W',
      addedAt: clock.now(),
    });
    expect(await pending()).toEqual([]);
    const partition = keys.pairingRequests(accountId).pk;
    expect(await store.query(partition)).toEqual([]);
  });

  it('approve frees the slot for a 4th sender', async () => {
    const { store, clock, accountId, start } = setup();
    const first = (await start('a')) as { request: { code: string } };
    await start('b');
    await start('c');
    expect((await start('d')).status).toBe('capacity');
    await approvePairing(store, accountId, first.request.code, { clock });
    expect((await start('d')).status).toBe('created');
  });

  it('approve and reject of an unknown or expired code find nothing and change nothing', async () => {
    const { store, clock, accountId, start, pending } = setup();
    const { request } = (await start('a')) as { request: { code: string } };
    const other = request.code === 'ZZZZZZZZ' ? 'YYYYYYYY' : 'ZZZZZZZZ';
    expect(await approvePairing(store, accountId, other, { clock })).toBeUndefined();
    expect(await rejectPairing(store, accountId, other, { clock })).toBeUndefined();
    expect(await pending()).toHaveLength(1);
    clock.advance(HOUR + 1000);
    expect(await approvePairing(store, accountId, request.code, { clock })).toBeUndefined();
    expect(await findAllowed(store, accountId, 'a')).toBeUndefined();
  });

  it('reject deletes the request and frees its slot; the sender may ask again after it would have expired', async () => {
    const { store, clock, accountId, start, pending } = setup();
    const { request } = (await start('a')) as { request: { code: string } };
    await start('b');
    await start('c');
    clock.advance(10 * 60_000);
    expect(await rejectPairing(store, accountId, request.code, { clock })).toMatchObject({
      userId: 'a',
    });
    expect((await pending()).map((r) => r.userId).sort()).toEqual(['b', 'c']);
    expect(await findAllowed(store, accountId, 'a')).toBeUndefined();
    expect(await start('a')).toEqual({ status: 'rejected' });
    expect((await start('d')).status).toBe('created'); // the slot was freed
    clock.advance(50 * 60_000 + 1000);
    const again = await start('a');
    expect(again.status).toBe('created');
    expect((again as { request: { code: string } }).request.code).not.toBe(request.code);
  });

  it('repairs a request whose handler died after claiming the sender (keys.ts step 4)', async () => {
    const { store, clock, accountId, start, pending } = setup();
    const expiresAt = (clock.now() + HOUR) / 1000;
    await store.put({
      ...keys.pairingSender(accountId, 'a'),
      code: 'ABCD2345',
      senderId: 'a',
      createdAt: clock.now(),
      expiresAt,
    });
    expect(await pending()).toEqual([]);
    clock.advance(5 * 60_000);
    const repaired = await start('a');
    expect(repaired).toMatchObject({ status: 'created', request: { code: 'ABCD2345', expiresAt } });
    expect(await start('a')).toMatchObject({ status: 'pending' });
    expect((await pending()).map((r) => r.code)).toEqual(['ABCD2345']);
  });

  it('two handlers racing on one new sender create one request and one challenge', async () => {
    for (let round = 0; round < 5; round++) {
      const clock = manualClock();
      const accountId = freshAccount();
      const stores = Array.from({ length: 6 }, () => backend.handlerStore());
      const results = await Promise.all(
        stores.map((store) => startPairing(store, { accountId, userId: 'racer' }, { clock })),
      );
      const created = results.filter((r) => r.status === 'created');
      expect(created, JSON.stringify(results)).toHaveLength(1);
      expect(results.filter((r) => r.status === 'pending')).toHaveLength(5);
      const codes = new Set(results.map((r) => (r as { request: { code: string } }).request.code));
      expect(codes.size).toBe(1);
      const listed = await listPendingRequests(backend.store(), accountId, clock.now());
      expect(listed.map((r) => r.userId)).toEqual(['racer']);
      const slots = keys.pairingSlots(accountId);
      expect(await backend.store().query(slots.pk, { skPrefix: slots.skPrefix })).toHaveLength(1);
    }
  });

  it('concurrent first messages of 6 new senders create exactly 3 requests', async () => {
    for (let round = 0; round < 5; round++) {
      const clock = manualClock();
      const accountId = freshAccount();
      const senders = ['s1', 's2', 's3', 's4', 's5', 's6'];
      const results = await Promise.all(
        senders.map((userId) =>
          startPairing(backend.handlerStore(), { accountId, userId }, { clock }),
        ),
      );
      expect(results.filter((r) => r.status === 'created')).toHaveLength(3);
      expect(results.filter((r) => r.status === 'capacity')).toHaveLength(3);
      const store = backend.store();
      expect(await listPendingRequests(store, accountId, clock.now())).toHaveLength(3);
      const losers = senders.filter((_, i) => results[i]!.status === 'capacity');
      for (const userId of losers) {
        const claim = keys.pairingSender(accountId, userId);
        expect(await store.get(claim.pk, claim.sk)).toBeUndefined();
      }
    }
  });
});
