/**
 * The message pipeline: one inbound robot message in, the right reply out, exactly once
 * (channel-semantics.md §5–§9). Small steps, each able to stop the message with a logged reason:
 *
 *   parse ─► dedup claim ─► policy ─► session turn ─► command | agent ─► reply ─► complete
 *
 * Policy runs before the session turn (the issue lists it after): a dropped message then touches
 * no session record and never waits behind a busy session, and it still costs no agent call and
 * no paid DingTalk call (invariant 4).
 *
 * Error handling per hop: a bad payload, a drop, a duplicate and an agent failure are "handled"
 * (the caller acks); a store or DingTalk failure while handling is "retry": the claim is
 * abandoned (dedup.ts) and the error is rethrown so the relay leaves the message unacked / the
 * platform retries the invocation.
 * Invariants and their tests: test/pipeline/handler-*.test.ts.
 */
import { appendExchange } from '../agent/history.js';
import type { AccountConfig } from '../config/index.js';
import { parseRobotMessage } from '../dingtalk/inbound.js';
import { type InboundMessage, InboundParseError } from '../dingtalk/inbound-types.js';
import { formatReply } from '../dingtalk/reply-format.js';
import { errorSummary } from '../errors.js';
import type { HandleOutcome, MessageEvent } from '../forward/port.js';
import type { Logger } from '../log.js';
import { checkAccess, logDrop, runPairingChallenge } from '../policy/access.js';
import type { GroupSettings } from '../policy/types.js';
import { callAgent } from './agent-call.js';
import { HELP_TEXT, parseCommand, statusText, whoamiText } from './commands.js';
import {
  abandonMessage,
  type Claim,
  claimMessage,
  completeMessage,
  recordProgress,
  recordReply,
  renewClaim,
} from './dedup.js';
import { deliverReply } from './reply.js';
import type { PipelineRuntime } from './runtime.js';
import {
  enterSession,
  loadHistory,
  resetHistory,
  type SessionTurn,
  saveHistory,
  sessionKey,
} from './session.js';

/** Handles one forwarded event before `deadline` (epoch ms). */
export async function handleMessageEvent(
  rt: PipelineRuntime,
  event: MessageEvent,
  context: { deadline: number },
): Promise<HandleOutcome> {
  const log = rt.logger.child({ account: event.accountId, messageId: event.messageId });
  const account = rt.config.accounts.find((a) => a.accountId === event.accountId);
  if (!account) {
    log.error('pipeline.drop', { reason: 'unknown_account' });
    return { status: 'dropped', reason: 'unknown_account' };
  }
  let message: InboundMessage;
  try {
    message = parseRobotMessage(event.data, {
      messageId: event.messageId,
      accountId: account.accountId,
    });
  } catch (err) {
    if (!(err instanceof InboundParseError)) throw err;
    log.warn('pipeline.drop', {
      reason: 'unparseable',
      field: err.field,
      rawSize: err.rawSize,
      msgId: err.msgId,
    });
    return { status: 'dropped', reason: 'unparseable' };
  }
  const claimed = await claimMessage(
    rt.store,
    account.accountId,
    message.msgId,
    rt.now(),
    Math.min(context.deadline, rt.now() + rt.leaseMs),
  );
  if (!claimed.claimed) {
    log.info('pipeline.duplicate', { msgId: message.msgId, reason: claimed.reason });
    return { status: 'duplicate', reason: claimed.reason };
  }
  const turn = new MessageTurn(
    rt,
    account,
    message,
    claimed.claim,
    context.deadline,
    log.child({ msgId: message.msgId }),
  );
  const keeper = setInterval(() => void turn.renewLeases(), rt.leaseMs / 3);
  try {
    const outcome = await turn.run();
    if (!turn.completed) await turn.complete(outcome);
    return outcome;
  } catch (err) {
    log.error('pipeline.failed', { msgId: message.msgId, error: errorSummary(err) });
    await abandonMessage(rt.store, claimed.claim).catch((e) =>
      log.error('pipeline.abandon_failed', { error: errorSummary(e) }),
    );
    throw err;
  } finally {
    clearInterval(keeper);
  }
}

