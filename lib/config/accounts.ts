/**
 * Multi-account resolution (channel-semantics.md §1, "Multi-account"):
 * - no (or an empty) `accounts` map: the root is the single account `default`;
 * - with `accounts`, the root `clientId`/`clientSecret` (if any) form the account `default`;
 * - `accounts.<id>` is a shallow overlay on the root: unset keys are inherited, nested maps
 *   (`dm`, `groups`) are replaced whole; credentials and `robotCode` are never inherited;
 * - default account: `defaultAccount`, else `default`, else the first id in sort order;
 * - root `enabled: false` disables every account, an account's `enabled: false` only itself.
 * Guarded by test/config/accounts.test.ts.
 */
import { ChannelError } from '../errors.js';
import type { KeyPath } from './introspect.js';
import { closestKey } from './issues.js';
import { isPlainObject } from './layers.js';
import type { AccountConfig, AccountOverlay, ChannelConfig } from './schema.js';

export const DEFAULT_ACCOUNT_ID = 'default';

/** Keys an account takes from the root when it does not set them. */
const INHERITED = [
  'dm',
  'groupPolicy',
  'groups',
  'requireMention',
  'mentionPatterns',
  'textChunkLimit',
  'chunkMode',
  'replyMode',
  'card',
  'responsePrefix',
  'isolateContextPerUserInGroup',
] as const;

/** Keys an account never inherits: they identify one bot. */
const OWN = new Set<string>(['enabled', 'clientId', 'clientSecret', 'robotCode']);

/** The part of the channel object that decides which accounts exist (parsed or raw). */
interface AccountShape {
  accounts?: unknown;
  defaultAccount?: unknown;
  clientId?: unknown;
  clientSecret?: unknown;
}

function accountMap(channel: AccountShape): Record<string, unknown> | undefined {
  const accounts = channel.accounts;
  return isPlainObject(accounts) && Object.keys(accounts).length > 0 ? accounts : undefined;
}

/** Every account id, sorted. */
export function accountIdsOf(channel: AccountShape): string[] {
  const accounts = accountMap(channel);
  if (!accounts) return [DEFAULT_ACCOUNT_ID];
  const ids = new Set(Object.keys(accounts));
  if (channel.clientId !== undefined || channel.clientSecret !== undefined)
    ids.add(DEFAULT_ACCOUNT_ID);
  return [...ids].sort();
}

/** The default account id (it may name no account; rules.ts reports that). */
export function defaultAccountIdOf(channel: AccountShape): string {
  if (typeof channel.defaultAccount === 'string') return channel.defaultAccount;
  const ids = accountIdsOf(channel);
  return ids.includes(DEFAULT_ACCOUNT_ID) ? DEFAULT_ACCOUNT_ID : (ids[0] ?? DEFAULT_ACCOUNT_ID);
}

/**
 * Where the env credentials of the default account go: the root when the default account is
 * the root one, else `accounts.<id>`. A default id that names no account falls back to the
 * root, so the "names no account" error is not hidden by a freshly created account.
 */
export function credentialPathOf(channel: AccountShape): KeyPath {
  const accounts = accountMap(channel);
  const id = defaultAccountIdOf(channel);
  if (accounts && Object.hasOwn(accounts, id) && isPlainObject(accounts[id]))
    return ['accounts', id];
  return [];
}

/** A resolved account, plus the key path each value came from (for messages). */
export interface ResolvedAccount {
  config: AccountConfig;
  /** Path of `key` in `channels.dingtalk`: `['accounts', id, key]` when the account sets it. */
  pathOf(key: keyof AccountConfig): KeyPath;
}

function resolveOne(
  channel: ChannelConfig,
  id: string,
  overlay: AccountOverlay | undefined,
): ResolvedAccount {
  const own = overlay ?? {};
  const fromRoot = !overlay || id === DEFAULT_ACCOUNT_ID;
  const clientId = own.clientId ?? (fromRoot ? channel.clientId : undefined) ?? '';
  const clientSecret = own.clientSecret ?? (fromRoot ? channel.clientSecret : undefined) ?? '';
  const robotCode = own.robotCode ?? (fromRoot ? channel.robotCode : undefined) ?? clientId;
  const inherited = Object.fromEntries(INHERITED.map((key) => [key, own[key] ?? channel[key]]));
  const config = {
    accountId: id,
    enabled: channel.enabled && own.enabled !== false,
    clientId,
    clientSecret,
    robotCode,
    ...inherited,
  } as AccountConfig;
  if (config.responsePrefix === undefined) delete config.responsePrefix;
  const pathOf = (key: keyof AccountConfig): KeyPath => {
    if (!overlay) return [key];
    if (own[key as keyof AccountOverlay] !== undefined) return ['accounts', id, key];
    return OWN.has(key) && id !== DEFAULT_ACCOUNT_ID ? ['accounts', id, key] : [key];
  };
  return { config, pathOf };
}

/** All accounts of a parsed channel object, sorted by id. */
export function resolveAccounts(channel: ChannelConfig): ResolvedAccount[] {
  const accounts = accountMap(channel) as Record<string, AccountOverlay> | undefined;
  return accountIdsOf(channel).map((id) => resolveOne(channel, id, accounts?.[id]));
}

/** The config `getAccount` needs. */
export interface AccountLookup {
  allAccounts: readonly AccountConfig[];
  defaultAccountId: string;
}

/** The named account (default: the default account); throws listing the known ids when unknown. */
export function getAccount(config: AccountLookup, accountId?: string): AccountConfig {
  const id = accountId ?? config.defaultAccountId;
  const found = config.allAccounts.find((account) => account.accountId === id);
  if (found) return found;
  const known = config.allAccounts.map((account) => account.accountId);
  const closest = closestKey(id, known);
  const hint = closest ? ` Did you mean "${closest}"?` : '';
  throw new ChannelError(
    'unknown_account',
    `Unknown account "${id}"; known accounts: ${known.join(', ')}.${hint}`,
  );
}

/**
 * The account to send as (CLI `send`, the send function): like getAccount, but a disabled
 * account is refused (`account_disabled`): `enabled: false` means the bot neither listens nor
 * speaks.
 */
export function sendingAccount(config: AccountLookup, accountId?: string): AccountConfig {
  const account = getAccount(config, accountId);
  if (!account.enabled) {
    throw new ChannelError(
      'account_disabled',
      `Account "${account.accountId}" is disabled (enabled: false), so nothing is sent as it; set enabled: true on it to send`,
    );
  }
  return account;
}
