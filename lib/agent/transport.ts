/**
 * The one HTTP hop both remote adapters make: POST JSON, bounded by the caller's signal and the
 * adapter's own timeout, every failure mapped to an `AgentError` whose message is secret-free
 * (architecture.md invariant 6; test/agent/errors.test.ts).
 */
import { maskSecrets } from '../log.js';
import { AgentError } from './port.js';

export type FetchFn = typeof fetch;

export interface PostJsonInit {
  /** Adapter name, the prefix of every error message ("openai agent: …"). */
  agent: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
  signal: AbortSignal;
  /** The adapter's own upper bound; the caller's signal usually ends the call first. */
  timeoutMs?: number;
  /** Values to hide if the far side echoes them (API key, bearer token). */
  secrets: readonly string[];
  fetch?: FetchFn;
}

export interface PostJsonResult {
  status: number;
  /** The parsed body; undefined for 204 No Content. */
  json: unknown;
}

const EXCERPT_CHARS = 200;

/** `origin + path` of a URL: no credentials, no query string (which may carry a key). */
export function describeEndpoint(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

/** An answer still being read: the response, and the signal and endpoint its errors name. */
export interface OpenedPost {
  response: Response;
  signal: AbortSignal;
  endpoint: string;
}

/**
 * POSTs `body` as JSON asking for `accept`, and returns the response unread (a streamed answer
 * is read as it arrives); a failure before any answer is an `AgentError` like postJson's.
 */
export async function openPost(init: PostJsonInit, accept: string): Promise<OpenedPost> {
  const endpoint = describeEndpoint(init.url);
  const signals = [init.signal];
  if (init.timeoutMs !== undefined) signals.push(AbortSignal.timeout(init.timeoutMs));
  const signal = AbortSignal.any(signals);
  const doFetch = init.fetch ?? fetch;
  try {
    const response = await doFetch(init.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept, ...init.headers },
      body: JSON.stringify(init.body),
      signal,
    });
    return { response, signal, endpoint };
  } catch (err) {
    throw transportError(init, endpoint, signal, err);
  }
}

/** POSTs `body` as JSON and returns the parsed 2xx answer, or throws an `AgentError`. */
export async function postJson(init: PostJsonInit): Promise<PostJsonResult> {
  const { response, signal, endpoint } = await openPost(init, 'application/json');
  const { status } = response;
  let text: string;
  try {
    text = await response.text();
  } catch (err) {
    throw transportError(init, endpoint, signal, err);
  }
  if (status < 200 || status > 299) {
    const excerpt = safeExcerpt(status, text, init.secrets);
    const detail = excerpt ? `: ${excerpt}` : '';
    throw new AgentError(
      'agent_http',
      `${init.agent} agent: HTTP ${status} from ${endpoint}${detail}`,
      {
        status,
        endpoint,
      },
    );
  }
  return jsonAnswer(init.agent, endpoint, status, text);
}

/** A 2xx answer's parsed body (undefined for 204 No Content), or `agent_bad_response`. */
export function jsonAnswer(
  agent: string,
  endpoint: string,
  status: number,
  text: string,
): PostJsonResult {
  // 204 is the webhook's documented "no reply"; an empty 200 is a broken answer below.
  if (status === 204) return { status, json: undefined };
  try {
    return { status, json: JSON.parse(text) as unknown };
  } catch {
    throw new AgentError(
      'agent_bad_response',
      `${agent} agent: ${endpoint} answered HTTP ${status} with a body that is not JSON (${text.length} characters)`,
      { status, endpoint },
    );
  }
}

export function transportError(
  init: PostJsonInit,
  endpoint: string,
  signal: AbortSignal,
  err: unknown,
): AgentError {
  if (signal.aborted || isAbortError(err)) {
    const why = init.signal.aborted
      ? 'the deadline passed'
      : `no answer within ${init.timeoutMs} ms`;
    return new AgentError('agent_timeout', `${init.agent} agent: ${endpoint}: ${why}`, {
      endpoint,
    });
  }
  const reason = hideSecrets(networkReason(err), init.secrets);
  return new AgentError(
    'agent_network',
    `${init.agent} agent: ${endpoint}: network error: ${reason}`,
    {
      endpoint,
    },
  );
}

function isAbortError(err: unknown): boolean {
  return err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError');
}

/** undici reports "fetch failed" and hides the useful part (ECONNREFUSED, ENOTFOUND) in `cause`. */
function networkReason(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause as { code?: unknown; message?: unknown } | undefined;
  if (cause && typeof cause.code === 'string') return cause.code;
  if (cause && typeof cause.message === 'string') return cause.message;
  return err.message;
}

/**
 * A short excerpt of an error body, only when it cannot echo the credential: auth failures
 * (401/403) often quote part of the key ("Incorrect API key provided: sk-ab***yz"), so they get
 * none; other bodies are masked and cut.
 */
export function safeExcerpt(status: number, body: string, secrets: readonly string[]): string {
  if (status === 401 || status === 403) return '';
  // Mask before cutting, so a cut can never leave half a secret behind.
  const masked = hideSecrets(body.replace(/\s+/g, ' ').trim(), secrets);
  return masked.length > EXCERPT_CHARS ? `${masked.slice(0, EXCERPT_CHARS)}…` : masked;
}

/** Masks `secrets` and key-shaped tokens in text the far side wrote. */
export function hideSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret) out = out.split(secret).join('***');
  }
  // Key-shaped tokens (OpenAI "sk-…", bearer-looking strings) are hidden even if unregistered.
  out = out.replace(/\b(sk|key|tok)-[A-Za-z0-9_*.-]{6,}/gi, '$1-***');
  return maskSecrets(out);
}
