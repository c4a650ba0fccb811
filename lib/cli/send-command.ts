/**
 * `dingtalk-channel send <target> <text> [--account <id>]` (channel-semantics.md §8): a
 * proactive message through the robot OpenAPI. Exit codes: 0 sent, 1 DingTalk refused or the
 * target is unknown, 2 usage or configuration error (a malformed target, an unknown or disabled
 * account).
 */
import { type AccountConfig, loadConfig, sendingAccount } from '../config/index.js';
import { accountApi } from '../dingtalk/api.js';
import { describeTarget, parseTarget, type Target } from '../dingtalk/targets.js';
import { ChannelError } from '../errors.js';
import { sendToTarget } from '../pipeline/outbound.js';
import { parseCommandArgs } from './args.js';
import { demoAwareEnv } from './demo-link.js';
import { EXIT_OK, type Subcommand } from './main.js';
import { usageError } from './open-store.js';

const HELP = `Usage:
  dingtalk-channel send <target> <text> [--account <id>]

Targets: dingtalk:group:<openConversationId>, dingtalk:user:<userId>, or dingtalk:<id>
(an id starting with "cid" is a group, anything else a user; the dingtalk: prefix is optional).`;

function parse(args: string[]) {
  return parseCommandArgs(
    args,
    { account: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    HELP,
  );
}

function target(raw: string | undefined, text: string): Target {
  if (!raw || !text.trim()) throw usageError('send needs a target and a text.', HELP);
  try {
    return parseTarget(raw);
  } catch (err) {
    throw usageError((err as Error).message, HELP);
  }
}

export const sendCommand: Subcommand = async (args, io) => {
  const { values, positionals } = parse(args);
  if (values.help) {
    io.out(HELP);
    return EXIT_OK;
  }
  const [rawTarget, ...words] = positionals;
  const text = words.join(' ');
  const to = target(rawTarget, text);
  // Against a running demo, the simulated DingTalk and its app credentials (demo-link.ts).
  const config = loadConfig(await demoAwareEnv(io.env), { requireCredentials: true });
  let account: AccountConfig;
  try {
    account = sendingAccount(config, values.account);
  } catch (err) {
    if (err instanceof ChannelError) throw usageError(err.message, HELP);
    throw err;
  }
  const api = accountApi(account, config.settings.dingtalk.apiBase);
  const sent = await sendToTarget(api, account, to, text);
  io.out(
    `Sent ${sent} message${sent === 1 ? '' : 's'} to ${describeTarget(to)} (account ${account.accountId}).`,
  );
  return EXIT_OK;
};
