/**
 * Latency summaries for the benchmarks: nearest-rank percentiles over raw samples (no
 * interpolation, so a p99 is a latency some message really had).
 */

/** p50/p99/max/mean of a sample set, in the samples' unit. */
export interface Summary {
  n: number;
  p50: number;
  p99: number;
  max: number;
  mean: number;
}

/** The nearest-rank `q` percentile (0 < q ≤ 100) of unsorted samples; NaN when empty. */
export function percentile(samples: readonly number[], q: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.ceil((q / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

/** Summarises samples (NaN fields when there are none). */
export function summarize(samples: readonly number[]): Summary {
  if (samples.length === 0) {
    return { n: 0, p50: Number.NaN, p99: Number.NaN, max: Number.NaN, mean: Number.NaN };
  }
  const sum = samples.reduce((a, b) => a + b, 0);
  return {
    n: samples.length,
    p50: percentile(samples, 50),
    p99: percentile(samples, 99),
    max: Math.max(...samples),
    mean: sum / samples.length,
  };
}

/** Rounds for display: 2 decimals below 10, 1 below 100, else whole numbers. */
export function round(value: number): number {
  if (!Number.isFinite(value)) return value;
  const abs = Math.abs(value);
  const digits = abs < 10 ? 2 : abs < 100 ? 1 : 0;
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
