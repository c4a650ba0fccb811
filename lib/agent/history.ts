/**
 * Session history for stateless agents (channel-semantics.md §6: "the session's recent history,
 * bounded by turns and characters"). A turn is one `ChatTurn` (one user or assistant message).
 */
import type { ChatTurn } from './port.js';

export interface HistoryLimits {
  /** At most this many turns (messages). 0 sends no history. */
  maxTurns: number;
  /** At most this many characters, summed over the kept turns' content. */
  maxChars: number;
}

/**
 * Keeps the newest turns that fit both limits, oldest first. Turns are dropped whole, oldest
 * first; the result is a contiguous tail of `turns`. A leading assistant turn whose user turn
 * was dropped is dropped too, so the history the model sees starts with the user.
 */
export function boundHistory(turns: readonly ChatTurn[], limits: HistoryLimits): ChatTurn[] {
  const maxTurns = Math.max(0, Math.floor(limits.maxTurns));
  const maxChars = Math.max(0, Math.floor(limits.maxChars));
  let chars = 0;
  let start = turns.length;
  while (start > 0 && turns.length - start < maxTurns) {
    const candidate = turns[start - 1];
    if (!candidate || chars + candidate.content.length > maxChars) break;
    chars += candidate.content.length;
    start -= 1;
  }
  while (start < turns.length && turns[start]?.role === 'assistant') start += 1;
  return turns.slice(start);
}

/** The history to store after an exchange: the old turns plus this exchange, bounded. */
export function appendExchange(
  turns: readonly ChatTurn[],
  exchange: { user: string; assistant: string },
  limits: HistoryLimits,
): ChatTurn[] {
  const next: ChatTurn[] = [
    ...turns,
    { role: 'user', content: exchange.user },
    { role: 'assistant', content: exchange.assistant },
  ];
  return boundHistory(next, limits);
}
