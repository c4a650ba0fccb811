/**
 * AWS Lambda entry of the message function, invoked asynchronously by the relay
 * (`InvocationType: "Event"`). A thrown error makes Lambda retry (maximumRetryAttempts) and
 * finally send the event to the on-failure queue.
 */
import type { HandleOutcome } from '../../lib/forward/port.js';
import { MessageMetrics } from '../../lib/metrics/index.js';
import { handleMessage } from './handler.js';

/** CloudWatch embedded metric format: Lambda's stdout becomes metrics, no API call. */
const metrics = new MessageMetrics({ format: 'emf' });

interface LambdaContext {
  getRemainingTimeInMillis(): number;
}

export const handler = (event: unknown, context: LambdaContext): Promise<HandleOutcome> =>
  handleMessage(event, { remainingMs: context.getRemainingTimeInMillis(), metrics });
