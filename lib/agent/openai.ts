/**
 * Adapter for any OpenAI-compatible `POST /v1/chat/completions` (OpenAI, DashScope compatible
 * mode, Bedrock gateways, Ollama, vLLM) and for an OpenClaw gateway (docs/agents.md).
 *
 * - protocol `openai`: the model is stateless, so the pipeline stores history and every call
 *   sends it, bounded by turns and characters (channel-semantics.md §6).
 * - protocol `openclaw`: the gateway keeps the session; only the new turn is sent, with the
 *   session key in `x-openclaw-session-key` and in the body's `user` (from which the gateway
 *   derives a stable session). `keepsHistory` is true so the pipeline stores nothing.
 */
import { registerSecret, urlCredentials } from '../log.js';
import { boundHistory } from './history.js';
import { buildChatMessages } from './openai-messages.js';
import { streamCompletion } from './openai-stream.js';
import { type Agent, AgentError, type AgentRequest } from './port.js';
import { describeEndpoint, type FetchFn, postJson } from './transport.js';

export interface OpenAiAgentOptions {
  /** `https://api.openai.com/v1`, `http://localhost:11434` or a full `…/chat/completions` URL. */
  baseUrl: string;
  apiKey?: string;
  model: string;
  /** The deployment-wide system prompt, sent before the group's. */
  systemPrompt?: string;
  protocol: 'openai' | 'openclaw';
  /** Send pictures as image parts (the model is vision-capable). */
  vision: boolean;
  maxHistoryTurns: number;
  maxHistoryChars: number;
  /** Upper bound for one call, on top of the caller's signal. */
  timeoutMs?: number;
  fetch?: FetchFn;
}

export const OPENCLAW_SESSION_HEADER = 'x-openclaw-session-key';

/**
 * The completions URL for a base URL. Accepted forms: a base ending in `/v1` (`…/v1` +
 * `/chat/completions`), a full URL ending in `/chat/completions` (used as is, for providers
 * with other version paths), or a bare origin/prefix (`/v1/chat/completions` is appended).
 */
export function chatCompletionsUrl(baseUrl: string): string {
  // The URL API keeps a query (`?api-key=…`, Azure's `?api-version=…`) after the path.
  const url = new URL(baseUrl.trim());
  const path = url.pathname.replace(/\/+$/, '');
  if (/\/chat\/completions$/.test(path)) url.pathname = path;
  else if (/\/v1$/.test(path)) url.pathname = `${path}/chat/completions`;
  else url.pathname = `${path}/v1/chat/completions`;
  return url.toString();
}

/** Creates the OpenAI-compatible (or OpenClaw gateway) agent. */
export function createOpenAiAgent(options: OpenAiAgentOptions): Agent {
  const url = chatCompletionsUrl(options.baseUrl);
  const openclaw = options.protocol === 'openclaw';
  const name = openclaw ? 'openclaw' : 'openai';
  registerSecret(options.apiKey);
  const secrets = [...(options.apiKey ? [options.apiKey] : []), ...urlCredentials(url)];
  for (const secret of secrets) registerSecret(secret);
  const headers: Record<string, string> = {};
  if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;

  const requestBody = (request: AgentRequest) => {
    const history = openclaw
      ? []
      : boundHistory(request.history, {
          maxTurns: options.maxHistoryTurns,
          maxChars: options.maxHistoryChars,
        });
    const messages = buildChatMessages(request, {
      systemPrompt: options.systemPrompt,
      vision: options.vision,
      history,
    });
    const body: Record<string, unknown> = { model: options.model, messages, stream: false };
    if (openclaw) body.user = request.sessionKey;
    return body;
  };

  return {
    name,
    keepsHistory: openclaw,
    // Non-vision models only read a "[picture]" note; vision models get the bytes inline.
    mediaAccess: options.vision ? 'bytes' : 'none',
    model: options.model,
    async respond(request, { signal, onText }) {
      const callHeaders = openclaw
        ? { ...headers, [OPENCLAW_SESSION_HEADER]: request.sessionKey }
        : headers;
      const init = {
        agent: name,
        url,
        headers: callHeaders,
        body: requestBody(request),
        signal,
        timeoutMs: options.timeoutMs,
        secrets,
        fetch: options.fetch,
      };
      // A caller that shows progress (card replies) gets the answer as the model writes it.
      if (onText) {
        init.body.stream = true;
        return { text: await streamCompletion(init, onText) };
      }
      const { json, status } = await postJson(init);
      return { text: completionText(json, `${name} agent: ${describeEndpoint(url)}`, status) };
    },
  };
}

/**
 * The reply text of a chat completion: `choices[0].message.content` as a string, or its text
 * parts joined; a refusal counts as the answer. Anything else is `agent_bad_response`.
 */
export function completionText(json: unknown, where: string, status = 200): string {
  const bad = (what: string) =>
    new AgentError('agent_bad_response', `${where}: ${what}`, { status });
  if (typeof json !== 'object' || json === null) throw bad('the answer is not a JSON object');
  const choices = (json as { choices?: unknown }).choices;
  if (!Array.isArray(choices) || choices.length === 0) throw bad('the answer has no choices');
  const message = (choices[0] as { message?: unknown } | null)?.message;
  if (typeof message !== 'object' || message === null) throw bad('choices[0] has no message');
  const { content, refusal } = message as { content?: unknown; refusal?: unknown };
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return joinTextParts(content);
  if (typeof refusal === 'string') return refusal;
  throw bad('choices[0].message has no text content');
}

function joinTextParts(parts: unknown[]): string {
  const texts: string[] = [];
  for (const part of parts) {
    if (typeof part === 'string') texts.push(part);
    else if (typeof part === 'object' && part !== null) {
      const text = (part as { text?: unknown }).text;
      if (typeof text === 'string') texts.push(text);
    }
  }
  return texts.join('');
}
