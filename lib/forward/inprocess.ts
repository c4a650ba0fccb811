/**
 * The in-process forwarder (local mode, and the test seam): runs the message handler in the
 * relay's own process. "Accepted" means processed: handled, dropped by policy, a duplicate, or a
 * final failure the pipeline ended. A thrown retryable error, a missed deadline, or a message
 * another invocation is still handling is a retryable rejection, so the relay does not ACK (it retries, and DingTalk redelivers); the
 * handler's dedup makes that safe (channel-semantics §9).
 */
import type { Clock } from '../clock.js';
import { systemClock } from '../clock.js';
import { ChannelError, errorSummary } from '../errors.js';
import { createLogger, type Logger } from '../log.js';
import { ACCEPTED, describeFailure, rejected, runHandoff } from './outcome.js';
import type { Forwarder, HandleOutcome, MessageHandler } from './port.js';

// Past the pipeline's own finish grace (1.5 s, lib/pipeline/handler.ts), so a handler that
// ran into its deadline still writes down what it knows before the relay retries.
const DEADLINE_GRACE_MS = 2_000;

export interface InProcessForwarderOptions {
  handler: MessageHandler;
  /** The handler's whole budget per message (it gets `now + timeoutMs` as its deadline). */
  timeoutMs: number;
  clock?: Clock;
  logger?: Logger;
}

/** Creates the forwarder that calls `handler` directly. */
export function createInProcessForwarder(options: InProcessForwarderOptions): Forwarder {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createLogger();
  return {
    kind: 'inprocess',
    async forward(event, signal) {
      let work: Promise<HandleOutcome> | undefined;
      let settled = false;
      const result = await runHandoff({
        label: 'inprocess',
        // A little past the deadline, so a handler that honours it is not cut off mid-reply.
        timeoutMs: options.timeoutMs + DEADLINE_GRACE_MS,
        signal,
        attempt: () => {
          const deadline = clock.now() + options.timeoutMs;
          work = options.handler(event, { deadline }).finally(() => {
            settled = true;
          });
          // Another invocation holds the message's claim. If it lives, it will answer and a retry
          // sees a completed duplicate; if it died (its process was stopped or killed), its lease
          // runs out and a retry takes over. Accepting here would ACK a message nobody answers.
          return work.then((outcome) =>
            outcome.status === 'duplicate' && outcome.reason === 'duplicate_in_progress'
              ? rejected('inprocess: the message is being handled by another invocation', true)
              : ACCEPTED,
          );
        },
        // The pipeline ends final failures itself (outcome `failed`) and throws only what a retry
        // can fix; an error that still says it is not retryable is not retried here either.
        classify: (err) =>
          rejected(
            `inprocess: handler failed: ${describeFailure(err)}`,
            !(err instanceof ChannelError && !err.retryable),
          ),
      });
      // Work that finishes after its deadline is still logged (style.md, grammY timeouts).
      if (work && !settled) {
        work.then(
          (outcome) => logger.warn('forward.inprocess.late', { ...ids(event), outcome }),
          (err: unknown) =>
            logger.warn('forward.inprocess.late', { ...ids(event), error: errorSummary(err) }),
        );
      }
      return result;
    },
  };
}

function ids(event: { accountId: string; messageId: string }) {
  return { accountId: event.accountId, messageId: event.messageId };
}
