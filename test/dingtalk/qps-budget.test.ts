/**
 * The channel's own QPS budget (issue 13, §6.2): a token bucket per app and API on an injected
 * clock. The card path that uses it is tested end to end in test/pipeline/card-qps.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { QpsBudget } from '../../lib/dingtalk/qps-budget.js';

describe('QpsBudget', () => {
  it('allows qps calls per second per key, refilled with time', () => {
    let now = 0;
    const budget = new QpsBudget(4, () => now);
    expect([1, 2, 3, 4, 5].map(() => budget.tryTake('app|card/streaming'))).toEqual([
      true,
      true,
      true,
      true,
      false,
    ]);
    // Another API of the same app has its own share.
    expect(budget.tryTake('app|card/instances')).toBe(true);
    now = 250; // a quarter second: one call back
    expect(budget.tryTake('app|card/streaming')).toBe(true);
    expect(budget.tryTake('app|card/streaming')).toBe(false);
    now = 10_000; // never more than one second's worth
    expect([1, 2, 3, 4, 5].map(() => budget.tryTake('app|card/streaming'))).toEqual([
      true,
      true,
      true,
      true,
      false,
    ]);
  });

  it('take waits for the next call and gives up when its signal fires', async () => {
    const budget = new QpsBudget(1, () => 0); // a frozen clock: the bucket never refills
    await budget.take('k');
    const controller = new AbortController();
    const waiting = budget.take('k', controller.signal);
    controller.abort(new Error('deadline'));
    await expect(waiting).rejects.toThrow('deadline');
  });
});
