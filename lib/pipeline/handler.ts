/**
 * The message pipeline: one inbound robot message in, the right reply out, exactly once
 * (channel-semantics.md §5–§9). The lifecycle is a list of small steps (steps.ts), each of which
 * may end the message with an outcome (Middy's early return), and ONE place that finishes it
 * (`finish` below): it leaves the session and completes or abandons the dedup claim, whatever
 * happened, so no step has to remember to.
 *
 *   parse ─► admit (policy; ≤ 2 store reads) ─► claim (∥ idle session ∥ history) ─► resume?
 *     ─► input bound ─► pairing? ─► session turn ─► command | agent ─► reply          ─► finish
 *
 * Policy runs before the claim, so a message that policy drops costs at most two store reads and
 * never touches a dedup or session record (invariant 4, "cheap drops").
 *
 * Failures (failure.ts): a retryable one abandons the claim (the reply and its progress stay)
 * and is rethrown, so the relay leaves the message unacked / the platform retries; a final one
 * ends the message: the sender gets a short note where a reply can be sent, the claim is
 * completed as `failed:<reason>`, and the outcome is `failed` (acknowledged).
 * Every store call carries the deadline (lib/state/deadline.ts).
 * Invariants and their tests: test/pipeline/handler-*.test.ts.
 */
import { errorSummary } from '../errors.js';
import type { HandleContext, HandleOutcome, MessageEvent } from '../forward/port.js';
import { storeWithDeadline } from '../state/deadline.js';
import { LostClaimError } from './dedup.js';
import { canTellSender, classifyFailure, type Failure, finalFailureNote } from './failure.js';
import type { PipelineRuntime } from './runtime.js';
import { type MessageRun, PIPELINE_STEPS, sendText } from './steps.js';

/**
 * The claim and the session records get this much past the deadline, so the finish (abandon,
 * leave) can still be written when a step ran into the deadline: an abandon that cannot be
 * written would leave "maybe sent" marks that make the retry skip chunks never sent. Every
 * platform kills later than this (the function entries keep 2 s).
 */
const FINISH_GRACE_MS = 1_500;
/**
 * Sends still open (or waiting out a QPS retry) this long past the deadline are cut off: well
 * before the records' grace ends, so what is known of them can still be written.
 */
const SEND_GRACE_MS = 500;

/** Handles one forwarded event before `context.deadline` (epoch ms). */
export async function handleMessageEvent(
  rt: PipelineRuntime,
  event: MessageEvent,
  context: HandleContext,
): Promise<HandleOutcome> {
  const left = context.deadline - rt.now();
  const sendsEnd = AbortSignal.timeout(Math.max(1, left + SEND_GRACE_MS));
  const run: MessageRun = {
    rt,
    event,
    deadline: context.deadline,
    store: storeWithDeadline(rt.store, AbortSignal.timeout(Math.max(1, left))),
    records: storeWithDeadline(rt.store, AbortSignal.timeout(Math.max(1, left + FINISH_GRACE_MS))),
    sendSignal: sendsEnd,
    log: rt.logger.child({ account: event.accountId, messageId: event.messageId }),
  };
  const attempt = context.attempt ?? event.attempt;
  if (attempt) run.log.info('pipeline.retry', { attempt });
  const keeper = setInterval(() => void renewLeases(run), rt.leaseMs / 3);
  keeper.unref();
  try {
    for (const step of PIPELINE_STEPS) {
      const outcome = await step(run);
      if (outcome) return await finish(run, outcome);
    }
    return await finish(run, { status: 'handled' });
  } catch (err) {
    return await finishFailed(run, err);
  } finally {
    clearInterval(keeper);
  }
}

/** The one place a message ends well: leave the session and complete the claim, side by side. */
async function finish(run: MessageRun, outcome: HandleOutcome): Promise<HandleOutcome> {
  const result = outcome.status === 'handled' ? 'handled' : `${outcome.status}:${outcome.reason}`;
  await Promise.all([leaveSession(run), run.claim?.complete(run.rt.now(), result)]);
  return outcome;
}

/** The one place a message ends badly: classify, then abandon (retry) or end it (final). */
async function finishFailed(run: MessageRun, err: unknown): Promise<HandleOutcome> {
  if (err instanceof LostClaimError) {
    // Another invocation owns the message now; it answers. Nothing of ours to finish.
    run.log.warn('pipeline.claim_lost', { msgId: run.message?.msgId });
    await leaveSession(run);
    return { status: 'duplicate', reason: 'duplicate_in_progress' };
  }
  const failure = classifyFailure(err, run.claim?.attempts ?? 1);
  const fields = { msgId: run.message?.msgId, reason: failure.reason, error: errorSummary(err) };
  if (failure.kind === 'retry') {
    run.log.error('pipeline.failed_retry', { ...fields, attempts: run.claim?.attempts });
    await Promise.all([
      leaveSession(run),
      run.claim
        ?.abandon()
        .catch((e: unknown) =>
          run.log.error('pipeline.abandon_failed', { error: errorSummary(e) }),
        ),
    ]);
    throw err;
  }
  run.log.error('pipeline.failed_final', fields);
  await tellSender(run, failure);
  try {
    return await finish(run, { status: 'failed', reason: failure.reason });
  } catch (finishErr) {
    // The message is ended for the sender; a retry finds the claim and ends it again.
    run.log.error('pipeline.finish_failed', { error: errorSummary(finishErr) });
    throw finishErr;
  }
}

/** A short note for the sender of a message that ended in a final failure, best effort. */
async function tellSender(run: MessageRun, failure: Failure): Promise<void> {
  if (!run.message || !run.account || !run.claim || !canTellSender(failure)) return;
  try {
    await sendText(run, finalFailureNote(failure), { note: true });
  } catch (err) {
    run.log.warn('pipeline.failure_note_failed', { error: errorSummary(err) });
  }
}

async function leaveSession(run: MessageRun): Promise<void> {
  const session = run.session;
  run.session = undefined;
  await session
    ?.leave()
    .catch((err: unknown) => run.log.warn('session.leave_failed', { error: errorSummary(err) }));
}

/**
 * Extends the dedup claim and the session lease while the message is handled. Leases are short
 * (`leaseMs`) so that a handler whose process died blocks its message and its session only
 * briefly: the relay's retry, or the platform's, then takes over.
 */
async function renewLeases(run: MessageRun): Promise<void> {
  const until = Math.min(run.deadline, run.rt.now() + run.rt.leaseMs);
  try {
    await Promise.all([run.claim?.renew(until), run.session?.renew()]);
  } catch (err) {
    run.log.warn('pipeline.lease_renewal_failed', { error: errorSummary(err) });
  }
}
