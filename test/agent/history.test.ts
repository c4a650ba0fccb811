import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { appendExchange, boundHistory } from '../../lib/agent/history.js';
import type { ChatTurn } from '../../lib/agent/port.js';
import { exchanges } from './fixtures.js';

describe('boundHistory (channel-semantics §6: history bounded by turns and characters)', () => {
  it('keeps the newest turns up to maxTurns, oldest first', () => {
    const kept = boundHistory(exchanges(5), { maxTurns: 4, maxChars: 1000 });
    expect(kept.map((t) => t.content)).toEqual(['u4', 'a4', 'u5', 'a5']);
  });

  it('drops oldest turns until the characters fit', () => {
    const turns: ChatTurn[] = [
      { role: 'user', content: 'x'.repeat(50) },
      { role: 'assistant', content: 'y'.repeat(50) },
      { role: 'user', content: 'z'.repeat(30) },
      { role: 'assistant', content: 'w'.repeat(30) },
    ];
    const kept = boundHistory(turns, { maxTurns: 10, maxChars: 100 });
    expect(kept.map((t) => t.content[0])).toEqual(['z', 'w']);
  });

  it('never starts with an assistant turn whose question was dropped', () => {
    const kept = boundHistory(exchanges(3), { maxTurns: 3, maxChars: 1000 });
    expect(kept.map((t) => t.content)).toEqual(['u3', 'a3']);
  });

  it('keeps nothing when the newest turn alone is too long or limits are zero', () => {
    const turns: ChatTurn[] = [{ role: 'user', content: 'long message' }];
    expect(boundHistory(turns, { maxTurns: 5, maxChars: 3 })).toEqual([]);
    expect(boundHistory(exchanges(2), { maxTurns: 0, maxChars: 1000 })).toEqual([]);
  });

  it('returns a contiguous tail of the input that fits both limits (property)', () => {
    const turn = fc.record({
      role: fc.constantFrom<'user' | 'assistant'>('user', 'assistant'),
      content: fc.string({ maxLength: 40 }),
    });
    fc.assert(
      fc.property(
        fc.array(turn, { maxLength: 30 }),
        fc.nat(12),
        fc.nat(200),
        (turns, maxTurns, maxChars) => {
          const kept = boundHistory(turns, { maxTurns, maxChars });
          expect(kept).toEqual(turns.slice(turns.length - kept.length));
          expect(kept.length).toBeLessThanOrEqual(maxTurns);
          expect(kept.reduce((n, t) => n + t.content.length, 0)).toBeLessThanOrEqual(maxChars);
          expect(kept[0]?.role ?? 'user').toBe('user');
        },
      ),
    );
  });

  it('appendExchange adds the user and assistant turns and bounds the result', () => {
    const next = appendExchange(
      exchanges(2),
      { user: 'q', assistant: 'r' },
      {
        maxTurns: 4,
        maxChars: 1000,
      },
    );
    expect(next).toEqual([
      { role: 'user', content: 'u2' },
      { role: 'assistant', content: 'a2' },
      { role: 'user', content: 'q' },
      { role: 'assistant', content: 'r' },
    ]);
  });
});
