/**
 * Pairing requests on the StateStore (channel-semantics.md §3), without transactions: the
 * algorithm in the top comment of lib/state/keys.ts, every write conditional on one item.
 *
 *   message from new sender S
 *     1. put sender#S {code C}      if absent or expired   lost → S has a request: resume it
 *     2. put slot#n  {code C}       if free or already C   none → delete sender#S: no record
 *     3. put code#C  {sender S}     if absent or expired   lost to S itself → pending (no reply);
 *                                                          lost to another sender → undo 2, 1
 *     4. the caller sends the challenge — only the call that *created* code#C does, so two
 *        handlers racing on one new sender (or a repair after a crash between 1 and 3) send
 *        exactly one challenge.
 *
 * keys.ts allows step 3 to succeed on `equals('senderId', S)`; writing it "if absent" instead and
 * reading a failure that names S as "already created" keeps the same records but tells the
 * caller whether it is the one that should reply. Two more choices: the sender claim is read
 * before step 1 (a repeat message, the common case, then skips the code query), and reject
 * leaves sender#S marked `rejected` until it expires, so a rejected sender "may ask again after
 * it would have expired" (§3) and not sooner.
 */
import type { Clock } from '../clock.js';
import { isExpired, keys, PAIRING_SLOTS } from '../state/keys.js';
import { cond, type StateItem, type StateStore, toEpochSeconds } from '../state/port.js';
import { addAllowed } from './allowlist-store.js';
import { cryptoRandomInt, PAIRING_TTL_MS, type RandomInt, uniquePairingCode } from './pairing.js';

const SLOTS = Array.from({ length: PAIRING_SLOTS }, (_, n) => n);

/** A pending request as the owner sees it. */
export interface PairingRequest {
  code: string;
  userId: string;
  nick?: string;
  /** ms epoch. */
  createdAt: number;
  /** Epoch seconds (the record is dead once this is before now). */
  expiresAt: number;
}

/** What a message from a not-yet-admitted DM sender did to the pairing state. */
export type PairingStart =
  | { status: 'created'; request: PairingRequest }
  | { status: 'pending'; request: PairingRequest }
  | { status: 'capacity' }
  | { status: 'collision' }
  /** Rejected by the owner; the sender may ask again once the rejected request would have expired. */
  | { status: 'rejected' };

export interface PairingDeps {
  clock: Clock;
  random?: RandomInt;
}

interface Attempt {
  store: StateStore;
  accountId: string;
  request: PairingRequest;
  nowSeconds: number;
}

function requestFrom(item: StateItem): PairingRequest {
  const request: PairingRequest = {
    code: String(item.code),
    userId: String(item.senderId),
    createdAt: Number(item.createdAt),
    expiresAt: Number(item.expiresAt),
  };
  if (typeof item.nick === 'string') request.nick = item.nick;
  return request;
}

function recordOf(request: PairingRequest): Omit<StateItem, 'pk' | 'sk'> {
  return {
    code: request.code,
    senderId: request.userId,
    createdAt: request.createdAt,
    expiresAt: request.expiresAt,
    ...(request.nick === undefined ? {} : { nick: request.nick }),
  };
}

/** Live requests of an account, oldest first. */
export async function listPendingRequests(
  store: StateStore,
  accountId: string,
  nowMs: number,
): Promise<PairingRequest[]> {
  const q = keys.pairingRequests(accountId);
  const items = await store.query(q.pk, { skPrefix: q.skPrefix });
  const nowSeconds = toEpochSeconds(nowMs);
  return items
    .filter((item) => !isExpired(item, nowSeconds))
    .map(requestFrom)
    .sort((a, b) => a.createdAt - b.createdAt);
}

/** The live request with this code (matched case-insensitively), if any. */
export async function findPendingRequest(
  store: StateStore,
  accountId: string,
  code: string,
  nowMs: number,
): Promise<PairingRequest | undefined> {
  const key = keys.pairingRequest(accountId, code);
  const item = await store.get(key.pk, key.sk);
  return item && !isExpired(item, toEpochSeconds(nowMs)) ? requestFrom(item) : undefined;
}

