/**
 * `stream: true` chat completions (OpenAI's server-sent events): the body is `data: <chunk>`
 * events of `chat.completion.chunk` objects whose `choices[0].delta.content` add to the answer,
 * ended by `data: [DONE]`. Each addition is reported with the whole answer so far, so a card
 * reply (issue 13) can show it while the model writes. Failures map to `AgentError` exactly as
 * a non-streaming call does (transport.ts), also when the stream breaks half-way.
 */
import { AgentError } from './port.js';
import { sseData } from './sse.js';
import { openPost, type PostJsonInit, safeExcerpt, transportError } from './transport.js';

/** POSTs a streaming completion request; resolves with the whole answer. */
export async function streamCompletion(
  init: PostJsonInit,
  onText: (textSoFar: string) => void,
): Promise<string> {
  const { response, signal, endpoint } = await openPost(init, 'text/event-stream');
  const { status } = response;
  if (status < 200 || status > 299 || !response.body) {
    const text = await response.text().catch(() => '');
    const excerpt = safeExcerpt(status, text, init.secrets);
    throw new AgentError(
      'agent_http',
      `${init.agent} agent: HTTP ${status} from ${endpoint}${excerpt ? `: ${excerpt}` : ''}`,
      { status, endpoint },
    );
  }
  const bad = (what: string) =>
    new AgentError('agent_bad_response', `${init.agent} agent: ${endpoint}: ${what}`, {
      status,
      endpoint,
    });
  let answer = '';
  let done = false;
  try {
    for await (const data of sseData(response.body)) {
      if (data === '[DONE]') done = true;
      else {
        const delta = deltaText(data);
        if (delta === undefined) throw bad('a stream event is not a chat.completion.chunk');
        if (delta) {
          answer += delta;
          onText(answer);
        }
      }
    }
  } catch (err) {
    if (err instanceof AgentError) throw err;
    throw transportError(init, endpoint, signal, err);
  }
  if (!done) throw bad(`the stream ended without [DONE] after ${answer.length} characters`);
  return answer;
}

/** `choices[0].delta.content` ('' for a role-only or finish chunk); undefined when malformed. */
function deltaText(data: string): string | undefined {
  let chunk: unknown;
  try {
    chunk = JSON.parse(data);
  } catch {
    return undefined;
  }
  if (typeof chunk !== 'object' || chunk === null) return undefined;
  const choices = (chunk as { choices?: unknown }).choices;
  if (!Array.isArray(choices)) return undefined;
  const delta = (choices[0] as { delta?: { content?: unknown } } | undefined)?.delta;
  return typeof delta?.content === 'string' ? delta.content : '';
}