/** Everything after the claim, for one message. */
class MessageTurn {
  private session: SessionTurn | undefined;
  /** True once the dedup record says COMPLETED. */
  completed = false;

  constructor(
    private readonly rt: PipelineRuntime,
    private readonly account: AccountConfig,
    private readonly message: InboundMessage,
    private readonly claim: Claim,
    private readonly deadline: number,
    private readonly log: Logger,
  ) {}

  /**
   * Extends the dedup claim and the session lease while this message is handled. Leases are
   * short (`leaseMs`) so that a handler whose process died blocks its message and its session
   * only briefly: the relay's retry, or the platform's, then takes over.
   */
  async renewLeases(): Promise<void> {
    const until = Math.min(this.deadline, this.rt.now() + this.rt.leaseMs);
    try {
      await renewClaim(this.rt.store, this.claim, until);
      await this.session?.renew();
    } catch (err) {
      this.log.warn('pipeline.lease_renewal_failed', { error: errorSummary(err) });
    }
  }

  /** Marks the message handled in the dedup record (later deliveries are duplicates). */
  async complete(outcome: HandleOutcome): Promise<void> {
    const result = outcome.status === 'handled' ? 'handled' : outcome.reason;
    await completeMessage(this.rt.store, this.claim, this.rt.now(), result);
    this.completed = true;
  }

  async run(): Promise<HandleOutcome> {
    // An earlier attempt stored its reply: finish sending it, never ask the agent twice.
    if (this.claim.reply !== undefined) {
      await this.send(this.claim.reply);
      return { status: 'handled', reason: 'resumed' };
    }
    const access = await checkAccess(this.rt.store, this.message, this.account);
    if (access.outcome === 'drop') {
      await this.drop(access.reason, 'hint' in access ? access.hint : undefined);
      return { status: 'dropped', reason: access.reason };
    }
    if (access.outcome === 'pairing') return this.pairing();
    const group = access.conversation === 'group' ? access.group : undefined;
    const key = sessionKey(
      this.account.accountId,
      this.message,
      this.account.isolateContextPerUserInGroup,
    );
    this.session = await enterSession(this.rt.store, this.account.accountId, key, this.message, {
      now: this.rt.now,
      deadline: this.deadline,
      maxWaitMs: this.rt.sessionMaxWaitMs,
      leaseMs: this.rt.leaseMs,
      logger: this.log,
    });
    const leave = () => {
      const session = this.session;
      this.session = undefined;
      return session?.leave();
    };
    try {
      await this.converse(key, group);
    } catch (err) {
      await leave();
      throw err;
    }
    // Independent writes: the next message of the session may start while this one completes.
    const outcome: HandleOutcome = { status: 'handled' };
    await Promise.all([leave(), this.complete(outcome)]);
    return outcome;
  }

  private async drop(reason: string, hint: string | undefined): Promise<void> {
    const clock = { now: this.rt.now };
    await logDrop({ store: this.rt.store, logger: this.log, clock }, this.message, this.account, {
      reason: reason as Parameters<typeof logDrop>[3]['reason'],
      ...(hint ? { hint } : {}),
    });
  }

  private async pairing(): Promise<HandleOutcome> {
    const challenge = await runPairingChallenge(this.rt.store, this.message, this.account, {
      clock: { now: this.rt.now },
      defaultAccountId: this.rt.config.defaultAccountId,
      logger: this.log,
    });
    if (!challenge.sendChallenge) {
      await this.drop(challenge.reason, undefined);
      return { status: 'dropped', reason: challenge.reason };
    }
    await this.reply(challenge.text);
    return { status: 'handled', reason: 'pairing_challenge' };
  }

