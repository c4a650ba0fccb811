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
import {
  type HandleOutcome,
  invalidEventReason,
  type MessageEvent,
} from '../../lib/forward/port.js';
import { createLogger } from '../../lib/log.js';
import { handleMessageEvent } from '../../lib/pipeline/handler.js';
import {
  createRuntime,
  type PipelineRuntime,
  type RuntimeOverrides,
} from '../../lib/runtime/index.js';

/** Time kept back from the platform's limit so the handler finishes (and logs) before it. */
const SAFETY_MARGIN_MS = 2_000;

let runtime: Promise<PipelineRuntime> | undefined;

/** The process-wide runtime, built on first use. */
function messageRuntime(
  env: NodeJS.ProcessEnv = process.env,
  overrides?: RuntimeOverrides,
): Promise<PipelineRuntime> {
  runtime ??= createRuntime(loadConfig(env, { requireCredentials: true }), overrides).catch(
    (err) => {
      runtime = undefined; // a later invocation tries again (and reports the same error)
      throw err;
    },
  );
  return runtime;
}

/** Handles one event with `remainingMs` of platform time left. */
export async function handleMessage(event: unknown, remainingMs: number): Promise<HandleOutcome> {
  const invalid = invalidEventReason(event);
  if (invalid) {
    // Retrying the same bytes cannot help: count it as handled (channel-semantics §9).
    createLogger().error('message.invalid_event', { reason: invalid });
    return { status: 'dropped', reason: 'invalid_event' };
  }
  const rt = await messageRuntime();
  return handleMessageEvent(rt, event as MessageEvent, {
    deadline: Date.now() + remainingMs - SAFETY_MARGIN_MS,
  });
}
