/**
 * The channel's own count of DingTalk's QPS limit (§6.2: 20 calls per second per app and API on
 * a standard organisation), so concurrent card replies of one app share it instead of each
 * finding out through 403 answers (issue 13). A token bucket per `app|api`, refilled on the
 * clock, shared by every reply of the process (the limit is the app's, not a reply's).
 *
 * It bounds one process. Several processes of one app (Lambda instances, relay replicas) can
 * still exceed the limit together: the 403 backoff in card-reply.ts covers that case.
 */
import { sleep } from './http.js';

interface Bucket {
  tokens: number;
  at: number;
}

export class QpsBudget {
  readonly #buckets = new Map<string, Bucket>();

  constructor(
    readonly qps: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes a call from `key`'s bucket now; false when the second's calls are spent. */
  tryTake(key: string): boolean {
    const bucket = this.#refill(key);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /** Waits until `key`'s bucket has a call, then takes it (a call that must go out). */
  async take(key: string, signal?: AbortSignal): Promise<void> {
    while (!this.tryTake(key)) {
      const missing = 1 - this.#refill(key).tokens;
      await sleep(Math.max(1, Math.ceil((missing / this.qps) * 1000)), signal);
    }
  }

  #refill(key: string): Bucket {
    const now = this.now();
    const bucket = this.#buckets.get(key) ?? { tokens: this.qps, at: now };
    bucket.tokens = Math.min(this.qps, bucket.tokens + ((now - bucket.at) / 1000) * this.qps);
    bucket.at = now;
    this.#buckets.set(key, bucket);
    return bucket;
  }
}

const shared = new Map<number, QpsBudget>();

/** The process-wide budget for this QPS (one per limit, keyed by app and API inside). */
export function sharedQpsBudget(qps: number): QpsBudget {
  let budget = shared.get(qps);
  if (!budget) {
    budget = new QpsBudget(qps);
    shared.set(qps, budget);
  }
  return budget;
}
