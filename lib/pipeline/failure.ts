/**
 * Every failure is classified once, where the pipeline catches it (issue "every message ends
 * exactly once"): `retry` (it can succeed later: leave the message unacknowledged / fail the
 * invocation, the dedup record keeps what is done) or `final` (it cannot: end the message once,
 * tell the sender briefly where a reply can be sent, log why, acknowledge).
 *
 * - A ChannelError carries its class (`retryable`), set by the hop that raised it.
 * - Anything else (a bug, an SDK's own error type) is taken as `retry`, and the attempt bound in
 *   dedup.ts (MAX_ATTEMPTS) turns a failure that keeps coming back into a final one.
 */
import { ChannelError, errorSummary } from '../errors.js';
import { MAX_ATTEMPTS } from './dedup.js';

export interface Failure {
  kind: 'retry' | 'final';
  /** A stable code for logs and counters. */
  reason: string;
  error: unknown;
}

/** Codes whose failure no reply can reach: the sender cannot be told. */
const UNREACHABLE = new Set(['reply_no_route', 'recipient_rejected', 'webhook_host_not_allowed']);

/** Classifies `error` for the `attempts`-th claim of a message. */
export function classifyFailure(error: unknown, attempts: number): Failure {
  const reason = errorSummary(error).code;
  const retryable = error instanceof ChannelError ? error.retryable : true;
  if (!retryable) return { kind: 'final', reason, error };
  if (attempts >= MAX_ATTEMPTS) return { kind: 'final', reason: `gave_up_${reason}`, error };
  return { kind: 'retry', reason, error };
}

/** Whether the sender can be sent a short note about a final failure. */
export function canTellSender(failure: Failure): boolean {
  return !UNREACHABLE.has(errorSummary(failure.error).code);
}

/** The short note a sender gets for a final failure (no stack, no secret: the code only). */
export function finalFailureNote(failure: Failure): string {
  if (failure.error instanceof InputTooLargeError) return failure.error.message;
  return `Sorry, this message could not be answered (${failure.reason}).`;
}

/** The inbound text is over the bound the agent and the store can take. Final. */
export class InputTooLargeError extends ChannelError {
  override name = 'InputTooLargeError';
  constructor(chars: number, limit: number) {
    super(
      'input_too_large',
      `Your message is too long for the agent: ${chars} characters (at most ${limit}). Please send a shorter one.`,
    );
  }
}