/**
 * The cheap look before pairing (issue "cheap drops"): one query of the capacity slots tells
 * whether the sender already holds a live request (`pending`: drop, no reply) or all slots are
 * taken by others (`capacity`: drop, no record). Only `open` goes on to `startPairing`, which
 * re-checks everything with conditional writes; this read decides nothing that a race could
 * turn into a second challenge.
 */
export async function pairingGate(
  store: StateStore,
  sender: { accountId: string; userId: string },
  nowMs: number,
): Promise<'pending' | 'capacity' | 'open'> {
  const nowSeconds = toEpochSeconds(nowMs);
  const q = keys.pairingSlots(sender.accountId);
  const live = (await store.query(q.pk, { skPrefix: q.skPrefix })).filter(
    (slot) => !isExpired(slot, nowSeconds),
  );
  if (live.some((slot) => slot.senderId === sender.userId)) return 'pending';
  return live.length >= PAIRING_SLOTS ? 'capacity' : 'open';
}

/**
 * Creates the sender's request, or finds the live one (§3). Only `created` means "send the
 * challenge"; every other status drops the message without a reply.
 */
export async function startPairing(
  store: StateStore,
  sender: { accountId: string; userId: string; nick?: string },
  deps: PairingDeps,
): Promise<PairingStart> {
  const now = deps.clock.now();
  const nowSeconds = toEpochSeconds(now);
  const senderKey = keys.pairingSender(sender.accountId, sender.userId);
  for (let attempt = 0; attempt < 3; attempt++) {
    // The common case is a repeat message: read the claim first, skip the code query.
    const live = await store.get(senderKey.pk, senderKey.sk);
    const run = { store, accountId: sender.accountId, nowSeconds };
    if (live && !isExpired(live, nowSeconds)) return resumeClaim(run, live);
    const taken = new Set(
      (await listPendingRequests(store, sender.accountId, now)).map((r) => r.code),
    );
    const request: PairingRequest = {
      code: uniquePairingCode(taken, deps.random ?? cryptoRandomInt),
      userId: sender.userId,
      createdAt: now,
      expiresAt: toEpochSeconds(now + PAIRING_TTL_MS),
      ...(sender.nick === undefined ? {} : { nick: sender.nick }),
    };
    const claim = await store.put(
      { ...senderKey, ...recordOf(request) },
      cond.absentOrExpired(nowSeconds),
    );
    if (claim.ok) return completeRequest({ ...run, request });
    // Another handler claimed the sender in between (the race of §3): resume its claim.
    if (claim.current) return resumeClaim(run, claim.current);
    // The claim vanished between the failed write and the read (approved meanwhile): try again.
  }
  return { status: 'collision' };
}

/** A live sender claim: rejected, pending, or half-made (finished here). */
async function resumeClaim(run: Omit<Attempt, 'request'>, claim: StateItem): Promise<PairingStart> {
  if (claim.rejected === true) return { status: 'rejected' };
  const request = requestFrom(claim);
  const codeKey = keys.pairingRequest(run.accountId, request.code);
  const existing = await run.store.get(codeKey.pk, codeKey.sk);
  if (existing && !isExpired(existing, run.nowSeconds) && existing.senderId === request.userId) {
    return { status: 'pending', request: requestFrom(existing) };
  }
  // Steps 2–3 are idempotent: finish what a crashed (or still running) handler began.
  return completeRequest({ ...run, request });
}

