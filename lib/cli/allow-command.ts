/**
 * `dingtalk-channel allow list|add|remove` (channel-semantics.md §2): the account's runtime
 * allowlist of DM senders, the set that `pairing approve` also writes. The configured
 * `dm.allowFrom` is shown for context but never changed here. Exit codes: 0 done, 1 not on the
 * list or store unreachable, 2 usage or configuration error.
 */
import { systemClock } from '../clock.js';
import { ChannelError } from '../errors.js';
import {
  type AllowlistEntry,
  addAllowed,
  allowlistUserId,
  listAllowed,
  removeAllowed,
} from '../policy/allowlist-store.js';
import { idListMatches } from '../policy/ids.js';
import { parseCommandArgs } from './args.js';
import { type CliIo, EXIT_OK, EXIT_REFUSED, type Subcommand } from './main.js';
import {
  formatTable,
  formatTime,
  type OwnerContext,
  usageError,
  withOwnerContext,
} from './open-store.js';

const HELP = `Usage:
  dingtalk-channel allow list [--account <id>] [--json]
  dingtalk-channel allow add <userId> [--account <id>]
  dingtalk-channel allow remove <userId> [--account <id>]

The runtime allowlist admits DM senders besides dm.allowFrom in the configuration (which this
command does not change). User ids are DingTalk staff ids; a dingtalk:/dd:/user: prefix is ignored.`;

interface AllowArgs {
  action: 'list' | 'add' | 'remove';
  userId?: string;
  account?: string;
  json: boolean;
}

function parse(args: string[]) {
  return parseCommandArgs(
    args,
    {
      account: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    HELP,
  );
}

function checkedUserId(raw: string): string {
  try {
    return allowlistUserId(raw);
  } catch (err) {
    if (err instanceof ChannelError) throw usageError(err.message, HELP);
    throw err;
  }
}

function parseCommandLine(args: string[]): AllowArgs | 'help' {
  const { values, positionals } = parse(args);
  if (values.help) return 'help';
  const [action, userId, ...extra] = positionals;
  if (action !== 'list' && action !== 'add' && action !== 'remove') {
    throw usageError(action ? `Unknown allow action "${action}".` : 'Missing action.', HELP);
  }
  if (action === 'list' && userId !== undefined) {
    throw usageError(`allow list takes no user id (got "${userId}").`, HELP);
  }
  if (action !== 'list' && userId === undefined) {
    throw usageError(`allow ${action} needs a user id.`, HELP);
  }
  if (extra.length > 0) throw usageError(`Unexpected argument "${extra[0]}".`, HELP);
  if (values.json && action !== 'list')
    throw usageError('--json only applies to allow list.', HELP);
  return {
    action,
    ...(userId === undefined ? {} : { userId: checkedUserId(userId) }),
    ...(values.account === undefined ? {} : { account: values.account }),
    json: values.json ?? false,
  };
}

function entryJson(entry: AllowlistEntry) {
  return {
    userId: entry.userId,
    addedAt: new Date(entry.addedAt).toISOString(),
    via: entry.via,
    nick: entry.nick ?? null,
  };
}

async function list(context: OwnerContext, io: CliIo, json: boolean): Promise<number> {
  const { account } = context;
  const entries = await listAllowed(context.store, account.accountId);
  if (json) {
    io.out(JSON.stringify(entries.map(entryJson), null, 2));
    return EXIT_OK;
  }
  if (entries.length === 0) {
    io.out(`The runtime allowlist of account ${account.accountId} is empty.`);
  } else {
    const rows = entries.map((e) => [e.userId, e.nick ?? '', e.via, formatTime(e.addedAt)]);
    for (const line of formatTable(['USER ID', 'NICK', 'VIA', 'ADDED'], rows)) io.out(line);
  }
  const configured = account.dm.allowFrom;
  if (configured.length > 0) io.out(`Also admitted by dm.allowFrom: ${configured.join(', ')}`);
  return EXIT_OK;
}

/** A note when the DM policy makes the allowlist moot. */
function policyNote(context: OwnerContext): string | undefined {
  const { policy } = context.account.dm;
  if (policy === 'disabled') {
    return `Note: dm.policy is "disabled" for account ${context.account.accountId}, so nobody can DM the bot until that changes.`;
  }
  if (policy === 'open') {
    return `Note: dm.policy is "open" for account ${context.account.accountId}: everyone may DM the bot anyway.`;
  }
  return undefined;
}

async function add(context: OwnerContext, io: CliIo, userId: string): Promise<number> {
  const { account } = context;
  const { added, entry } = await addAllowed(context.store, account.accountId, userId, {
    via: 'cli',
    now: systemClock.now(),
  });
  io.out(
    added
      ? `Added ${entry.userId} to the runtime allowlist of account ${account.accountId}.`
      : `${entry.userId} is already on the runtime allowlist of account ${account.accountId} (added ${formatTime(entry.addedAt)} via ${entry.via}).`,
  );
  const note = policyNote(context);
  if (note) io.out(note);
  return EXIT_OK;
}

async function remove(context: OwnerContext, io: CliIo, userId: string): Promise<number> {
  const { account } = context;
  const removed = await removeAllowed(context.store, account.accountId, userId);
  const configured = idListMatches(account.dm.allowFrom, userId);
  const configNote = configured
    ? ` (dm.allowFrom in the configuration still admits ${userId}; this command does not change it)`
    : '';
  if (!removed) {
    io.err(
      `${userId} is not on the runtime allowlist of account ${account.accountId}${configNote}`,
    );
    return EXIT_REFUSED;
  }
  io.out(
    `Removed ${removed.userId} from the runtime allowlist of account ${account.accountId}.${configNote}`,
  );
  return EXIT_OK;
}

/** The `allow` subcommand. */
export const allowCommand: Subcommand = async (args, io) => {
  const parsed = parseCommandLine(args);
  if (parsed === 'help') {
    io.out(HELP);
    return EXIT_OK;
  }
  return withOwnerContext(io, parsed.account, (context) => {
    switch (parsed.action) {
      case 'list':
        return list(context, io, parsed.json);
      case 'add':
        return add(context, io, parsed.userId!);
      case 'remove':
        return remove(context, io, parsed.userId!);
    }
  });
};
