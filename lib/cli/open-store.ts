/**
 * Shared plumbing of the owner commands (`pairing`, `allow`): load the configuration from the
 * command's environment, pick the account, open the store the channel itself uses, and print
 * tables. `embedded` connects to a running `npm start` through its discovery file (or owns the
 * store for the length of the command); `memory` is refused, since that state lives only inside
 * the running process.
 *
 * Errors: usage and unknown account → ChannelError 'usage' (exit 2); ConfigError (exit 2);
 * store unreachable → ChannelError 'state_unreachable' naming the store (exit 1).
 */
import { resolve } from 'node:path';
import {
  type AccountConfig,
  type AppSettings,
  getAccount,
  type LoadedConfig,
  loadConfig,
} from '../config/index.js';
import { ChannelError } from '../errors.js';
import { createStateStore } from '../state/index.js';
import { stateStoreOptions } from '../state/options.js';
import type { StateStore } from '../state/port.js';
import { demoAwareEnv } from './demo-link.js';
import type { CliIo } from './main.js';

/** What an owner command works on. */
export interface OwnerContext {
  config: LoadedConfig;
  account: AccountConfig;
  store: StateStore;
  /** `--account <id>` when the account is not the default, else '' (for hints). */
  accountFlag: string;
}

/** A human description of the configured store, for messages. */
export function describeStore(state: AppSettings['state']): string {
  if (state.backend === 'embedded') return `the embedded store in ${resolve(state.dir)}`;
  if (state.backend === 'local') return `the local store in ${resolve(state.dir)}`;
  if (state.backend === 'memory') return 'the in-memory store';
  if (state.backend === 'tablestore') {
    return `Tablestore table "${state.table}" of instance ${state.tablestoreInstance ?? '?'} at ${state.tablestoreEndpoint ?? '?'}`;
  }
  const where = state.dynamodbEndpoint ? ` at ${state.dynamodbEndpoint}` : '';
  const region = state.region ? ` (${state.region})` : '';
  return `DynamoDB table "${state.table}"${where}${region}`;
}

function selectAccount(config: LoadedConfig, accountId: string | undefined): AccountConfig {
  try {
    return getAccount(config, accountId);
  } catch (err) {
    if (err instanceof ChannelError && err.code === 'unknown_account') {
      throw new ChannelError('usage', err.message);
    }
    throw err;
  }
}

async function openStore(settings: AppSettings): Promise<StateStore> {
  const { state } = settings;
  if (state.backend === 'memory') {
    throw new ChannelError(
      'usage',
      'STATE_BACKEND is "memory": that state lives only inside the running channel process, so ' +
        'owner commands cannot reach it. Use STATE_BACKEND=local (npm start), embedded, dynamodb or tablestore.',
    );
  }
  return createStateStore(stateStoreOptions(settings));
}

const UNREACHABLE = new Set(['state_unavailable', 'state_locked']);

function unreachable(settings: AppSettings, err: unknown): unknown {
  if (!(err instanceof ChannelError) || !UNREACHABLE.has(err.code)) return err;
  return new ChannelError(
    'state_unreachable',
    `cannot reach ${describeStore(settings.state)}: ${err.message}`,
    { cause: err },
  );
}

/** Runs `work` against the named account's state; the store is always closed. */
export async function withOwnerContext<T>(
  io: CliIo,
  accountId: string | undefined,
  work: (context: OwnerContext) => Promise<T>,
): Promise<T> {
  // In demo mode the accounts' credentials come from the running demo (pairing approve --notify).
  const config = loadConfig(await demoAwareEnv(io.env));
  const account = selectAccount(config, accountId);
  const accountFlag =
    account.accountId === config.defaultAccountId ? '' : ` --account ${account.accountId}`;
  let store: StateStore;
  try {
    store = await openStore(config.settings);
  } catch (err) {
    throw unreachable(config.settings, err);
  }
  try {
    return await work({ config, account, store, accountFlag });
  } catch (err) {
    throw unreachable(config.settings, err);
  } finally {
    await store.close().catch(() => undefined);
  }
}

/** Epoch ms → `2026-01-01 09:30:00Z` (UTC, to the second). */
export function formatTime(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d{3}Z$/, 'Z');
}

/** Terminal columns of a string: CJK and full-width characters (most DingTalk nicks) take two. */
export function displayWidth(text: string): number {
  let width = 0;
  for (const char of text) {
    const cp = char.codePointAt(0) ?? 0;
    const wide =
      (cp >= 0x1100 && cp <= 0x115f) ||
      (cp >= 0x2e80 && cp <= 0xa4cf) ||
      (cp >= 0xac00 && cp <= 0xd7a3) ||
      (cp >= 0xf900 && cp <= 0xfaff) ||
      (cp >= 0xfe30 && cp <= 0xfe4f) ||
      (cp >= 0xff00 && cp <= 0xff60) ||
      (cp >= 0xffe0 && cp <= 0xffe6) ||
      (cp >= 0x20000 && cp <= 0x3fffd);
    width += wide ? 2 : 1;
  }
  return width;
}

/**
 * C0/C1 controls, DEL, and the bidi overrides/isolates (U+202A–U+202E, U+2066–U+2069) that can
 * reorder what a terminal shows; line and paragraph separators too.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * Text from senders (nicknames, ids) made safe for the owner's terminal: each control
 * character is shown as an escape (`\n`, `\x1b`, `\u202e`), so a nickname with newlines or
 * ANSI sequences cannot draw fake rows or recolour the screen. A backslash is doubled so an
 * escape shown is never ambiguous with one typed.
 */
export function printable(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(UNSAFE, (c) => {
    const code = c.charCodeAt(0);
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return '\\t';
    return code <= 0xff
      ? `\\x${code.toString(16).padStart(2, '0')}`
      : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** Left-aligned columns separated by two spaces; the header row first. Every cell is `printable`. */
export function formatTable(header: readonly string[], unsafeRows: readonly string[][]): string[] {
  const rows = unsafeRows.map((row) => row.map(printable));
  const widths = header.map((title, i) =>
    Math.max(displayWidth(title), ...rows.map((row) => displayWidth(row[i] ?? ''))),
  );
  const pad = (cell: string, width: number) => cell + ' '.repeat(width - displayWidth(cell));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => pad(cell, widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

/** Wraps node:util parseArgs errors as usage errors carrying the command's help. */
export function usageError(message: string, help: string): ChannelError {
  return new ChannelError('usage', `${message}\n\n${help}`);
}
