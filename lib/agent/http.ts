/**
 * The generic webhook agent: one JSON POST per message, one JSON answer. The contract (version 1)
 * is documented in docs/agents.md "The http agent"; test/agent/http.test.ts guards both
 * directions. Absent optional fields are sent as `null`, so every key is always present.
 * A caller that shows progress (card replies) may get the answer streamed (http-stream.ts).
 */
import { registerSecret, urlCredentials } from '../log.js';
import { parseAttachments } from './attachments.js';
import { boundHistory, type HistoryLimits } from './history.js';
import { DEFAULT_STREAM_REPLY_BYTES, streamHttpAgent } from './http-stream.js';
import { type Agent, AgentError, type AgentRequest } from './port.js';
import { describeEndpoint, type FetchFn, postJson } from './transport.js';

export interface HttpAgentOptions {
  url: string;
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string;
  /** True when the webhook keeps its own history: the pipeline then stores and sends none. */
  keepsHistory: boolean;
  /** Bounds for the history sent (stateless webhooks only). */
  history: HistoryLimits;
  timeoutMs?: number;
  /** Shown by `/status`. */
  model?: string;
  fetch?: FetchFn;
  /** A streamed answer stops being read past this (the caller's `maxReplyBytes` wins). */
  maxReplyBytes?: number;
}

/** Version of the JSON contract in the request's `version` field. */
export const HTTP_AGENT_CONTRACT_VERSION = 1;

/** One attachment; `status` says why `url` is null (`unavailable`, `not_downloaded`) or `ok`. */
export interface HttpAgentMedia {
  kind: string;
  url: string | null;
  fileName: string | null;
  mimeType: string | null;
  status: 'ok' | 'unavailable' | 'not_downloaded';
  /** The file's extracted text (`agent.mediaFiles: text`), else null. */
  text: string | null;
}

/** A quoted message in the request body. */
export interface HttpAgentQuote {
  msgtype: string;
  senderNick: string | null;
  senderId: string | null;
  fromBot: boolean;
  text: string;
  media: HttpAgentMedia[];
  quote: HttpAgentQuote | null;
}

function mediaBody(media: AgentRequest['media']): HttpAgentMedia[] {
  return media.map((m) => ({
    kind: m.kind,
    url: m.url ?? null,
    fileName: m.fileName ?? null,
    mimeType: m.mimeType ?? m.data?.mimeType ?? null,
    status: m.status ?? 'ok',
    text: m.text ?? null,
  }));
}

function quoteBody(quote: AgentRequest['quote']): HttpAgentQuote | null {
  if (!quote) return null;
  return {
    msgtype: quote.msgtype,
    senderNick: quote.senderNick ?? null,
    senderId: quote.senderId ?? null,
    fromBot: quote.fromBot,
    text: quote.text,
    media: mediaBody(quote.media),
    quote: quoteBody(quote.quote),
  };
}

/** The request body of contract version 1. */
export interface HttpAgentRequestBody {
  version: 1;
  messageId: string;
  accountId: string;
  sessionKey: string;
  text: string;
  media: HttpAgentMedia[];
  /** The quoted message of a quote-reply, or null. */
  quote: HttpAgentQuote | null;
  sender: { id: string; nick: string | null };
  conversation: { id: string; type: 'dm' | 'group'; title: string | null };
  tools: { allow: string[]; deny: string[] } | null;
  systemPrompt: string | null;
  history: { role: 'user' | 'assistant'; content: string }[];
}

/** The body the webhook receives for `request`. */
export function httpAgentRequestBody(
  request: AgentRequest,
  options: Pick<HttpAgentOptions, 'keepsHistory' | 'history'>,
): HttpAgentRequestBody {
  return {
    version: HTTP_AGENT_CONTRACT_VERSION,
    messageId: request.messageId,
    accountId: request.accountId,
    sessionKey: request.sessionKey,
    text: request.text,
    media: mediaBody(request.media),
    quote: quoteBody(request.quote),
    sender: { id: request.sender.id, nick: request.sender.nick ?? null },
    conversation: {
      id: request.conversation.id,
      type: request.conversation.type,
      title: request.conversation.title ?? null,
    },
    tools: request.tools
      ? { allow: request.tools.allow ?? [], deny: request.tools.deny ?? [] }
      : null,
    systemPrompt: request.systemPrompt ?? null,
    history: options.keepsHistory ? [] : boundHistory(request.history, options.history),
  };
}

/** Reads `{ "text": string }`; a 204 answer means no reply. */
export function httpAgentReplyText(json: unknown, status: number, where: string): string {
  if (status === 204) return '';
  const text =
    typeof json === 'object' && json !== null ? (json as { text?: unknown }).text : undefined;
  if (typeof text !== 'string') {
    throw new AgentError('agent_bad_response', `${where}: the answer has no string "text" field`, {
      status,
    });
  }
  return text;
}

/**
 * Reads the optional `mentions: [{ staffId }]` of an answer (members to @-mention); absent or
 * null means none. A malformed list is a bad answer, named precisely.
 */
export function httpAgentMentions(json: unknown, where: string): { staffId: string }[] | undefined {
  const value =
    typeof json === 'object' && json !== null
      ? (json as { mentions?: unknown }).mentions
      : undefined;
  if (value === undefined || value === null) return undefined;
  const bad = (why: string) =>
    new AgentError('agent_bad_response', `${where}: "mentions" ${why}`, {});
  if (!Array.isArray(value)) throw bad('must be an array of { "staffId": string }');
  return value.map((item, i) => {
    const staffId =
      typeof item === 'object' && item !== null
        ? (item as { staffId?: unknown }).staffId
        : undefined;
    if (typeof staffId !== 'string' || staffId.trim() === '') {
      throw bad(`[${i}] needs a non-empty string "staffId"`);
    }
    return { staffId: staffId.trim() };
  });
}

/** Creates the generic webhook agent. */
export function createHttpAgent(options: HttpAgentOptions): Agent {
  const secrets = [...(options.token ? [options.token] : []), ...urlCredentials(options.url)];
  for (const secret of secrets) registerSecret(secret);
  const headers: Record<string, string> = {};
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const where = `http agent: ${describeEndpoint(options.url)}`;
  return {
    name: 'http',
    keepsHistory: options.keepsHistory,
    mediaAccess: 'url',
    model: options.model,
    async respond(request, { signal, onText, maxReplyBytes: callerBound }) {
      const init = {
        agent: 'http',
        url: options.url,
        headers,
        body: httpAgentRequestBody(request, options),
        signal,
        timeoutMs: options.timeoutMs,
        secrets,
        fetch: options.fetch,
      };
      let json: unknown;
      let status: number;
      let text: string;
      if (onText) {
        // Card replies: a streamed answer carries text only; a plain JSON one keeps its fields.
        const maxReplyBytes = callerBound ?? options.maxReplyBytes ?? DEFAULT_STREAM_REPLY_BYTES;
        let plain: { json: unknown; status: number } | undefined;
        text = await streamHttpAgent({ ...init, maxReplyBytes }, onText, (body, code) => {
          plain = { json: body, status: code };
          return httpAgentReplyText(body, code, where);
        });
        if (!plain) return { text };
        ({ json, status } = plain);
      } else {
        ({ json, status } = await postJson(init));
        text = httpAgentReplyText(json, status, where);
      }
      const attachments =
        status === 204 ? [] : parseAttachments(Reflect.get(Object(json), 'attachments'));
      const mentions = httpAgentMentions(json, where);
      return {
        text,
        ...(attachments.length > 0 ? { attachments } : {}),
        ...(mentions ? { mentions } : {}),
      };
    },
  };
}
