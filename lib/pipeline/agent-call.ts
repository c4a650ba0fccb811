/**
 * The agent step (channel-semantics.md §6): builds the AgentRequest from the message, the group
 * entry and the session history, resolves only the media the agent can use (each download is a
 * paid OpenAPI call), and calls the agent with a signal tied to the time left. A failure or
 * timeout becomes one short message for the sender (§7); it is logged with the message id.
 */
import type { Agent, AgentMedia, AgentRequest, ChatTurn } from '../agent/port.js';
import { userFacingAgentError } from '../agent/port.js';
import type { GroupConfig } from '../config/index.js';
import type { DingTalkApi } from '../dingtalk/api.js';
import type { InboundMessage } from '../dingtalk/inbound-types.js';
import { errorSummary } from '../errors.js';
import type { Logger } from '../log.js';

export interface AgentCallInput {
  accountId: string;
  sessionKey: string;
  message: InboundMessage;
  /** The message text to send (after `/new` it is the command's rest). */
  text: string;
  group?: GroupConfig;
  history: ChatTurn[];
}

export interface AgentCallResult {
  text: string;
  /** False when the text is the short error message, not an answer. */
  answered: boolean;
}

/** Calls the agent; never throws for an agent failure (the user gets one short message). */
export async function callAgent(
  agent: Agent,
  input: AgentCallInput,
  deps: {
    api: DingTalkApi;
    signal: AbortSignal;
    logger: Logger;
    onText?: (textSoFar: string) => void;
  },
): Promise<AgentCallResult> {
  try {
    const media = await resolveMedia(agent.mediaAccess, input.message, deps);
    const request = buildRequest(agent, input, media);
    const reply = await agent.respond(request, {
      signal: deps.signal,
      ...(deps.onText ? { onText: deps.onText } : {}),
    });
    return { text: reply.text, answered: true };
  } catch (err) {
    deps.logger.warn('agent.failed', { msgId: input.message.msgId, error: errorSummary(err) });
    return { text: userFacingAgentError(err), answered: false };
  }
}

function buildRequest(agent: Agent, input: AgentCallInput, media: AgentMedia[]): AgentRequest {
  const { message, group } = input;
  const quoted = message.quotedText ? `> ${message.quotedText.replace(/\n/g, '\n> ')}\n\n` : '';
  return {
    accountId: input.accountId,
    messageId: message.msgId,
    sessionKey: input.sessionKey,
    text: `${quoted}${input.text}`,
    media,
    sender: {
      id: message.sender.id,
      ...(message.sender.nick ? { nick: message.sender.nick } : {}),
    },
    conversation: {
      id: message.conversationId,
      type: message.conversationType,
      ...(message.conversationTitle ? { title: message.conversationTitle } : {}),
    },
    ...(group?.tools ? { tools: group.tools } : {}),
    ...(group?.systemPrompt ? { systemPrompt: group.systemPrompt } : {}),
    history: agent.keepsHistory ? [] : input.history,
  };
}

async function resolveMedia(
  access: Agent['mediaAccess'],
  message: InboundMessage,
  deps: { api: DingTalkApi; signal: AbortSignal },
): Promise<AgentMedia[]> {
  return Promise.all(
    message.media.map(async (m): Promise<AgentMedia> => {
      const base: AgentMedia = {
        kind: m.kind,
        downloadCode: m.downloadCode,
        ...(m.fileName ? { fileName: m.fileName } : {}),
      };
      if (access === 'url')
        return { ...base, url: await deps.api.mediaDownloadUrl(m.downloadCode, deps.signal) };
      if (access === 'bytes' && m.kind === 'picture') {
        const file = await deps.api.downloadMedia(m.downloadCode, deps.signal);
        return {
          ...base,
          url: file.url,
          mimeType: file.mimeType,
          data: { base64: file.bytes.toString('base64'), mimeType: file.mimeType },
        };
      }
      return base;
    }),
  );
}
