/**
 * Offered-load drivers. A closed loop keeps at most `window` messages outstanding (it measures
 * the sustained rate without overrunning the relay's bounded queue, which would shed and so
 * measure DingTalk's redelivery instead); an open loop injects at a fixed rate whatever happens
 * downstream (it measures latency at that rate).
 */
import type { Simulator } from '../lib/simulator/index.js';
import { yieldToLoop } from './rig.js';

export interface ClosedLoopOptions {
  sim: Simulator;
  total: number;
  window: number;
  /** Injects message number `i`. */
  inject(i: number): void;
  /** How many injected messages are finished (ACKed, answered…) so far. */
  completed(): number;
  timeoutMs?: number;
}

/** Injects `total` messages keeping ≤ `window` outstanding; resolves when all are completed. */
export async function closedLoop(options: ClosedLoopOptions): Promise<void> {
  const { sim, total, window } = options;
  const timeoutMs = options.timeoutMs ?? 120_000;
  let sent = 0;
  while (sent < total) {
    const room = Math.min(window - (sent - options.completed()), total - sent, 64);
    if (room <= 0) {
      await sim.waitFor(
        () => (sent - options.completed() < window ? true : undefined),
        timeoutMs,
        'room in the closed loop window',
      );
      continue;
    }
    for (let k = 0; k < room; k++) options.inject(sent++);
    await yieldToLoop();
  }
  await sim.waitFor(
    () => (options.completed() >= total ? true : undefined),
    timeoutMs,
    `${total} completed messages (have ${options.completed()})`,
  );
}

export interface OpenLoopOptions {
  rate: number;
  total: number;
  inject(i: number): void;
}

/** Injects `total` messages at `rate` per second, on a 5 ms tick that catches up after a delay. */
export async function openLoop(options: OpenLoopOptions): Promise<void> {
  const start = performance.now();
  let sent = 0;
  while (sent < options.total) {
    const due = Math.min(
      options.total,
      Math.floor(((performance.now() - start) / 1000) * options.rate) + 1,
    );
    while (sent < due) options.inject(sent++);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
