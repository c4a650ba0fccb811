/**
 * The turn inside the session (channel-semantics.md §5, §6): a command the channel answers
 * itself, or the agent call. The reply and the history are written in one round trip before the
 * reply goes out (steps.ts `sendText`): a retry after a failed send resumes the stored reply and
 * never comes back here, so an exchange saved only after sending would be lost from the session.
 */

import { knownStaffIds, settleMentions } from '../dingtalk/mentions.js';
import type { GroupSettings } from '../policy/types.js';
import { type AgentCallResult, callAgent } from './agent-call.js';
import { prepareAttachments, type StoredAttachment, withAttachmentNotes } from './attachments.js';
import { abortCard, cardReplyFor, finishCard } from './card-turn.js';
import { HELP_TEXT, parseCommand, statusText, whoamiText } from './commands.js';
import { appendToHistory, loadHistory, resetHistory, type SessionHistory } from './history.js';
import type { MediaLimits } from './media-fetch.js';
import { type MessageRun, need, sendText } from './steps.js';

export async function converse(run: MessageRun): Promise<void> {
  const { message, account } = need(run);
  const key = run.sessionKey!;
  const command = parseCommand(message.text);
  let text = message.text;
  if (command?.name === 'new' || command?.name === 'reset') {
    await resetHistory(run.store, account.accountId, key, run.rt.now());
    run.history = undefined;
    if (command.name === 'reset' || command.rest === '') {
      await sendText(run, 'Started a new conversation.');
      return;
    }
    text = command.rest;
  } else if (command) {
    await sendText(run, await commandText(run, command.name));
    return;
  }
  const agent = run.rt.agent;
  const stateless = !agent.keepsHistory;
  const history: SessionHistory = stateless
    ? await (run.history ?? loadHistory(run.store, account.accountId, key))
    : { turns: [], version: 0 };
  const signal = AbortSignal.timeout(
    Math.max(1, run.deadline - run.rt.now() - run.rt.replyReserveMs),
  );
  const card = cardReplyFor(run);
  const result = await callAgent(
    agent,
    {
      accountId: account.accountId,
      sessionKey: key,
      message,
      text,
      group: run.group,
      history: history.turns,
    },
    {
      api: run.rt.apiFor(account),
      // In card mode the card's `stop` button aborts the call too (card-stop.ts).
      signal: card?.withStop(signal) ?? signal,
      logger: run.log,
      mediaLimits: mediaLimitsOf(run),
      ...(card ? { onText: (t: string) => card.onText(t) } : {}),
    },
  );
  const limits = run.rt.config.settings.agent;
  const remember = stateless && result.answered;
  // Who the reply @-mentions: the agent's structured list and known ids written as @<staffId>.
  const settled = result.answered
    ? settleMentions(result.text, {
        conversationType: message.conversationType,
        known: knownStaffIds(message, history.senders),
        ...(result.mentions ? { structured: result.mentions } : {}),
        ...(message.sender.staffId ? { senderStaffId: message.sender.staffId } : {}),
      })
    : { text: result.text, mentionIds: [] };
  // Card replies carry no mentions yet (a card has no at block): the card shows the agent's text.
  const { text: replyText, attachments } = await attachmentsOf(run, {
    ...result,
    text: card ? result.text : settled.text,
  });
  const alongside = remember
    ? appendToHistory(
        run.store,
        account.accountId,
        key,
        history,
        {
          msgId: message.msgId,
          user: text,
          assistant: settled.text,
          ...(message.sender.staffId ? { senderStaffId: message.sender.staffId } : {}),
        },
        { maxTurns: limits.maxHistoryTurns, maxChars: limits.maxHistoryChars },
        run.rt.now(),
      )
    : undefined;
  if (!card) {
    return sendText(run, replyText, { alongside, attachments, mentionIds: settled.mentionIds });
  }
  try {
    await finishCard(run, card, { ...result, text: replyText }, alongside, attachments);
  } catch (err) {
    await abortCard(run, card, err);
    throw err;
  }
}

/**
 * Uploads the answer's attachments before the reply is stored (lib/pipeline/attachments.ts);
 * the ones that cannot be sent become notes at the end of the text. In card mode they follow
 * the closed card (card-turn.ts `afterCard`).
 */
async function attachmentsOf(
  run: MessageRun,
  result: AgentCallResult,
): Promise<{ text: string; attachments: StoredAttachment[] }> {
  const items = result.attachments ?? [];
  if (items.length === 0) return { text: result.text, attachments: [] };
  const { message, account } = need(run);
  const prepared = await prepareAttachments(items, {
    api: run.rt.apiFor(account),
    // Uploads must leave time to send: they get what the agent got, less a third of the reserve.
    signal: AbortSignal.any([
      run.sendSignal,
      AbortSignal.timeout(
        Math.max(1, Math.floor(run.deadline - run.rt.now() - (run.rt.replyReserveMs * 2) / 3)),
      ),
    ]),
    logger: run.log,
    canSendFiles: message.conversationType === 'group' || Boolean(message.sender.staffId),
  });
  return {
    text: withAttachmentNotes(result.text, prepared.notes),
    attachments: prepared.ready,
  };
}

function mediaLimitsOf(run: MessageRun): MediaLimits {
  const agent = run.rt.config.settings.agent;
  return {
    maxDownloads: agent.maxMediaDownloads,
    concurrency: agent.mediaConcurrency,
    maxFileBytes: agent.maxMediaFileBytes,
    maxMessageBytes: agent.maxMediaMessageBytes,
    files: agent.mediaFiles,
    maxFileTextChars: agent.maxFileTextChars,
  };
}

async function commandText(run: MessageRun, name: 'status' | 'help' | 'whoami'): Promise<string> {
  const { message, account } = need(run);
  if (name === 'help') return HELP_TEXT;
  if (name === 'whoami') return whoamiText(message.sender.id, message.conversationId);
  const agent = run.rt.agent;
  const history = agent.keepsHistory
    ? 'kept by the agent'
    : (await (run.history ?? loadHistory(run.store, account.accountId, run.sessionKey!))).turns
        .length;
  return statusText({
    accountId: account.accountId,
    sessionKey: run.sessionKey!,
    historyTurns: history,
    agentName: agent.name,
    ...(agent.model ? { model: agent.model } : {}),
    ...(run.group ? { groupPolicy: describeGroupPolicy(run.group) } : {}),
  });
}

function describeGroupPolicy(group: GroupSettings): string {
  const parts = [group.policy, `requireMention ${group.requireMention}`];
  if (group.entryKey) parts.push(`entry groups["${group.entryKey}"]`);
  if (group.users) parts.push(`${group.users.length} allowed user(s)`);
  return parts.join(', ');
}
