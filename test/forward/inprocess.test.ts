import { describe, expect, it } from 'vitest';
import { manualClock } from '../../lib/clock.js';
import { createInProcessForwarder } from '../../lib/forward/inprocess.js';
import type { HandleOutcome, MessageEvent, MessageHandler } from '../../lib/forward/port.js';
import { memoryLogger } from '../../lib/log.js';
import { sampleEvent } from './fixtures.js';

function recordingHandler(outcome: HandleOutcome) {
  const calls: { event: MessageEvent; deadline: number }[] = [];
  const handler: MessageHandler = async (event, { deadline }) => {
    calls.push({ event, deadline });
    return outcome;
  };
  return { handler, calls };
}

describe('in-process forwarder', () => {
  it.each<HandleOutcome>([
    { status: 'handled' },
    { status: 'dropped', reason: 'dm_policy' },
    { status: 'duplicate', reason: 'duplicate_completed' },
  ])('accepts when the handler says $status', async (outcome) => {
    const { handler, calls } = recordingHandler(outcome);
    const forwarder = createInProcessForwarder({ handler, timeoutMs: 5_000 });
    expect(forwarder.kind).toBe('inprocess');
    expect(await forwarder.forward(sampleEvent())).toEqual({ accepted: true });
    expect(calls.map((c) => c.event)).toEqual([sampleEvent()]);
  });

  it('does not accept a message another invocation is still handling (retryable)', async () => {
    const { handler } = recordingHandler({ status: 'duplicate', reason: 'duplicate_in_progress' });
    const forwarder = createInProcessForwarder({ handler, timeoutMs: 5_000 });
    expect(await forwarder.forward(sampleEvent())).toMatchObject({
      accepted: false,
      retryable: true,
    });
  });

  it('gives the handler a deadline of now + timeoutMs', async () => {
    const clock = manualClock();
    const { handler, calls } = recordingHandler({ status: 'handled' });
    const forwarder = createInProcessForwarder({ handler, timeoutMs: 90_000, clock });
    await forwarder.forward(sampleEvent());
    expect(calls[0]?.deadline).toBe(clock.now() + 90_000);
  });

  it('turns a thrown error into a retryable rejection naming the failure', async () => {
    const forwarder = createInProcessForwarder({
      timeoutMs: 5_000,
      handler: async () => {
        throw new Error('state store unreachable');
      },
    });
    expect(await forwarder.forward(sampleEvent())).toEqual({
      accepted: false,
      retryable: true,
      reason: 'inprocess: handler failed: Error: state store unreachable',
    });
  });

  it('turns a synchronous throw into a retryable rejection too', async () => {
    const handler = (() => {
      throw new TypeError('boom');
    }) as unknown as MessageHandler;
    const forwarder = createInProcessForwarder({ timeoutMs: 5_000, handler });
    expect(await forwarder.forward(sampleEvent())).toMatchObject({
      accepted: false,
      retryable: true,
    });
  });

  it('rejects (retryable) a handler that misses its deadline, and logs when it finishes late', async () => {
    const logger = memoryLogger();
    let finish: (outcome: HandleOutcome) => void = () => {};
    const handler: MessageHandler = () => new Promise((resolve) => (finish = resolve));
    // timeoutMs 0: the deadline has passed at once; the forwarder's own grace is 1 s.
    const forwarder = createInProcessForwarder({ timeoutMs: 0, handler, logger });
    const result = await forwarder.forward(sampleEvent());
    expect(result).toMatchObject({ accepted: false, retryable: true });
    expect(result.accepted === false && result.reason).toMatch(/^inprocess: timed out after/);
    finish({ status: 'handled' });
    await new Promise((resolve) => setImmediate(resolve));
    expect(logger.lines).toContainEqual(
      expect.objectContaining({
        event: 'forward.inprocess.late',
        messageId: sampleEvent().messageId,
        outcome: { status: 'handled' },
      }),
    );
  });

  it('stops waiting when the caller aborts, and does not start after an abort', async () => {
    const handler: MessageHandler = () => new Promise(() => {});
    const forwarder = createInProcessForwarder({ timeoutMs: 60_000, handler });
    const controller = new AbortController();
    const pending = forwarder.forward(sampleEvent(), controller.signal);
    controller.abort();
    expect(await pending).toEqual({
      accepted: false,
      retryable: true,
      reason: 'inprocess: aborted',
    });

    const { handler: never, calls } = recordingHandler({ status: 'handled' });
    const second = createInProcessForwarder({ timeoutMs: 60_000, handler: never });
    expect(await second.forward(sampleEvent(), controller.signal)).toMatchObject({
      accepted: false,
      retryable: true,
    });
    expect(calls).toHaveLength(0);
  });
});
