/**
 * Alibaba Cloud Function Compute 3.0 entry of the message function, invoked asynchronously by
 * the relay (`x-fc-invocation-type: Async`, lib/forward/fc3.ts). FC hands the payload over as a
 * Buffer; a thrown error makes FC's async policy (MaxAsyncRetryAttempts, then the on-failure
 * destination) run it again, and the dedup record makes a retry resume instead of repeat.
 */
import type { HandleOutcome } from '../../lib/forward/port.js';
import { MessageMetrics } from '../../lib/metrics/index.js';
import { exportCredentials, type FcContext, invocationBudgetMs } from '../fc/context.js';
import { handleMessage } from './handler.js';

/** Plain JSON metric lines: SLS indexes their fields (the FC counterpart of EMF). */
const metrics = new MessageMetrics({ format: 'plain' });

export async function handler(event: Buffer | string, context: FcContext): Promise<HandleOutcome> {
  const started = Date.now();
  exportCredentials(context);
  const text = Buffer.isBuffer(event) ? event.toString('utf8') : event;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined; // handleMessage logs and drops it as an invalid event
  }
  const remainingMs = invocationBudgetMs(context) - (Date.now() - started);
  // FC's async retries are not numbered in the context: the attempt is left unknown.
  return handleMessage(parsed, { remainingMs, metrics });
}
