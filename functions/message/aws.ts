/**
 * AWS Lambda entry of the message function, invoked asynchronously by the relay
 * (`InvocationType: "Event"`). A thrown error makes Lambda retry (maximumRetryAttempts) and
 * finally send the event to the on-failure queue.
 */
import type { HandleOutcome } from '../../lib/forward/port.js';
import { handleMessage } from './handler.js';

interface LambdaContext {
  getRemainingTimeInMillis(): number;
}

export const handler = (event: unknown, context: LambdaContext): Promise<HandleOutcome> =>
  handleMessage(event, { remainingMs: context.getRemainingTimeInMillis() });
