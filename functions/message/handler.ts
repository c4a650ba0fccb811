/**
 * The message function, platform-neutral: one forwarded event in, its outcome out. The runtime
 * (configuration, store, agent, DingTalk clients) is built once per process and reused by warm
 * invocations; configuration errors surface at the first invocation with the key named.
 *
 * Outcomes: handled, dropped or duplicate → the platform counts the invocation as done; a thrown
 * error → the platform retries (Lambda async retries, FC async retries), and the dedup record
 * makes the retry resume instead of answering twice.
 */
import { loadConfig } from '../../lib/config/index.js';
import type { HandleContext, HandleOutcome } from '../../lib/forward/port.js';
import type { MessageMetrics } from '../../lib/metrics/index.js';
import { createMessageHandler } from '../../lib/pipeline/index.js';
import { createRuntime, type RuntimeOverrides } from '../../lib/runtime/index.js';

/** Time kept back from the platform's limit so the handler finishes (and logs) before it. */
const SAFETY_MARGIN_MS = 2_000;

type Handler = ReturnType<typeof createMessageHandler>;
let handler: Promise<Handler> | undefined;

/** The process-wide neutral handler, built on first use. */
function messageHandler(
  env: NodeJS.ProcessEnv = process.env,
  overrides?: RuntimeOverrides,
): Promise<Handler> {
  handler ??= createRuntime(loadConfig(env, { requireCredentials: true }), overrides).then(
    createMessageHandler,
    (err) => {
      handler = undefined; // a later invocation tries again (and reports the same error)
      throw err;
    },
  );
  return handler;
}

/** Drops the process-wide handler so the next event builds it from fresh configuration. */
export function resetMessageRuntime(): void {
  handler = undefined;
}

/** What a platform entry knows about the invocation. */
export interface InvocationContext {
  /** Platform time left (ms). */
  remainingMs: number;
  /** The platform's retry count (0 = first), when it says. */
  attempt?: number;
  /** The platform's metrics (EMF on Lambda, plain JSON on FC): outcome, timings, paid calls. */
  metrics?: MessageMetrics;
}

/** Handles one event; a thrown error asks the platform to retry (it is retryable). */
export async function handleMessage(
  event: unknown,
  invocation: InvocationContext,
): Promise<HandleOutcome> {
  const { metrics } = invocation;
  const run = async () => {
    // The hooks apply when the process-wide runtime is built (an entry always passes the same).
    const handle = await messageHandler(process.env, metrics?.runtimeHooks());
    const context: HandleContext = {
      deadline: Date.now() + invocation.remainingMs - SAFETY_MARGIN_MS,
      ...(invocation.attempt === undefined ? {} : { attempt: invocation.attempt }),
    };
    return handle(event, context);
  };
  return metrics ? metrics.measure(accountOf(event), run) : run();
}

/** The event's account for the metrics; an event that is none counts as `unknown`. */
function accountOf(event: unknown): string {
  const account = (event as { accountId?: unknown } | null)?.accountId;
  return typeof account === 'string' && account !== '' ? account.slice(0, 64) : 'unknown';
}
