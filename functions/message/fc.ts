/**
 * Alibaba Cloud Function Compute entry of the message function, invoked asynchronously by the
 * relay (FC 3.0 `x-fc-invocation-type: Async`, or FC 2.0). FC hands the payload over as a
 * Buffer; a thrown error makes FC's async retry policy run it again.
 */
import type { HandleOutcome } from '../../lib/forward/port.js';
import { MessageMetrics } from '../../lib/metrics/index.js';
import { handleMessage } from './handler.js';

/** Plain JSON metric lines: SLS indexes their fields (the FC counterpart of EMF). */
const metrics = new MessageMetrics({ format: 'plain' });

interface FcContext {
  /** FC 3.0: the function's timeout in seconds, under `function.timeout`. */
  function?: { timeout?: number };
}

const DEFAULT_TIMEOUT_MS = 60_000;

export async function handler(event: Buffer | string, context: FcContext): Promise<HandleOutcome> {
  const text = Buffer.isBuffer(event) ? event.toString('utf8') : event;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined; // handleMessage logs and drops it as an invalid event
  }
  const timeoutMs = (context.function?.timeout ?? DEFAULT_TIMEOUT_MS / 1000) * 1000;
  return handleMessage(parsed, { remainingMs: timeoutMs, metrics });
}
