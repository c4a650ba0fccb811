/**
 * The HTTP forwarder: POSTs the event as JSON, signed with HMAC-SHA256 (hmac.ts), to any HTTP
 * function. 2xx = accepted (the receiver answers only after it processed or queued the event).
 * 5xx, 408, 429, network errors and timeouts are retryable; other 4xx (401 bad signature, 403,
 * 400 not an event, 404) would fail the same way again, so they are not (outcome.ts).
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Clock } from '../clock.js';
import { systemClock } from '../clock.js';
import { registerSecret } from '../log.js';
import { signHmacRequest } from './hmac.js';
import {
  ACCEPTED,
  DEFAULT_HANDOFF_TIMEOUT_MS,
  describeFailure,
  isRetryableStatus,
  rejected,
  runHandoff,
} from './outcome.js';
import type { Forwarder } from './port.js';

export interface HttpForwarderOptions {
  url: string;
  hmacSecret: string;
  timeoutMs?: number;
  clock?: Clock;
}

/**
 * Splits the configured URL into what is sent and what may be shown: user info becomes a Basic
 * `authorization` header, and query values (function keys such as `?code=`) are masked.
 */
function prepareTarget(url: string) {
  const target = new URL(url);
  const headers: Record<string, string> = {};
  if (target.username || target.password) {
    const user = decodeURIComponent(target.username);
    const password = decodeURIComponent(target.password);
    registerSecret(password);
    headers.authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    target.username = '';
    target.password = '';
  }
  for (const value of target.searchParams.values()) registerSecret(value);
  return { url: target.href, headers, shown: `${target.origin}${target.pathname}` };
}

/**
 * One POST over a keep-alive connection pool. node:http rather than fetch: the relay spends most
 * of its CPU per message here, and undici's fetch costs about twice as much per request
 * (bench/relay-throughput.ts). Resolves with the status and the first 200 bytes of the answer.
 */
function post(
  url: URL,
  headers: Record<string, string>,
  body: string,
  agent: HttpAgent,
  signal: AbortSignal,
): Promise<{ status: number; detail: string }> {
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const onResponse = (res: IncomingMessage) => {
      let detail = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (detail.length < 200) detail += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, detail: detail.slice(0, 200) }));
      res.on('error', reject);
    };
    const req = send(
      url,
      {
        method: 'POST',
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        agent,
        signal,
      },
      onResponse,
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Creates the HMAC-signing HTTP forwarder. */
export function createHttpForwarder(options: HttpForwarderOptions): Forwarder {
  registerSecret(options.hmacSecret);
  const clock = options.clock ?? systemClock;
  const target = prepareTarget(options.url);
  const where = `http: ${target.shown}`;
  // Error messages may quote the request URL; show it without its query.
  const describe = (err: unknown) => describeFailure(err).split(target.url).join(target.shown);
  const url = new URL(target.url);
  const agent =
    url.protocol === 'https:'
      ? new HttpsAgent({ keepAlive: true, maxSockets: 128 })
      : new HttpAgent({ keepAlive: true, maxSockets: 128 });
  return {
    kind: 'http',
    close: async () => agent.destroy(),
    forward: (event, signal) =>
      runHandoff({
        label: where,
        timeoutMs: options.timeoutMs ?? DEFAULT_HANDOFF_TIMEOUT_MS,
        signal,
        async attempt(attemptSignal) {
          const body = JSON.stringify(event);
          const signature = signHmacRequest({ secret: options.hmacSecret, body, now: clock.now() });
          const response = await post(
            url,
            { 'content-type': 'application/json', ...target.headers, ...signature },
            body,
            agent,
            attemptSignal,
          );
          if (response.status >= 200 && response.status < 300) return ACCEPTED;
          const status = `${response.status} ${response.detail}`.trim();
          return rejected(`${where}: ${status}`, isRetryableStatus(response.status));
        },
        classify: (err) => rejected(`${where}: ${describe(err)}`, true),
      }),
  };
}
