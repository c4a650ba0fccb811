/**
 * The one neutral message handler (style.md, grammY): the relay in local mode, every function
 * entry (AWS, Alibaba, HTTP) and the tests call it, so local mode runs exactly the code a
 * function runs. An event that is not a MessageEvent is dropped (retrying the same bytes cannot
 * help, channel-semantics §9); a card callback (`topic` TOPIC_CARD) goes to card-stop.ts,
 * everything else to the message pipeline.
 */
import { TOPIC_CARD } from '../dingtalk/payload.js';
import {
  type HandleContext,
  type HandleOutcome,
  invalidEventReason,
  type MessageEvent,
} from '../forward/port.js';
import { handleCardCallback } from './card-stop.js';
import { handleMessageEvent } from './handler.js';
import type { PipelineRuntime } from './runtime.js';

export type { PipelineRuntime } from './runtime.js';

/** The handler bound to a runtime: `(event, context) → outcome`, or a thrown retryable error. */
export function createMessageHandler(
  rt: PipelineRuntime,
): (event: unknown, context: HandleContext) => Promise<HandleOutcome> {
  return async (event, context) => {
    const invalid = invalidEventReason(event);
    if (invalid) {
      rt.logger.error('message.invalid_event', { reason: invalid });
      return { status: 'dropped', reason: 'invalid_event' };
    }
    const valid = event as MessageEvent;
    if (valid.topic === TOPIC_CARD) return handleCardCallback(rt, valid, context);
    return handleMessageEvent(rt, valid, context);
  };
}
