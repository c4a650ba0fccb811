/**
 * What every forwarder shares: the accepted/rejected results, the status → retry rule, and one
 * bounded attempt (timeout + the caller's abort signal). For every hop, "retryable" means the
 * relay leaves the message unacknowledged so DingTalk delivers it again (channel-semantics §9).
 */
import { errorSummary } from '../errors.js';
import { maskSecrets } from '../log.js';
import type { HandoffResult } from './port.js';

/** Default bound for one hand-off to a remote platform. */
export const DEFAULT_HANDOFF_TIMEOUT_MS = 10_000;

export const ACCEPTED: HandoffResult = Object.freeze({ accepted: true });

/** A rejection; the reason is masked so no registered secret can leak through it. */
export function rejected(reason: string, retryable: boolean): HandoffResult {
  return { accepted: false, reason: maskSecrets(reason), retryable };
}

/**
 * Whether an HTTP error status is worth retrying: 5xx (the platform failed), 408 (request
 * timeout) and 429 (throttled) are; every other 4xx (unsigned, forbidden, not found, bad
 * request) repeats identically on retry, so it is not.
 */
export function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

/** A short, secret-free description of a thrown value, with its cause (fetch hides it there). */
export function describeFailure(err: unknown): string {
  const { code, message } = errorSummary(err);
  let text = message.includes(code) ? message : `${code}: ${message}`;
  const cause = err instanceof Error ? err.cause : undefined;
  if (cause instanceof Error) {
    const causeCode = Reflect.get(cause, 'code');
    text += ` (${typeof causeCode === 'string' ? `${causeCode} ` : ''}${cause.message})`;
  }
  return maskSecrets(text);
}

export interface HandoffAttempt {
  /** Prefix of every reason (`http`, `lambda`, …). */
  label: string;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  /** Does the hand-off; must stop soon after `signal` aborts (or be safe to abandon). */
  attempt: (signal: AbortSignal) => Promise<HandoffResult>;
  /** Maps an error thrown by `attempt` to a result. */
  classify: (err: unknown) => HandoffResult;
}

/**
 * Runs one hand-off bounded by `timeoutMs` and the caller's signal. A timeout or an abort is a
 * retryable rejection: the platform may or may not have queued the message, and the receiving
 * handler's dedup makes a second delivery safe.
 */
export async function runHandoff(options: HandoffAttempt): Promise<HandoffResult> {
  const { label, timeoutMs, signal } = options;
  if (signal?.aborted) return rejected(`${label}: aborted before the hand-off`, true);
  const controller = new AbortController();
  let timedOut = false;
  const stopped = new Promise<HandoffResult>((resolve) => {
    controller.signal.addEventListener(
      'abort',
      () =>
        resolve(
          timedOut
            ? rejected(`${label}: timed out after ${timeoutMs} ms`, true)
            : rejected(`${label}: aborted`, true),
        ),
      { once: true },
    );
  });
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  const onAbort = () => controller.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const work = Promise.resolve()
      .then(() => options.attempt(controller.signal))
      .catch(options.classify);
    return await Promise.race([work, stopped]);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}
