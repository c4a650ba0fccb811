/**
 * A fake OpenAI-compatible `POST /v1/chat/completions` server on 127.0.0.1:0 for tests. It
 * records every request (headers + body) and answers with a configurable responder: a reply
 * text, a delay, an HTTP error, a malformed body or any JSON. A `stream: true` request gets its
 * text as server-sent `chat.completion.chunk` events ending in `data: [DONE]` (OpenAI's
 * streaming format): a `stream` answer names the pieces, their spacing and an optional cut.
 *
 *   const ai = await startFakeOpenAi({ respond: (req) => ({ text: 'hi', delayMs: 50 }) });
 *   createOpenAiAgent({ baseUrl: ai.baseUrl, … });  …  await ai.close();
 */
import { type RecordedRequest, startJsonServer } from './fake-json-server.js';

export interface FakeChatMessage {
  role: string;
  content: unknown;
}

/** A recorded chat completion request; `body` is what the client sent. */
export interface FakeOpenAiRequest extends RecordedRequest {
  body: {
    model?: unknown;
    messages?: FakeChatMessage[];
    stream?: unknown;
    user?: unknown;
    [key: string]: unknown;
  };
}

export type FakeOpenAiAnswer =
  /** 200 with `choices[0].message.content` = `text` (a string or content parts). */
  | { text: string | unknown[]; delayMs?: number }
  /** An HTTP error; `body` (object or string) defaults to an OpenAI-style error object. */
  | { status: number; body?: unknown; delayMs?: number }
  /** A body that is not JSON. */
  | { malformed: string; status?: number; delayMs?: number }
  /** Any JSON body with status 200 (e.g. one without `choices`). */
  | { json: unknown; delayMs?: number }
  /** Streamed pieces `gapMs` apart (a plain `text` answer streams as one piece); `cut` breaks off. */
  | { stream: string[]; gapMs?: number; cut?: boolean; delayMs?: number };

export type FakeOpenAiResponder = (
  request: FakeOpenAiRequest,
) => FakeOpenAiAnswer | Promise<FakeOpenAiAnswer>;

export interface FakeOpenAi {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** `http://127.0.0.1:<port>/v1`, the usual `baseUrl`. */
  baseUrl: string;
  /** Every request received, in order (including rejected ones). */
  requests: FakeOpenAiRequest[];
  /** The last request, or a thrown error when there was none. */
  lastRequest(): FakeOpenAiRequest;
  /** Replaces the responder (or a fixed answer) for later requests. */
  respondWith(responder: FakeOpenAiResponder | FakeOpenAiAnswer): void;
  close(): Promise<void>;
}

/** The text of the last user message, for the default responder. */
export function lastUserText(request: FakeOpenAiRequest): string {
  const messages = request.body.messages ?? [];
  const last = [...messages].reverse().find((m) => m.role === 'user');
  if (!last) return '';
  if (typeof last.content === 'string') return last.content;
  if (Array.isArray(last.content)) {
    return last.content
      .map((p) => (p as { type?: string; text?: string }).text ?? '')
      .filter(Boolean)
      .join(' ');
  }
  return '';
}

const defaultResponder: FakeOpenAiResponder = (req) => ({ text: `fake: ${lastUserText(req)}` });

let completionSeq = 0;

