/**
 * The agent step (channel-semantics.md §6): builds the AgentRequest from the message, the group
 * entry and the session history, resolves only the media the agent can use (each download is a
 * paid OpenAPI call), and calls the agent with a signal tied to the time left. A failure or
 * timeout becomes one short message for the sender (§7); it is logged with the message id.
 */
import type { ParsedAttachment } from '../agent/attachments.js';
import type { Agent, AgentMedia, AgentQuote, AgentRequest, ChatTurn } from '../agent/port.js';
import { userFacingAgentError } from '../agent/port.js';
import type { GroupConfig } from '../config/index.js';
import type { DingTalkApi } from '../dingtalk/api.js';
import type { InboundMessage, InboundQuote } from '../dingtalk/inbound-types.js';
import { errorSummary } from '../errors.js';
import type { Logger } from '../log.js';
import { MAX_REPLY_BYTES } from './bounds.js';
import { fetchMedia, type MediaLimits } from './media-fetch.js';

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
  /** The answer's images and files (not yet fetched or uploaded). */
  attachments?: ParsedAttachment[];
  /** staffIds the agent asked to @-mention (its structured `mentions`). */
  mentions?: string[];
}

/** Caps used when the caller passes none (the schema's defaults). */
const DEFAULT_MEDIA_LIMITS: MediaLimits = {
  maxDownloads: 4,
  concurrency: 2,
  maxFileBytes: 10 * 1024 * 1024,
  maxMessageBytes: 20 * 1024 * 1024,
};

/** Calls the agent; never throws for an agent failure (the user gets one short message). */
export async function callAgent(
  agent: Agent,
  input: AgentCallInput,
  deps: {
    api: DingTalkApi;
    signal: AbortSignal;
    logger: Logger;
    mediaLimits?: MediaLimits;
    onText?: (textSoFar: string) => void;
  },
): Promise<AgentCallResult> {
  try {
    // The message's own media first, then the quote's: the cap keeps the new message's items.
    const { message } = input;
    const quotes = quoteChain(message.quote);
    const all = [message.media, ...quotes.map((q) => q.media)];
    const fetched = await fetchMedia(
      agent.mediaAccess,
      all.flat(),
      deps.mediaLimits ?? DEFAULT_MEDIA_LIMITS,
      { ...deps, msgId: message.msgId },
    );
    const parts: AgentMedia[][] = [];
    let offset = 0;
    for (const list of all) {
      parts.push(fetched.slice(offset, offset + list.length));
      offset += list.length;
    }
    const request = buildRequest(agent, input, parts[0] ?? [], agentQuote(quotes, parts.slice(1)));
    const reply = await agent.respond(request, {
      signal: deps.signal,
      ...(deps.onText ? { onText: deps.onText, maxReplyBytes: MAX_REPLY_BYTES } : {}),
    });
    const attachments = reply.attachments ?? [];
    const mentions = reply.mentions?.map((m) => m.staffId);
    return {
      text: reply.text,
      answered: true,
      ...(attachments.length ? { attachments } : {}),
      ...(mentions?.length ? { mentions } : {}),
    };
  } catch (err) {
    deps.logger.warn('agent.failed', { msgId: input.message.msgId, error: errorSummary(err) });
    return { text: userFacingAgentError(err), answered: false };
  }
}

/** The quote, the quote inside it, … as a list (outermost first). */
function quoteChain(quote: InboundQuote | undefined): InboundQuote[] {
  const chain: InboundQuote[] = [];
  for (let q = quote; q; q = q.quote) chain.push(q);
  return chain;
}

function agentQuote(chain: InboundQuote[], media: AgentMedia[][]): AgentQuote | undefined {
  let inner: AgentQuote | undefined;
  for (let i = chain.length - 1; i >= 0; i--) {
    const q = chain[i]!;
    inner = {
      msgtype: q.msgtype,
      fromBot: q.fromBot,
      text: q.text,
      media: media[i] ?? [],
      ...(q.senderNick ? { senderNick: q.senderNick } : {}),
      ...(q.senderId ? { senderId: q.senderId } : {}),
      ...(inner ? { quote: inner } : {}),
    };
  }
  return inner;
}

/** The quote as a markdown block before the new text, for agents that read only `text`. */
function quotePrefix(quote: AgentQuote | undefined): string {
  return quote ? `${quoteBlock(quote).join('\n')}\n\n` : '';
}

/** One quote as `> ` lines; a quote inside it is nested one level deeper. */
function quoteBlock(quote: AgentQuote): string[] {
  const who = quote.fromBot
    ? 'your earlier reply'
    : quote.senderNick
      ? quote.senderNick
      : 'a message';
  const attachments = quote.media.map((m) => {
    const label = `[${m.kind}${m.fileName ? `: ${m.fileName}` : ''}]`;
    return m.text === undefined ? label : `${label}\n${m.text}`;
  });
  const body = [quote.text, ...attachments].filter(Boolean).join('\n');
  const lines = [
    `Quoting ${who}:`,
    ...body.split('\n'),
    ...(quote.quote ? quoteBlock(quote.quote) : []),
  ];
  return lines.map((line) => `> ${line}`);
}

function buildRequest(
  agent: Agent,
  input: AgentCallInput,
  media: AgentMedia[],
  quote: AgentQuote | undefined,
): AgentRequest {
  const { message, group } = input;
  return {
    accountId: input.accountId,
    messageId: message.msgId,
    sessionKey: input.sessionKey,
    text: `${quotePrefix(quote)}${input.text}`.trimEnd(),
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
    ...(quote ? { quote } : {}),
  };
}
