/**
 * `dingtalk-channel pairing list|approve|reject` (channel-semantics.md §3): the owner's side of
 * pairing, against the same store the channel uses. Exit codes: 0 done, 1 no such request or
 * store unreachable, 2 usage or configuration error. `approve --notify` that cannot deliver its
 * message still exits 0 (the approval stands) and prints a `Warning:` line on stderr.
 */
import { systemClock } from '../clock.js';
import type { AccountConfig, AppSettings } from '../config/index.js';
import { accountApi } from '../dingtalk/api.js';
import { errorSummary } from '../errors.js';
import { maskSecrets } from '../log.js';
import { ACCESS_APPROVED_TEXT, isPairingCodeShape, PAIRING_ALPHABET } from '../policy/pairing.js';
import {
  approvePairing,
  listPendingRequests,
  type PairingRequest,
  rejectPairing,
} from '../policy/pairing-store.js';
import { normalizePairingCode } from '../state/keys.js';
import { parseCommandArgs } from './args.js';
import { type CliIo, EXIT_OK, EXIT_REFUSED, type Subcommand } from './main.js';
import {
  formatTable,
  formatTime,
  type OwnerContext,
  printable,
  usageError,
  withOwnerContext,
} from './open-store.js';

const HELP = `Usage:
  dingtalk-channel pairing list [--account <id>] [--json]
  dingtalk-channel pairing approve <CODE> [--account <id>] [--notify]
  dingtalk-channel pairing reject <CODE> [--account <id>]

Pairing requests come from DMs of senders nobody has allowed yet (dm.policy "pairing"); each
lives 1 hour. approve adds the sender to the runtime allowlist (--notify also sends them a DM);
reject deletes the request (they may ask again once it would have expired).`;

interface PairingArgs {
  action: 'list' | 'approve' | 'reject';
  code?: string;
  account?: string;
  json: boolean;
  notify: boolean;
}

function parseCommandLine(args: string[]): PairingArgs | 'help' {
  const { values, positionals } = parse(args);
  if (values.help) return 'help';
  const [action, code, ...extra] = positionals;
  if (action !== 'list' && action !== 'approve' && action !== 'reject') {
    throw usageError(action ? `Unknown pairing action "${action}".` : 'Missing action.', HELP);
  }
  if (action === 'list' && code !== undefined) {
    throw usageError(`pairing list takes no code (got "${code}").`, HELP);
  }
  if (action !== 'list' && code === undefined)
    throw usageError(`pairing ${action} needs a code.`, HELP);
  if (extra.length > 0) throw usageError(`Unexpected argument "${extra[0]}".`, HELP);
  if (values.json && action !== 'list')
    throw usageError('--json only applies to pairing list.', HELP);
  if (values.notify && action !== 'approve') {
    throw usageError('--notify only applies to pairing approve.', HELP);
  }
  return {
    action,
    ...(code === undefined ? {} : { code: checkedCode(code) }),
    ...(values.account === undefined ? {} : { account: values.account }),
    json: values.json ?? false,
    notify: values.notify ?? false,
  };
}

