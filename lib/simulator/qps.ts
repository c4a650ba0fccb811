/**
 * Per app+API rate limit (§6.2 THROTTLE: 20 QPS per app per API on standard orgs) as a token
 * bucket that refills continuously on the injected clock.
 */
import type { Clock } from '../clock.js';

interface Bucket {
  tokens: number;
  at: number;
}

export class QpsLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly clock: Clock,
    private readonly qps: number,
  ) {}

  get enabled(): boolean {
    return this.qps > 0;
  }

  /** Takes one token from the bucket for `key`; false when it is empty. */
  allow(key: string): boolean {
    if (!this.enabled) return true;
    const now = this.clock.now();
    const bucket = this.buckets.get(key) ?? { tokens: this.qps, at: now };
    const refilled = Math.min(this.qps, bucket.tokens + ((now - bucket.at) / 1000) * this.qps);
    const allowed = refilled >= 1;
    this.buckets.set(key, { tokens: allowed ? refilled - 1 : refilled, at: now });
    return allowed;
  }
}
