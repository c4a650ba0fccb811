/**
 * The per-message steps, in order (handler.ts runs them and finishes the message). Each step
 * reads and extends the `MessageRun` and either returns nothing (go on) or an outcome that ends
 * the message. No step finishes anything itself: leaving the session and completing or
 * abandoning the claim happen in handler.ts only.
 */
import type { AccountConfig } from '../config/index.js';
import { parseRobotMessage } from '../dingtalk/inbound.js';
import { type InboundMessage, InboundParseError } from '../dingtalk/inbound-types.js';
import { formatReply } from '../dingtalk/reply-format.js';
import type { HandleOutcome, MessageEvent } from '../forward/port.js';
import type { Logger } from '../log.js';
import { checkAccess, logDrop, runPairingChallenge } from '../policy/access.js';
import { pairingGate } from '../policy/pairing-store.js';
import type { DropReason, GroupSettings } from '../policy/types.js';
import type { StateStore } from '../state/port.js';
import type { StoredAttachment } from './attachments.js';
import { boundReply, inputLength, MAX_INPUT_CHARS } from './bounds.js';
import { cardModeOf, resumeCard } from './card-turn.js';
import { converse } from './converse.js';
import { claimMessage, type MessageClaim, type ReplyProgress } from './dedup.js';
import { InputTooLargeError } from './failure.js';
import { loadHistory, type SessionHistory } from './history.js';
import { deliverReply } from './reply.js';
import type { PipelineRuntime } from './runtime.js';
import { enterSession, type SessionTurn, sessionKey, tryEnterIdleSession } from './session.js';

/** Everything one message's steps share. */
export interface MessageRun {
  rt: PipelineRuntime;
  event: MessageEvent;
  /** Epoch ms by which the handler must be done. */
  deadline: number;
  /** The runtime's store, every call bound to the deadline. */
  store: StateStore;
  /** The same store with a short grace past the deadline: the claim and the session use it. */
  records: StateStore;
  /** Fires a little past the deadline, before the records' grace ends: open sends are cut off. */
  sendSignal: AbortSignal;
  log: Logger;
  account?: AccountConfig;
  message?: InboundMessage;
  group?: GroupSettings;
  sessionKey?: string;
  /** The DM sender goes through pairing (§3) instead of the agent. */
  pairing?: boolean;
  claim?: MessageClaim;
  session?: SessionTurn;
  /** Waits for the session turn when the idle fast path did not get it. */
  waitForSession?: () => Promise<SessionTurn>;
  /** The history read beside the claim; only valid with a turn taken on the fast path. */
  history?: Promise<SessionHistory>;
}

export type Step = (run: MessageRun) => Promise<HandleOutcome | undefined>;

/** The account and the parsed message; an unparseable payload is dropped (final). */
const parse: Step = async (run) => {
  const account = run.rt.config.accounts.find((a) => a.accountId === run.event.accountId);
  if (!account) {
    run.log.error('pipeline.drop', { reason: 'unknown_account' });
    return { status: 'dropped', reason: 'unknown_account' };
  }
  try {
    run.message = parseRobotMessage(run.event.data, {
      messageId: run.event.messageId,
      accountId: account.accountId,
    });
  } catch (err) {
    if (!(err instanceof InboundParseError)) throw err;
    run.log.warn('pipeline.drop', {
      reason: 'unparseable',
      field: err.field,
      rawSize: err.rawSize,
      msgId: err.msgId,
    });
    return { status: 'dropped', reason: 'unparseable' };
  }
  run.account = account;
  run.log = run.log.child({ msgId: run.message.msgId });
  if (run.message.ignored) run.log.info('inbound.ignored_fields', { fields: run.message.ignored });
  return undefined;
};

/** Policy (§2–§4) before anything is written: a drop costs at most two store reads. */
const admit: Step = async (run) => {
  const { message, account } = need(run);
  const access = await checkAccess(run.store, message, account);
  if (access.outcome === 'drop') {
    return drop(run, access.reason, 'hint' in access ? access.hint : undefined);
  }
  if (access.outcome === 'pairing') {
    const gate = await pairingGate(
      run.store,
      { accountId: account.accountId, userId: message.sender.id },
      run.rt.now(),
    );
    if (gate !== 'open')
      return drop(run, gate === 'pending' ? 'pairing_pending' : 'pairing_capacity');
    run.pairing = true;
    return undefined;
  }
  if (access.conversation === 'group') run.group = access.group;
  run.sessionKey = sessionKey(account.accountId, message, account.isolateContextPerUserInGroup);
  return undefined;
};