function parse(args: string[]) {
  return parseCommandArgs(
    args,
    {
      account: { type: 'string' },
      json: { type: 'boolean' },
      notify: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    HELP,
  );
}

/** Codes match case-insensitively (§3); anything that cannot be a code is a usage error. */
function checkedCode(raw: string): string {
  const code = normalizePairingCode(raw);
  if (!isPairingCodeShape(code)) {
    throw usageError(
      `"${raw}" is not a pairing code: codes are 8 characters from ${PAIRING_ALPHABET}.`,
      HELP,
    );
  }
  return code;
}

function requestJson(request: PairingRequest) {
  return {
    code: request.code,
    userId: request.userId,
    nick: request.nick ?? null,
    createdAt: new Date(request.createdAt).toISOString(),
    expiresAt: new Date(request.expiresAt * 1000).toISOString(),
  };
}

async function list(context: OwnerContext, io: CliIo, json: boolean): Promise<number> {
  const requests = await listPendingRequests(
    context.store,
    context.account.accountId,
    systemClock.now(),
  );
  if (json) {
    io.out(JSON.stringify(requests.map(requestJson), null, 2));
    return EXIT_OK;
  }
  if (requests.length === 0) {
    io.out(`No pending pairing requests for account ${context.account.accountId}.`);
    return EXIT_OK;
  }
  const rows = requests.map((r) => [
    r.code,
    r.userId,
    r.nick ?? '',
    formatTime(r.createdAt),
    formatTime(r.expiresAt * 1000),
  ]);
  for (const line of formatTable(['CODE', 'USER ID', 'NICK', 'CREATED', 'EXPIRES'], rows)) {
    io.out(line);
  }
  io.out(`Approve one with: dingtalk-channel pairing approve <CODE>${context.accountFlag}`);
  return EXIT_OK;
}

function notFound(context: OwnerContext, io: CliIo, code: string): number {
  io.err(`No pending pairing request with code ${code} for account ${context.account.accountId}`);
  io.err(
    `Requests expire 1 hour after they are made; see dingtalk-channel pairing list${context.accountFlag}`,
  );
  return EXIT_REFUSED;
}

const who = (request: PairingRequest) =>
  printable(request.nick ? `${request.userId} (${request.nick})` : request.userId);

async function approve(context: OwnerContext, io: CliIo, args: PairingArgs): Promise<number> {
  const code = args.code!;
  const result = await approveAndNotify(context, code, args.notify);
  if (!result) return notFound(context, io, code);
  for (const line of result.lines) io.out(line);
  if (result.warning) io.err(result.warning);
  return EXIT_OK;
}

/** What an approval did: the lines `pairing approve` prints, and a warning when --notify failed. */
export interface ApprovalResult {
  request: PairingRequest;
  lines: string[];
  warning?: string;
}

/**
 * The operation behind `pairing approve [--notify]`, shared with the demo's chat page:
 * approves the request, then (with `notify`) sends the "access approved" DM. Undefined when no
 * live request has this code. A failed notification is a warning: the approval stands.
 */
export async function approveAndNotify(
  context: Pick<OwnerContext, 'store' | 'account'> & { config: { settings: AppSettings } },
  code: string,
  notify: boolean,
): Promise<ApprovalResult | undefined> {
  const { account } = context;
  const request = await approvePairing(context.store, account.accountId, code, {
    clock: systemClock,
  });
  if (!request) return undefined;
  const lines = [
    `Approved ${code} for account ${account.accountId}: ${who(request)} can now DM the bot.`,
  ];
  if (!notify) return { request, lines };
  const notified = await notifyApproved(account, context.config.settings, request.userId);
  if (notified.sent) lines.push(notified.sent);
  return { request, lines, ...(notified.warning ? { warning: notified.warning } : {}) };
}

/** Sends the "access approved" DM; a failure is a warning, the approval already stands. */
async function notifyApproved(
  account: AccountConfig,
  settings: AppSettings,
  userId: string,
): Promise<{ sent?: string; warning?: string }> {
  const warn = (why: string) => ({
    warning: `Warning: approved, but the approval message to ${userId} was not sent: ${why}`,
  });
  if (!account.clientId || !account.clientSecret) {
    return warn(`account ${account.accountId} has no clientId/clientSecret configured`);
  }
  try {
    const api = accountApi(account, settings.dingtalk.apiBase);
    const { invalidUserIds } = await api.sendToUsers([userId], {
      msgKey: 'sampleText',
      msgParam: { content: ACCESS_APPROVED_TEXT },
    });
    if (invalidUserIds.includes(userId))
      return warn('DingTalk does not know this user id for the bot');
    return { sent: `Sent ${userId} a message saying their access was approved.` };
  } catch (err) {
    return warn(maskSecrets(errorSummary(err).message));
  }
}

async function reject(context: OwnerContext, io: CliIo, code: string): Promise<number> {
  const { account } = context;
  const request = await rejectPairing(context.store, account.accountId, code, {
    clock: systemClock,
  });
  if (!request) return notFound(context, io, code);
  io.out(
    `Rejected ${code} for account ${account.accountId}: ${who(request)} gets no access; ` +
      `they may ask again after ${formatTime(request.expiresAt * 1000)}.`,
  );
  return EXIT_OK;
}

/** The `pairing` subcommand. */
export const pairingCommand: Subcommand = async (args, io) => {
  const parsed = parseCommandLine(args);
  if (parsed === 'help') {
    io.out(HELP);
    return EXIT_OK;
  }
  return withOwnerContext(io, parsed.account, (context) => {
    switch (parsed.action) {
      case 'list':
        return list(context, io, parsed.json);
      case 'approve':
        return approve(context, io, parsed);
      case 'reject':
        return reject(context, io, parsed.code!);
    }
  });
};
