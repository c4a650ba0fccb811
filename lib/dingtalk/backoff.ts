/** Random numbers in [0, 1): injected where randomness decides behaviour (tests pin it). */
export type Random = () => number;

export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
}

/**
 * Exponential backoff with "equal jitter": half the exponential step is fixed, half random, so
 * reconnecting relays spread out but never retry immediately. Capped at `maxMs` (60 s by default
 * for the stream client, dingtalk-protocol.md §3.6 item 2).
 */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions,
  random: Random = Math.random,
): number {
  const step = Math.min(options.maxMs, options.baseMs * 2 ** Math.max(0, attempt));
  return Math.round(step / 2 + (random() * step) / 2);
}
