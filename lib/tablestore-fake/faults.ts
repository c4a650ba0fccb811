/**
 * Faults the fake injects on demand, for tests of the adapter's failure handling:
 * - throttling: the next N calls (optionally of some operations) answer a throttling error
 *   (OTSServerBusy 503 by default) without touching data;
 * - latency: every answer waits this long first (a slow or hung store);
 * - ambiguous writes: the next N writes are applied and then the connection is dropped without
 *   an answer, so the client cannot know whether its write happened.
 */
import { THROTTLE_CODES, type ThrottleCode } from './errors.js';

export const WRITE_OPERATIONS = new Set(['PutRow', 'UpdateRow', 'DeleteRow']);

/** The fault controls a test holds. */
export interface FakeFaults {
  /** The next `count` calls (of `operations`, default all) answer `code`. */
  throttle(count: number, options?: { code?: ThrottleCode; operations?: string[] }): void;
  /** Delays every answer by `ms` (0 = off). */
  latency(ms: number): void;
  /** The next `count` writes are applied, then their connection is dropped unanswered. */
  dropAfterWrite(count?: number): void;
  /** Clears every fault. */
  reset(): void;
}

/** Fault state shared by the server. */
export class FaultState implements FakeFaults {
  #throttles: Array<{ code: ThrottleCode; operations?: Set<string> }> = [];
  #latencyMs = 0;
  #drops = 0;

  throttle(count: number, options: { code?: ThrottleCode; operations?: string[] } = {}): void {
    for (let i = 0; i < count; i++) {
      this.#throttles.push({
        code: options.code ?? 'OTSServerBusy',
        ...(options.operations ? { operations: new Set(options.operations) } : {}),
      });
    }
  }
  latency(ms: number): void {
    this.#latencyMs = Math.max(0, ms);
  }
  dropAfterWrite(count = 1): void {
    this.#drops += count;
  }
  reset(): void {
    this.#throttles = [];
    this.#latencyMs = 0;
    this.#drops = 0;
  }

  get latencyMs(): number {
    return this.#latencyMs;
  }

  /** The throttling error this call gets, if one is queued for its operation. */
  takeThrottle(operation: string) {
    const i = this.#throttles.findIndex((t) => !t.operations || t.operations.has(operation));
    if (i < 0) return undefined;
    const [t] = this.#throttles.splice(i, 1);
    return THROTTLE_CODES[t!.code]();
  }

  /** True when this (applied) write's connection is to be dropped. */
  takeDrop(operation: string): boolean {
    if (this.#drops === 0 || !WRITE_OPERATIONS.has(operation)) return false;
    this.#drops--;
    return true;
  }
}