/**
 * The dedup claim, and beside it (one round trip) the idle-session fast path and the history a
 * stateless agent needs. A duplicate gives the speculatively taken session straight back.
 */
const claim: Step = async (run) => {
  const { message, account } = need(run);
  const now = run.rt.now();
  const key = run.sessionKey;
  const claiming = claimMessage(
    run.records,
    account.accountId,
    message.msgId,
    now,
    Math.min(run.deadline, now + run.rt.leaseMs),
  );
  const entering = key
    ? tryEnterIdleSession(run.records, account.accountId, key, message, sessionOptions(run))
    : undefined;
  const history =
    key && !run.rt.agent.keepsHistory ? loadHistory(run.store, account.accountId, key) : undefined;
  history?.catch(() => undefined); // awaited later, or dropped with the run
  const [claimed, door] = await Promise.all([claiming, entering]);
  if (!claimed.claimed) {
    await door?.turn?.leave();
    run.log.info('pipeline.duplicate', { reason: claimed.reason });
    return { status: 'duplicate', reason: claimed.reason };
  }
  run.claim = claimed.claim;
  if (claimed.claim.attempts > 1)
    run.log.info('pipeline.resumed_claim', { attempts: claimed.claim.attempts });
  if (door?.turn) {
    run.session = door.turn;
    if (history) run.history = history;
  }
  if (door) run.waitForSession = door.wait;
  return undefined;
};

/** An earlier attempt stored its reply: finish sending it, never ask the agent twice. */
const resume: Step = async (run) => {
  const progress = run.claim?.resumed;
  if (!progress) return undefined;
  await takeSession(run);
  // Card mode: nothing went out as markdown yet, so the stored reply closes the message's card.
  if (progress.attempted === 0 && cardModeOf(run)) {
    await resumeCard(run, progress.reply, progress.attachments);
  } else await sendStored(run, progress);
  return { status: 'handled', reason: 'resumed' };
};

/** An inbound text past the bound ends the message (final, the sender is told why). */
const boundInput: Step = async (run) => {
  const length = inputLength(need(run).message.text);
  if (length > MAX_INPUT_CHARS) throw new InputTooLargeError(length, MAX_INPUT_CHARS);
  return undefined;
};

/** §3: create the sender's pairing request and send the challenge once. */
const pairing: Step = async (run) => {
  if (!run.pairing) return undefined;
  const { message, account } = need(run);
  const challenge = await runPairingChallenge(run.store, message, account, {
    clock: { now: run.rt.now },
    defaultAccountId: run.rt.config.defaultAccountId,
    logger: run.log,
  });
  if (!challenge.sendChallenge) return drop(run, challenge.reason);
  await sendText(run, challenge.text);
  return { status: 'handled', reason: 'pairing_challenge' };
};

/** One message at a time per session (§6). */
const session: Step = async (run) => {
  await takeSession(run);
  return undefined;
};

/** The command or the agent turn, and its reply. */
const reply: Step = async (run) => {
  await converse(run);
  return undefined;
};

export const PIPELINE_STEPS: readonly Step[] = [
  parse,
  admit,
  claim,
  resume,
  boundInput,
  pairing,
  session,
  reply,
];

async function takeSession(run: MessageRun): Promise<void> {
  if (run.session || !run.sessionKey) return;
  const { message, account } = need(run);
  const wait =
    run.waitForSession ??
    (() =>
      enterSession(run.store, account.accountId, run.sessionKey!, message, sessionOptions(run)));
  run.session = await wait();
}

function sessionOptions(run: MessageRun) {
  return {
    now: run.rt.now,
    deadline: run.deadline,
    maxWaitMs: run.rt.sessionMaxWaitMs,
    leaseMs: run.rt.leaseMs,
    logger: run.log,
  };
}

