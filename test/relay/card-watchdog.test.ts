/**
 * The relay runs the card watchdog (issue 13): an open-card record past its bound, left by a
 * turn whose process died, is found by the relay's periodic sweep (`relay.cardSweepMs`) and its
 * card closed as failed in the simulator. The card and its record are made with the real card
 * client and the real CardWatch, the way a dying turn leaves them.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CardApi, outTrackIdFor } from '../../lib/dingtalk/cards.js';
import { memoryLogger } from '../../lib/log.js';
import { runRelay } from '../../lib/relay/run.js';
import { startSimulator } from '../../lib/simulator/index.js';
import { keys } from '../../lib/state/keys.js';
import { abandonedCardRecord } from '../support/card-record.js';
import { APP, cleanups, FAST_STREAM, relayConfig, runCleanups } from './support.js';

afterEach(runCleanups);

describe('the relay card watchdog', () => {
  it('closes a card nobody else will, on its own schedule', async () => {
    const sim = await startSimulator({ apps: [APP] });
    cleanups.push(() => sim.close());
    const running = await runRelay(
      relayConfig(sim, { DINGTALK_REPLY_MODE: 'card', RELAY_CARD_SWEEP_MS: '100' }),
      { logger: memoryLogger(), healthHost: '127.0.0.1', stream: FAST_STREAM },
    );
    cleanups.push(() => running.stop(0));
    const rt = running.runtime!;
    const account = rt.config.accounts[0]!;
    sim.injectMessage({ conversationType: '1', sender: { staffId: 'manager807' }, text: 'x' });
    const outTrackId = outTrackIdFor(account.accountId, 'msgOrphan');
    await new CardApi(rt.apiFor(account)).create(
      outTrackId,
      account.card.templateId,
      { type: 'dm', staffId: 'manager807' },
      { flowStatus: '2', msgContent: 'so far', showStop: 'true' },
    );
    await abandonedCardRecord(rt.store, {
      accountId: account.accountId,
      outTrackId,
      msgId: 'msgOrphan',
      conversationType: 'dm',
      conversationId: 'cid',
      watchdogAt: Date.now() - 1,
    });
    const card = await sim.waitFor(
      () => sim.cards().find((c) => c.outTrackId === outTrackId && c.state !== 'open'),
      10_000,
      'the watchdog to close the card',
    );
    expect(card.state).toBe('failed');
    expect(card.params.msgContent).toBe('so far');
    const key = keys.openCard(account.accountId, outTrackId);
    // The record goes right after the closing call.
    await vi.waitFor(async () => expect(await rt.store.get(key.pk, key.sk)).toBeUndefined(), {
      timeout: 10_000,
      interval: 20,
    });
  });
});
