/**
 * The card bench section (bench/card-stream.ts) on a tiny run: it counts what it claims. The
 * peer pattern spends exactly 4 + one call per token chunk, ours stays within the budget with
 * every card finished holding the whole answer, and a first-visible time is measured for every
 * reply. No timing is asserted (the figures themselves belong to `npm run bench`).
 */
import { describe, expect, it } from 'vitest';
import { benchCardStream, firstVisibleAt } from '../../bench/card-stream.js';
import type { SimCard } from '../../lib/simulator/index.js';

describe('bench: AI card streaming, ours and the peer pattern', () => {
  it('counts paid calls per reply and measures first visible content for each reply', async () => {
    const result = await benchCardStream({
      latency: { replies: 3, tokens: 6, gapMs: 10, concurrency: 3 },
      slowLong: { replies: 1, tokens: 12, gapMs: 20, concurrency: 1 },
      fastLong: { replies: 2, tokens: 50, gapMs: 0, concurrency: 2 },
    });
    expect(result.budget).toBe(5);
    expect(result.peer.calls.latency).toMatchObject({ n: 3, max: 4 + 6, mean: 4 + 6 });
    expect(result.peer.calls.slowLong).toMatchObject({ n: 1, max: 4 + 12 });
    expect(result.peer.calls.fastLong).toMatchObject({ n: 2, max: 4 + 50 });
    for (const side of [result.ours, result.peer]) {
      expect(side.unfinished).toBe(0);
      expect(side.wrongContent).toBe(0);
      expect(side.firstVisibleMs.n).toBe(3);
    }
    const ours = result.ours.calls;
    expect([ours.latency.n, ours.slowLong.n, ours.fastLong.n]).toEqual([3, 1, 2]);
    expect(Math.max(ours.latency.max, ours.slowLong.max, ours.fastLong.max)).toBeLessThanOrEqual(5);
  }, 30_000);

  it('first visible content is the create when it had content, else the first update with some', () => {
    const card = (createContent: string): SimCard => ({
      outTrackId: 'card_x',
      account: 'a',
      templateId: 't',
      space: { type: 'IM_ROBOT', id: 'u' },
      createdAt: 100,
      createParams: { flowStatus: createContent ? '2' : '1', msgContent: createContent },
      params: {},
      updates: [
        { at: 150, kind: 'data', params: { flowStatus: '2' } },
        { at: 170, kind: 'streaming', key: 'msgContent', content: '' },
        { at: 200, kind: 'streaming', key: 'msgContent', content: 'hi' },
      ],
      state: 'finished',
    });
    expect(firstVisibleAt(card('first'))).toBe(100);
    expect(firstVisibleAt(card(''))).toBe(200);
  });
});
