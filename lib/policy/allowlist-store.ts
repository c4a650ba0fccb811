/**
 * The runtime allowlist of an account (channel-semantics.md §2): DM senders admitted besides
 * the configured `dm.allowFrom`, written by `pairing approve` and `allow add`. One item per user
 * (keys.allowEntry: the sort key folds case, the id is kept as written). It never admits anyone
 * to a group (§4 step 4).
 */
import { ChannelError } from '../errors.js';
import { keys } from '../state/keys.js';
import { cond, type StateItem, type StateStore } from '../state/port.js';
import { ANY_SENDER, stripIdPrefixes } from './ids.js';

/** How an entry got onto the list. */
export type AllowlistSource = 'pairing' | 'cli';

export interface AllowlistEntry {
  userId: string;
  /** ms epoch. */
  addedAt: number;
  via: AllowlistSource;
  nick?: string;
}

/** The id to store for owner input (`dingtalk:user:abc` → `abc`); rejects blanks and `"*"`. */
export function allowlistUserId(raw: string): string {
  const userId = stripIdPrefixes(raw);
  if (userId === '') {
    throw new ChannelError('invalid_user_id', `"${raw}" is not a DingTalk user id`);
  }
  if (userId === ANY_SENDER) {
    throw new ChannelError(
      'invalid_user_id',
      '"*" cannot be added to the runtime allowlist; to let everyone DM the bot set dm.policy: "open" with dm.allowFrom: ["*"] in the configuration',
    );
  }
  return userId;
}

function entryFrom(item: StateItem): AllowlistEntry {
  const entry: AllowlistEntry = {
    userId: String(item.userId),
    addedAt: Number(item.addedAt),
    via: item.via === 'pairing' ? 'pairing' : 'cli',
  };
  if (typeof item.nick === 'string') entry.nick = item.nick;
  return entry;
}

/** Every entry, in sort-key order (case-folded user id). */
export async function listAllowed(store: StateStore, accountId: string): Promise<AllowlistEntry[]> {
  const q = keys.allowlist(accountId);
  return (await store.query(q.pk, { skPrefix: q.skPrefix })).map(entryFrom);
}

/**
 * The entry for this sender id (ASCII case folded; the id is DingTalk's, so no prefix is
 * stripped: §2 normalises only the configured side), if any.
 */
export async function findAllowed(
  store: StateStore,
  accountId: string,
  userId: string,
): Promise<AllowlistEntry | undefined> {
  const id = userId;
  if (id === '' || id === ANY_SENDER) return undefined;
  const key = keys.allowEntry(accountId, id);
  const item = await store.get(key.pk, key.sk);
  return item ? entryFrom(item) : undefined;
}

/** Adds a user; `added: false` when they were already on the list (the old entry is kept). */
export async function addAllowed(
  store: StateStore,
  accountId: string,
  userId: string,
  details: { via: AllowlistSource; now: number; nick?: string },
): Promise<{ added: boolean; entry: AllowlistEntry }> {
  const entry: AllowlistEntry = {
    userId: allowlistUserId(userId),
    addedAt: details.now,
    via: details.via,
    ...(details.nick === undefined ? {} : { nick: details.nick }),
  };
  const result = await store.put(
    { ...keys.allowEntry(accountId, entry.userId), ...entry },
    cond.notExists(),
  );
  if (result.ok) return { added: true, entry };
  return { added: false, entry: result.current ? entryFrom(result.current) : entry };
}

/** Removes a user; the removed entry, or undefined when they were not on the list. */
export async function removeAllowed(
  store: StateStore,
  accountId: string,
  userId: string,
): Promise<AllowlistEntry | undefined> {
  const key = keys.allowEntry(accountId, allowlistUserId(userId));
  const item = await store.get(key.pk, key.sk);
  if (!item) return undefined;
  const result = await store.delete(key.pk, key.sk, cond.exists());
  return result.ok ? entryFrom(item) : undefined;
}
