/**
 * The http agent's optional streaming answer (docs/agents.md "Streaming answers"), asked for in
 * card mode only (issue 13). The request is the same JSON POST with
 * `Accept: text/event-stream, application/json`, the content negotiation MCP's streamable HTTP
 * transport also uses: a webhook that ignores it answers plain JSON as always, one that
 * streams answers `Content-Type: text/event-stream` with events whose data is a JSON object:
 *
 *   data: {"text":"Hel"}          ← appended to the answer (a delta)
 *   data: {"text":"lo"}
 *   data: {"done":true}           ← the answer is complete (may carry a last "text")
 *   data: {"error":"…"}           ← the agent gave up: a failure like an HTTP error
 *
 * Bounds: the answer stops being read past `maxReplyBytes` (the pipeline's reply bound, which
 * then cuts it with its note), and the raw stream past a multiple of it (escapes and framing
 * can only inflate a text so much; more is a broken agent). Time is bounded by the caller's
 * signal and `timeoutMs`, as for a JSON answer. Every failure is a final `AgentError` (the
 * sender gets the short note, a card closes as failed), exactly as openai-stream.ts classifies
 * a broken OpenAI stream: a cut connection is `agent_network`, the deadline `agent_timeout`,
 * an event that breaks the contract or a stream without `done` `agent_bad_response`.
 */
import { AgentError } from './port.js';
import { sseData } from './sse.js';
import {
  hideSecrets,
  jsonAnswer,
  openPost,
  type PostJsonInit,
  safeExcerpt,
  transportError,
} from './transport.js';

/** The bound when the caller names none: the pipeline's reply bound (bounds.ts), 128 KB. */
export const DEFAULT_STREAM_REPLY_BYTES = 128 * 1024;

/** What the channel sends when it can show a streamed answer. */
export const STREAM_ACCEPT = 'text/event-stream, application/json;q=0.9';

/** Raw stream bytes allowed per answer byte (JSON escapes of CJK text take 2×, plus framing). */
const RAW_BYTES_PER_ANSWER_BYTE = 4;
const RAW_BYTES_SLACK = 64 * 1024;
const ERROR_EXCERPT_CHARS = 200;

export interface HttpStreamInit extends PostJsonInit {
  /** Past this many UTF-8 bytes of answer, reading stops (the pipeline cuts and notes it). */
  maxReplyBytes: number;
}

/** One event of the stream, checked against the contract. */
interface StreamEvent {
  text?: string;
  done: boolean;
  error?: string;
}

/**
 * POSTs the request asking for a stream; resolves with the whole answer (a JSON answer's
 * `text` when the webhook does not stream). `readJson` reads a plain JSON answer's text.
 */
export async function streamHttpAgent(
  init: HttpStreamInit,
  onText: (textSoFar: string) => void,
  readJson: (json: unknown, status: number) => string,
): Promise<string> {
  const { response, signal, endpoint } = await openPost(init, STREAM_ACCEPT);
  const { status } = response;
  const streamed = /^text\/event-stream\b/i.test(response.headers.get('content-type') ?? '');
  if (status < 200 || status > 299 || !streamed || !response.body) {
    let text: string;
    try {
      text = await response.text();
    } catch (err) {
      throw transportError(init, endpoint, signal, err);
    }
    if (status < 200 || status > 299) {
      const excerpt = safeExcerpt(status, text, init.secrets);
      throw new AgentError(
        'agent_http',
        `${init.agent} agent: HTTP ${status} from ${endpoint}${excerpt ? `: ${excerpt}` : ''}`,
        { status, endpoint },
      );
    }
    // A webhook that does not stream: its JSON answer, read exactly as without streaming.
    return readJson(jsonAnswer(init.agent, endpoint, status, text).json, status);
  }
  return readEvents(init, response.body, { endpoint, status, signal }, onText);
}

async function readEvents(
  init: HttpStreamInit,
  body: AsyncIterable<Uint8Array>,
  at: { endpoint: string; status: number; signal: AbortSignal },
  onText: (textSoFar: string) => void,
): Promise<string> {
  const bad = (what: string) =>
    new AgentError('agent_bad_response', `${init.agent} agent: ${at.endpoint}: ${what}`, {
      status: at.status,
      endpoint: at.endpoint,
    });
  const rawLimit = init.maxReplyBytes * RAW_BYTES_PER_ANSWER_BYTE + RAW_BYTES_SLACK;
  let raw = 0;
  let answer = '';
  let answerBytes = 0;
  try {
    for await (const data of sseData(body, (n) => {
      raw += n;
    })) {
      const event = parseEvent(data);
      if (!event) throw bad('a stream event is not a JSON object with "text", "done" or "error"');
      if (event.error !== undefined) {
        const excerpt = hideSecrets(event.error, init.secrets).slice(0, ERROR_EXCERPT_CHARS);
        throw bad(`the agent reported an error: ${excerpt}`);
      }
      if (event.text) {
        answer += event.text;
        answerBytes += Buffer.byteLength(event.text);
        onText(answer);
      }
      // Leaving the loop cancels the body: nothing more is read or buffered.
      if (event.done || answerBytes > init.maxReplyBytes) return answer;
      if (raw > rawLimit) {
        throw bad(`the stream sent over ${rawLimit} bytes for ${answerBytes} bytes of answer`);
      }
    }
  } catch (err) {
    if (err instanceof AgentError) throw err;
    throw transportError(init, at.endpoint, at.signal, err);
  }
  throw bad(`the stream ended without {"done":true} after ${answer.length} characters`);
}

/** An event's fields, or undefined when it breaks the contract. */
function parseEvent(data: string): StreamEvent | undefined {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const { text, done, error } = value as Record<string, unknown>;
  if (text !== undefined && typeof text !== 'string') return undefined;
  if (done !== undefined && typeof done !== 'boolean') return undefined;
  if (error !== undefined && typeof error !== 'string') return undefined;
  if (text === undefined && done === undefined && error === undefined) return undefined;
  return {
    done: done === true,
    ...(text !== undefined ? { text } : {}),
    ...(error !== undefined ? { error } : {}),
  };
}
