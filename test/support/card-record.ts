/**
 * What a turn that died with its card open leaves in the store: the open-card record, written
 * by the real CardWatch (lib/pipeline/card-watch.ts) and then abandoned, as a dead process
 * abandons it. Used by the watchdog tests (the pipeline's sweep and the relay's).
 */
import { memoryLogger } from '../../lib/log.js';
import { CardWatch, type OpenCardInfo } from '../../lib/pipeline/card-watch.js';
import type { StateStore } from '../../lib/state/port.js';

/** Writes `card`'s open-card record and stops watching it: the record stays. */
export async function abandonedCardRecord(store: StateStore, card: OpenCardInfo): Promise<void> {
  const watch = new CardWatch({
    scope: {},
    store,
    card,
    pollMs: 60_000,
    now: Date.now,
    logger: memoryLogger(),
    onStop: () => undefined,
  });
  await watch.open();
  watch.release();
}
