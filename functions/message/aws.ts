/**
 * AWS Lambda entry of the message function, invoked asynchronously by the relay
 * (`InvocationType: "Event"`). A thrown error makes Lambda retry (maximumRetryAttempts) and
 * finally send the event to the on-failure queue. The configuration comes from the config
 * secret named by CONFIG_SECRET_ID, filtered to what this function needs (lib/config/aws-secret.ts).
 */
import { applySecretConfig } from '../../lib/config/aws-secret.js';
import type { HandleOutcome } from '../../lib/forward/port.js';
import { MessageMetrics } from '../../lib/metrics/index.js';
import { handleMessage, resetMessageRuntime } from './handler.js';

/** CloudWatch embedded metric format: Lambda's stdout becomes metrics, no API call. */
const metrics = new MessageMetrics({ format: 'emf' });

interface LambdaContext {
  getRemainingTimeInMillis(): number;
}

export async function handler(event: unknown, context: LambdaContext): Promise<HandleOutcome> {
  const { changed } = await applySecretConfig(process.env, 'message');
  if (changed) resetMessageRuntime();
  return handleMessage(event, { remainingMs: context.getRemainingTimeInMillis(), metrics });
}
