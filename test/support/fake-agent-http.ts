/**
 * A fake custom agent speaking the http agent contract (docs/agents.md "The http agent") on
 * 127.0.0.1:0. Records every request and answers with a configurable responder: a reply text,
 * 204 No Content, a delay, an HTTP error, a malformed body or any JSON. A request that accepts
 * `text/event-stream` (card mode) gets a `stream` answer as the contract's server-sent events
 * (`data: {"text":"…"}` deltas, then `data: {"done":true}`), with spacing, a cut, a missing
 * `done` or an `error` event; any other request gets the same pieces joined as one JSON answer.
 *
 *   const agent = await startFakeAgentHttp({ respond: (req) => ({ text: `got ${req.body.text}` }) });
 *   createHttpAgent({ url: agent.url, … });  …  await agent.close();
 */
import type { HttpAgentRequestBody } from '../../lib/agent/http.js';
import { type RecordedRequest, startJsonServer } from './fake-json-server.js';

/** A recorded webhook call; `body` is what the channel sent. */
export interface FakeAgentHttpRequest extends RecordedRequest {
  body: HttpAgentRequestBody;
}

export type FakeAgentHttpAnswer =
  /** 200 `{ "text": text }` */
  | { text: string; delayMs?: number }
  /** 204 No Content (no reply). */
  | { noContent: true; delayMs?: number }
  /** An HTTP error with an optional body (object or string). */
  | { status: number; body?: unknown; delayMs?: number }
  /** A body that is not JSON. */
  | { malformed: string; status?: number; delayMs?: number }
  /** Any JSON body with status 200. */
  | { json: unknown; delayMs?: number }
  /**
   * Streamed pieces `gapMs` apart. `cut` breaks the connection after them, `noDone` ends the
   * stream without `done`, `error` sends an error event after them; `raw` replaces the events.
   */
  | {
      stream: string[];
      gapMs?: number;
      cut?: boolean;
      noDone?: boolean;
      error?: string;
      raw?: string[];
      delayMs?: number;
    };

export type FakeAgentHttpResponder = (
  request: FakeAgentHttpRequest,
) => FakeAgentHttpAnswer | Promise<FakeAgentHttpAnswer>;

export interface FakeAgentHttp {
  /** The webhook URL: `http://127.0.0.1:<port>/agent`. */
  url: string;
  requests: FakeAgentHttpRequest[];
  lastRequest(): FakeAgentHttpRequest;
  respondWith(responder: FakeAgentHttpResponder | FakeAgentHttpAnswer): void;
  close(): Promise<void>;
}

const AGENT_PATH = '/agent';

/** True when the channel asked for a streamed answer (docs/agents.md "Streaming answers"). */
export function wantsStream(request: FakeAgentHttpRequest): boolean {
  const accept = request.headers.accept;
  return typeof accept === 'string' && accept.includes('text/event-stream');
}

const event = (data: object) => `data: ${JSON.stringify(data)}\n\n`;

function toServerAnswer(answer: FakeAgentHttpAnswer, streaming: boolean) {
  const delayMs = answer.delayMs;
  if ('stream' in answer) {
    if (!streaming) {
      return { status: 200, body: JSON.stringify({ text: answer.stream.join('') }), delayMs };
    }
    const chunks = answer.raw ?? answer.stream.map((text) => event({ text }));
    if (answer.error !== undefined) chunks.push(event({ error: answer.error }));
    const ends = answer.cut || answer.noDone || answer.error !== undefined;
    return {
      status: 200,
      contentType: 'text/event-stream',
      body: ends ? '' : event({ done: true }),
      delayMs,
      parts: { chunks, gapMs: answer.gapMs ?? 0, ...(answer.cut ? { cut: true } : {}) },
    };
  }
  if ('text' in answer)
    return { status: 200, body: JSON.stringify({ text: answer.text }), delayMs };
  if ('noContent' in answer) return { status: 204, body: '', delayMs };
  if ('malformed' in answer)
    return { status: answer.status ?? 200, body: answer.malformed, delayMs };
  if ('json' in answer) return { status: 200, body: JSON.stringify(answer.json), delayMs };
  const body =
    answer.body === undefined
      ? JSON.stringify({ error: `fake error ${answer.status}` })
      : typeof answer.body === 'string'
        ? answer.body
        : JSON.stringify(answer.body);
  return { status: answer.status, body, delayMs };
}

/** Starts the fake webhook; the default responder answers `fake agent: <text>`. */
export async function startFakeAgentHttp(
  options: { respond?: FakeAgentHttpResponder | FakeAgentHttpAnswer } = {},
): Promise<FakeAgentHttp> {
  const asResponder = (r: FakeAgentHttpResponder | FakeAgentHttpAnswer): FakeAgentHttpResponder =>
    typeof r === 'function' ? r : () => r;
  let responder = asResponder(
    options.respond ?? ((req) => ({ text: `fake agent: ${req.body.text}` })),
  );
  const server = await startJsonServer(async (recorded) => {
    const request = recorded as FakeAgentHttpRequest;
    if (request.method !== 'POST' || request.path.split('?')[0] !== AGENT_PATH) {
      return { status: 404, body: JSON.stringify({ error: 'not found' }) };
    }
    if (!request.body) return { status: 400, body: JSON.stringify({ error: 'body is not JSON' }) };
    return toServerAnswer(await responder(request), wantsStream(request));
  });
  const requests = server.requests as FakeAgentHttpRequest[];
  return {
    url: `${server.url}${AGENT_PATH}`,
    requests,
    lastRequest() {
      const last = requests.at(-1);
      if (!last) throw new Error('the fake http agent received no request');
      return last;
    },
    respondWith(next) {
      responder = asResponder(next);
    },
    close: () => server.close(),
  };
}