/** Steps 2 and 3 for a claimed sender. */
async function completeRequest(run: Attempt): Promise<PairingStart> {
  const { store, accountId, request, nowSeconds } = run;
  const slot = await claimSlot(run);
  if (slot === undefined) {
    await deleteIfCode(store, keys.pairingSender(accountId, request.userId), request.code);
    return { status: 'capacity' };
  }
  const codeKey = keys.pairingRequest(accountId, request.code);
  const put = await store.put(
    { ...codeKey, ...recordOf(request), slot },
    cond.absentOrExpired(nowSeconds),
  );
  if (put.ok) return { status: 'created', request };
  if (put.current?.senderId === request.userId && put.current.code === request.code) {
    return { status: 'pending', request: requestFrom(put.current) };
  }
  // The code belongs to another live request: give back what this sender holds.
  await deleteIfCode(store, keys.pairingSlot(accountId, slot), request.code);
  await deleteIfCode(store, keys.pairingSender(accountId, request.userId), request.code);
  return { status: 'collision' };
}

/** Claims a capacity slot for the request's code: its own slot first, then free ones. */
async function claimSlot(run: Attempt): Promise<number | undefined> {
  const { store, accountId, request, nowSeconds } = run;
  const q = keys.pairingSlots(accountId);
  const current = new Map<number, StateItem>();
  for (const item of await store.query(q.pk, { skPrefix: q.skPrefix })) {
    current.set(Number(item.sk.slice(q.skPrefix.length)), item);
  }
  const rank = (n: number) => {
    const item = current.get(n);
    if (item?.code === request.code) return 0;
    return !item || isExpired(item, nowSeconds) ? 1 : 2;
  };
  const order = [...SLOTS].sort((a, b) => rank(a) - rank(b));
  for (const n of order) {
    const put = await store.put(
      { ...keys.pairingSlot(accountId, n), ...recordOf(request) },
      cond.or(cond.absentOrExpired(nowSeconds), cond.equals('code', request.code)),
    );
    if (put.ok) return n;
  }
  return undefined;
}

async function deleteIfCode(
  store: StateStore,
  key: { pk: string; sk: string },
  code: string,
): Promise<void> {
  await store.delete(key.pk, key.sk, cond.equals('code', code));
}

/** Deletes a request's records: code, every slot holding its code, and (unless kept) the sender claim. */
async function deleteRequest(
  store: StateStore,
  accountId: string,
  request: PairingRequest,
  options: { keepSender?: boolean } = {},
): Promise<void> {
  await deleteIfCode(store, keys.pairingRequest(accountId, request.code), request.code);
  const q = keys.pairingSlots(accountId);
  for (const slot of await store.query(q.pk, { skPrefix: q.skPrefix })) {
    if (slot.code === request.code) await deleteIfCode(store, slot, request.code);
  }
  if (options.keepSender) return;
  await deleteIfCode(store, keys.pairingSender(accountId, request.userId), request.code);
}

/**
 * Approves a live request (§3): adds the sender to the runtime allowlist, then deletes the
 * request. Undefined when no live request has this code.
 */
export async function approvePairing(
  store: StateStore,
  accountId: string,
  code: string,
  deps: { clock: Clock },
): Promise<PairingRequest | undefined> {
  const request = await findPendingRequest(store, accountId, code, deps.clock.now());
  if (!request) return undefined;
  // Allowlist first: a crash in between leaves an admitted sender with a stale request, never
  // a deleted request without access.
  await addAllowed(store, accountId, request.userId, {
    via: 'pairing',
    now: deps.clock.now(),
    ...(request.nick === undefined ? {} : { nick: request.nick }),
  });
  await deleteRequest(store, accountId, request);
  return request;
}

/**
 * Rejects a live request (§3): deletes it and frees its slot. It is not a block list: the sender
 * claim stays, marked rejected, until the request would have expired, so the sender's messages
 * are dropped until then and the next one after that starts a new request.
 */
export async function rejectPairing(
  store: StateStore,
  accountId: string,
  code: string,
  deps: { clock: Clock },
): Promise<PairingRequest | undefined> {
  const request = await findPendingRequest(store, accountId, code, deps.clock.now());
  if (!request) return undefined;
  const sender = keys.pairingSender(accountId, request.userId);
  await store.update(sender.pk, sender.sk, { rejected: true }, cond.equals('code', request.code));
  await deleteRequest(store, accountId, request, { keepSender: true });
  return request;
}
