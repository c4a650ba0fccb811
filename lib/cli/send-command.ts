/**
 * `dingtalk-channel send <target> [text] [--image <path|url>]… [--file <path|url>]…
 * [--account <id>]` (channel-semantics.md §8): a proactive message through the robot OpenAPI,
 * the text first, then each image (`sampleImageMsg`) and file (`sampleFile`) in the order
 * given. A local path is read (at most DingTalk's 20 MB, checked before reading); a URL is
 * fetched by the channel with the same byte cap and timeout as an agent's attachment.
 * Exit codes: 0 sent, 1 DingTalk refused, the target is unknown or an attachment cannot be sent
 * (then nothing was sent), 2 usage or configuration error (a malformed target, a missing file,
 * an unknown or disabled account).
 */
import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { cleanName, type ReplyAttachment } from '../agent/attachments.js';
import { type AccountConfig, loadConfig, sendingAccount } from '../config/index.js';
import { accountApi } from '../dingtalk/api.js';
import { MEDIA_MAX_BYTES } from '../dingtalk/media-upload.js';
import { describeTarget, parseTarget, type Target } from '../dingtalk/targets.js';
import { ChannelError } from '../errors.js';
import { sendToTarget } from '../pipeline/outbound.js';
import { parseCommandArgs } from './args.js';
import { demoAwareEnv } from './demo-link.js';
import { EXIT_OK, type Subcommand } from './main.js';
import { usageError } from './open-store.js';

const HELP = `Usage:
  dingtalk-channel send <target> [text] [--image <path|url>]... [--file <path|url>]... [--account <id>]

Targets: dingtalk:group:<openConversationId>, dingtalk:user:<userId>, or dingtalk:<id>
(an id starting with "cid" is a group, anything else a user; the dingtalk: prefix is optional).
The text goes first, then each --image and --file in the order given (at most 20 MB each;
images: jpg, gif, png or bmp). A text is needed unless an image or a file is given.`;

function parse(args: string[]) {
  return parseCommandArgs(
    args,
    {
      account: { type: 'string' },
      image: { type: 'string', multiple: true },
      file: { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
    HELP,
  );
}

function target(raw: string | undefined, text: string, attachments: number): Target {
  if (!raw || (!text.trim() && attachments === 0))
    throw usageError('send needs a target and a text, an --image or a --file.', HELP);
  try {
    return parseTarget(raw);
  } catch (err) {
    throw usageError((err as Error).message, HELP);
  }
}

/** The --image / --file values in the order they were given on the command line. */
function attachmentArgs(args: string[]): { type: 'image' | 'file'; value: string }[] {
  const out: { type: 'image' | 'file'; value: string }[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const eq = /^--(image|file)=(.*)$/s.exec(arg);
    if (eq) out.push({ type: eq[1] as 'image' | 'file', value: eq[2]! });
    else if ((arg === '--image' || arg === '--file') && i + 1 < args.length)
      out.push({ type: arg === '--image' ? 'image' : 'file', value: args[++i]! });
    else if (arg === '--') break;
  }
  return out;
}

/** A URL is passed on for the channel to fetch; a path is read here, within the size limit. */
async function toAttachment(spec: {
  type: 'image' | 'file';
  value: string;
}): Promise<ReplyAttachment> {
  if (/^https?:\/\//i.test(spec.value)) return { type: spec.type, source: { url: spec.value } };
  const max = MEDIA_MAX_BYTES[spec.type];
  let size: number;
  try {
    const info = await stat(spec.value);
    if (!info.isFile()) throw new Error('not a file');
    size = info.size;
  } catch {
    throw usageError(`--${spec.type} ${spec.value}: no such file`, HELP);
  }
  if (size > max) {
    throw new ChannelError(
      'attachment_failed',
      `Nothing was sent: ${spec.type} ${basename(spec.value)} is larger than ${max / (1024 * 1024)} MB.`,
    );
  }
  return {
    type: spec.type,
    name: cleanName(basename(spec.value)),
    source: { bytes: await readFile(spec.value) },
  };
}

export const sendCommand: Subcommand = async (args, io) => {
  const { values, positionals } = parse(args);
  if (values.help) {
    io.out(HELP);
    return EXIT_OK;
  }
  const [rawTarget, ...words] = positionals;
  const text = words.join(' ');
  const specs = attachmentArgs(args);
  const to = target(rawTarget, text, specs.length);
  const attachments: ReplyAttachment[] = [];
  for (const spec of specs) attachments.push(await toAttachment(spec));
  // Against a running demo, the simulated DingTalk and its app credentials (demo-link.ts).
  const config = loadConfig(await demoAwareEnv(io.env), { requireCredentials: true });
  let account: AccountConfig;
  try {
    account = sendingAccount(config, values.account);
  } catch (err) {
    if (err instanceof ChannelError) throw usageError(err.message, HELP);
    throw err;
  }
  const api = accountApi(account, config.settings.dingtalk.apiBase, {
    oapiBase: config.settings.dingtalk.oapiBase,
  });
  const sent = await sendToTarget(api, account, to, { text, attachments });
  io.out(
    `Sent ${sent} message${sent === 1 ? '' : 's'} to ${describeTarget(to)} (account ${account.accountId}).`,
  );
  return EXIT_OK;
};