  /** Command or agent turn, inside the session's turn. */
  private async converse(key: string, group: GroupSettings | undefined): Promise<void> {
    const command = parseCommand(this.message.text);
    let text = this.message.text;
    if (command?.name === 'new' || command?.name === 'reset') {
      await resetHistory(this.rt.store, this.account.accountId, key, this.rt.now());
      if (command.name === 'reset' || command.rest === '') {
        await this.reply('Started a new conversation.');
        return;
      }
      text = command.rest;
    } else if (command) {
      await this.reply(await this.commandText(command.name, key, group));
      return;
    }
    const stateless = !this.rt.agent.keepsHistory;
    const history = stateless
      ? await loadHistory(this.rt.store, this.account.accountId, key)
      : { turns: [] };
    const signal = AbortSignal.timeout(
      Math.max(1, this.deadline - this.rt.now() - this.rt.replyReserveMs),
    );
    const result = await callAgent(
      this.rt.agent,
      {
        accountId: this.account.accountId,
        sessionKey: key,
        message: this.message,
        text,
        group,
        history: history.turns,
      },
      { api: this.rt.apiFor(this.account), signal, logger: this.log },
    );
    // The reply and the history are both written before sending (in parallel: they are
    // independent): a retry after a failed send resumes the stored reply (run() → send) and never
    // comes back here, so an exchange saved only after sending would be lost from the session.
    const remember = stateless && result.answered && history.lastMsgId !== this.message.msgId;
    const limits = this.rt.config.settings.agent;
    await Promise.all([
      recordReply(this.rt.store, this.claim, result.text),
      remember
        ? saveHistory(
            this.rt.store,
            this.account.accountId,
            key,
            {
              turns: appendExchange(
                history.turns,
                { user: text, assistant: result.text },
                { maxTurns: limits.maxHistoryTurns, maxChars: limits.maxHistoryChars },
              ),
              lastMsgId: this.message.msgId,
            },
            this.rt.now(),
          )
        : undefined,
    ]);
    await this.send(result.text);
  }

  private async commandText(
    name: 'status' | 'help' | 'whoami',
    key: string,
    group: GroupSettings | undefined,
  ): Promise<string> {
    if (name === 'help') return HELP_TEXT;
    if (name === 'whoami') return whoamiText(this.message.sender.id, this.message.conversationId);
    const agent = this.rt.agent;
    const history = agent.keepsHistory
      ? 'kept by the agent'
      : (await loadHistory(this.rt.store, this.account.accountId, key)).turns.length;
    return statusText({
      accountId: this.account.accountId,
      sessionKey: key,
      historyTurns: history,
      agentName: agent.name,
      ...(agent.model ? { model: agent.model } : {}),
      ...(group ? { groupPolicy: describeGroupPolicy(group) } : {}),
    });
  }

  /** Stores the reply (for a retry to resume), then sends it. */
  private async reply(text: string): Promise<void> {
    await recordReply(this.rt.store, this.claim, text);
    await this.send(text);
  }

  private async send(text: string): Promise<void> {
    const chunks = formatReply(text, {
      limit: this.account.textChunkLimit,
      mode: this.account.chunkMode,
      ...(this.account.responsePrefix ? { responsePrefix: this.account.responsePrefix } : {}),
      ...(this.message.conversationType === 'group' && this.message.sender.staffId
        ? { mentionStaffId: this.message.sender.staffId }
        : {}),
    });
    if (chunks.length === 0) {
      this.log.info('reply.suppressed', { reason: 'empty_or_no_reply' });
      return;
    }
    const channels = await deliverReply(this.message, chunks, {
      api: this.rt.apiFor(this.account),
      now: this.rt.now,
      logger: this.log,
      alreadySent: this.claim.sentChunks,
      // Nothing is sent after the deadline: by then a retry may own the message and send too.
      signal: AbortSignal.timeout(Math.max(1, this.deadline - this.rt.now())),
      // Earlier chunks need a write; the last one's progress is written by completeMessage, or,
      // if that fails, by abandonMessage (so a retry does not send it again).
      onSent: (n) => {
        if (n < chunks.length) return recordProgress(this.rt.store, this.claim, n);
        this.claim.sentChunks = n;
        return Promise.resolve();
      },
    });
    this.log.info('reply.sent', { chunks: chunks.length, channels });
  }
}

function describeGroupPolicy(group: GroupSettings): string {
  const parts = [group.policy, `requireMention ${group.requireMention}`];
  if (group.entryKey) parts.push(`entry groups["${group.entryKey}"]`);
  if (group.users) parts.push(`${group.users.length} allowed user(s)`);
  return parts.join(', ');
}