function completionBody(request: FakeOpenAiRequest, content: string | unknown[]): string {
  completionSeq += 1;
  return JSON.stringify({
    id: `chatcmpl-fake-${completionSeq}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: request.body.model ?? 'fake-model',
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
  });
}

function errorBody(message: string, type: string): string {
  return JSON.stringify({ error: { message, type, code: null } });
}

function chunkEvent(request: FakeOpenAiRequest, id: string, delta: object, finish: string | null) {
  const chunk = {
    id,
    object: 'chat.completion.chunk',
    created: Math.floor(Date.now() / 1000),
    model: request.body.model ?? 'fake-model',
    choices: [{ index: 0, delta, finish_reason: finish }],
  };
  return `data: ${JSON.stringify(chunk)}\n\n`;
}

function streamAnswer(
  request: FakeOpenAiRequest,
  pieces: string[],
  options: { gapMs?: number; cut?: boolean; delayMs?: number },
) {
  completionSeq += 1;
  const id = `chatcmpl-fake-${completionSeq}`;
  const events = pieces.map((p) => chunkEvent(request, id, { content: p }, null));
  // The role chunk and the first piece go out together; `gapMs` spaces the pieces after it.
  const chunks = [
    `${chunkEvent(request, id, { role: 'assistant', content: '' }, null)}${events[0] ?? ''}`,
    ...events.slice(1),
  ];
  if (!options.cut) chunks.push(chunkEvent(request, id, {}, 'stop'));
  return {
    status: 200,
    contentType: 'text/event-stream',
    body: options.cut ? '' : 'data: [DONE]\n\n',
    delayMs: options.delayMs,
    parts: { chunks, gapMs: options.gapMs ?? 0, ...(options.cut ? { cut: true } : {}) },
  };
}

function toServerAnswer(request: FakeOpenAiRequest, answer: FakeOpenAiAnswer) {
  const delayMs = answer.delayMs;
  const streaming = request.body.stream === true;
  if ('stream' in answer) {
    if (!streaming)
      return { status: 200, body: completionBody(request, answer.stream.join('')), delayMs };
    return streamAnswer(request, answer.stream, answer);
  }
  if ('text' in answer && streaming) {
    const text = typeof answer.text === 'string' ? answer.text : JSON.stringify(answer.text);
    return streamAnswer(request, [text], { delayMs });
  }
  if ('text' in answer) return { status: 200, body: completionBody(request, answer.text), delayMs };
  if ('malformed' in answer) {
    return { status: answer.status ?? 200, body: answer.malformed, delayMs };
  }
  if ('json' in answer) return { status: 200, body: JSON.stringify(answer.json), delayMs };
  const body =
    answer.body === undefined
      ? errorBody(`fake error ${answer.status}`, 'server_error')
      : typeof answer.body === 'string'
        ? answer.body
        : JSON.stringify(answer.body);
  return { status: answer.status, body, delayMs };
}

/** Rejections the fake makes on its own, before asking the responder. */
function protocolError(request: FakeOpenAiRequest) {
  if (request.method !== 'POST' || request.path.split('?')[0] !== '/v1/chat/completions') {
    return {
      status: 404,
      body: errorBody(`no route ${request.method} ${request.path}`, 'not_found'),
    };
  }
  if (typeof request.rawBody !== 'string' || request.rawBody === '' || !request.body) {
    return { status: 400, body: errorBody('body is not JSON', 'invalid_request_error') };
  }
  if (request.body.stream !== undefined && typeof request.body.stream !== 'boolean') {
    return { status: 400, body: errorBody('stream must be a boolean', 'invalid_request_error') };
  }
  if (!Array.isArray(request.body.messages)) {
    return { status: 400, body: errorBody('messages must be an array', 'invalid_request_error') };
  }
  return undefined;
}

/** Starts the fake on 127.0.0.1:0. */
export async function startFakeOpenAi(
  options: { respond?: FakeOpenAiResponder | FakeOpenAiAnswer } = {},
): Promise<FakeOpenAi> {
  const asResponder = (r: FakeOpenAiResponder | FakeOpenAiAnswer): FakeOpenAiResponder =>
    typeof r === 'function' ? r : () => r;
  let responder = asResponder(options.respond ?? defaultResponder);
  const server = await startJsonServer(async (recorded) => {
    const request = recorded as FakeOpenAiRequest;
    const rejected = protocolError(request);
    if (rejected) return rejected;
    return toServerAnswer(request, await responder(request));
  });
  const requests = server.requests as FakeOpenAiRequest[];
  return {
    url: server.url,
    baseUrl: `${server.url}/v1`,
    requests,
    lastRequest() {
      const last = requests.at(-1);
      if (!last) throw new Error('the fake OpenAI server received no request');
      return last;
    },
    respondWith(next) {
      responder = asResponder(next);
    },
    close: () => server.close(),
  };
}