async function drop(run: MessageRun, reason: DropReason, hint?: string): Promise<HandleOutcome> {
  const { message, account } = need(run);
  await logDrop(
    { store: run.store, logger: run.log, clock: { now: run.rt.now } },
    message,
    account,
    {
      reason,
      ...(hint ? { hint } : {}),
    },
  );
  return { status: 'dropped', reason };
}

/** The parsed message and its account (every step after `parse` has them). */
export function need(run: MessageRun): { message: InboundMessage; account: AccountConfig } {
  if (!run.message || !run.account) throw new Error('pipeline step ran before parse');
  return { message: run.message, account: run.account };
}

function chunksOf(run: MessageRun, text: string, mentionIds: readonly string[] = []) {
  const { message, account } = need(run);
  const group = message.conversationType === 'group';
  return formatReply(text, {
    limit: account.textChunkLimit,
    mode: account.chunkMode,
    ...(account.responsePrefix ? { responsePrefix: account.responsePrefix } : {}),
    ...(group && message.sender.staffId ? { mentionStaffId: message.sender.staffId } : {}),
    ...(group && mentionIds.length > 0 ? { mentionIds: [...mentionIds] } : {}),
  });
}

/**
 * Stores `text` as the message's reply (with `alongside`, written in the same round trip) and
 * sends it, then its uploaded `attachments` (media ids, stored with the text). A `note` (the
 * short message of a final failure) is sent as it is, without touching the stored reply: the
 * message is being ended.
 */
export async function sendText(
  run: MessageRun,
  text: string,
  options: {
    note?: boolean;
    alongside?: Promise<unknown>;
    attachments?: readonly StoredAttachment[];
    /** Group members the reply @-mentions besides the sender (lib/dingtalk/mentions.ts). */
    mentionIds?: string[];
  } = {},
): Promise<void> {
  const bounded = boundReply(text);
  if (bounded.truncated) run.log.warn('reply.truncated', { bytes: Buffer.byteLength(text) });
  if (options.note) {
    await deliver(run, chunksOf(run, bounded.text), 0, false);
    return;
  }
  const attachments = options.attachments ?? [];
  const mentions = options.mentionIds ?? [];
  await Promise.all([
    claimOf(run).storeReply(bounded.text, { attachments, mentions }),
    options.alongside,
  ]);
  await deliver(run, chunksOf(run, bounded.text, mentions), 0, true, attachments);
}

async function sendStored(run: MessageRun, progress: ReplyProgress): Promise<void> {
  if (progress.attempted > progress.sent) {
    run.log.warn('reply.ambiguous_skipped', { chunks: [progress.sent, progress.attempted] });
  }
  const chunks = chunksOf(run, progress.reply, progress.mentions);
  await deliver(run, chunks, progress.attempted, true, progress.attachments);
}

async function deliver(
  run: MessageRun,
  chunks: ReturnType<typeof chunksOf>,
  from: number,
  tracked: boolean,
  attachments: readonly StoredAttachment[] = [],
) {
  const { message, account } = need(run);
  if (chunks.length === 0 && attachments.length === 0) {
    run.log.info('reply.suppressed', { reason: 'empty_or_no_reply' });
    return;
  }
  const claim = tracked ? claimOf(run) : undefined;
  const channels = await deliverReply(message, chunks, {
    api: run.rt.apiFor(account),
    now: run.rt.now,
    logger: run.log,
    from,
    attachments,
    // No chunk is started after this. One already under way is not cut off right at the deadline:
    // cut off, it would count as "maybe sent" and never be sent again, while letting it finish
    // (within the webhook's own timeout) can never send it twice, since a retry skips every
    // attempted chunk.
    startBy: run.deadline - run.rt.replyReserveMs / 3,
    // Retry sleeps (QPS limits) and a send still open a second past the deadline do stop.
    signal: run.sendSignal,
    beforeSend: (i) => claim?.sending(i) ?? Promise.resolve(),
    settled: (i, landed) => claim?.settled(i, landed),
  });
  run.log.info('reply.sent', {
    chunks: chunks.length,
    ...(attachments.length > 0 ? { attachments: attachments.length } : {}),
    from,
    channels,
  });
}

function claimOf(run: MessageRun): MessageClaim {
  if (!run.claim) throw new Error('pipeline: a reply needs the dedup claim');
  return run.claim;
}
