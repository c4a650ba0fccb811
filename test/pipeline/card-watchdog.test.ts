/**
 * The card watchdog (issue 13) and the thinking state: cards nobody will close (the process
 * died, no retry comes) are closed by the relay's sweep; a slow-to-start agent gets a card in
 * the thinking state first. The cards are the simulator's, created with the real card client
 * (what a dying turn leaves behind: a card and its open-card record, written by the real
 * CardWatch), the store dynalite.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CardApi, type CardSpace, outTrackIdFor } from '../../lib/dingtalk/cards.js';
import { memoryLogger } from '../../lib/log.js';
import { CardWatch } from '../../lib/pipeline/card-watch.js';
import { CardWatchdog, WATCHDOG_NOTE } from '../../lib/pipeline/card-watchdog.js';
import { claimMessage } from '../../lib/pipeline/dedup.js';
import { storeWithDeadline } from '../../lib/state/deadline.js';
import { keys } from '../../lib/state/keys.js';
import { abandonedCardRecord } from '../support/card-record.js';
import { DM_SENDER, dm, type Rig, startRig } from './rig.js';

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

const SPACE: CardSpace = { type: 'dm', staffId: DM_SENDER.staffId };

async function watchdogRig() {
  rig = await startRig({
    channel: { replyMode: 'card', card: { minIntervalMs: 100, thinkingDelayMs: 0 } },
  });
  // The sim knows the DM user once a message from them was injected.
  rig.ch.inject(dm('hello'));
  return rig;
}

/** What a turn that died mid-stream leaves: an open card showing `shown`, and its record. */
async function orphan(r: Rig, msgId: string, shown: string, watchdogAt: number) {
  const account = r.ch.rt.config.accounts[0]!;
  const outTrackId = outTrackIdFor(account.accountId, msgId);
  const cards = new CardApi(r.ch.rt.apiFor(account));
  await cards.create(outTrackId, account.card.templateId, SPACE, {
    flowStatus: '2',
    msgContent: shown,
    showStop: 'true',
  });
  // The process "dies": the record stays.
  await abandonedCardRecord(r.ch.store, {
    accountId: account.accountId,
    outTrackId,
    msgId,
    conversationType: 'dm',
    conversationId: 'cid-dm',
    watchdogAt,
  });
  return outTrackId;
}

function watchdog(r: Rig, logger = memoryLogger()) {
  return new CardWatchdog({
    store: r.ch.store,
    accounts: r.ch.rt.config.accounts,
    apiFor: (a) => r.ch.rt.apiFor(a),
    now: Date.now,
    logger,
    sweepMs: 0,
  });
}

const cardOf = (r: Rig, outTrackId: string) =>
  r.ch.sim.cards().find((c) => c.outTrackId === outTrackId)!;

describe('the card watchdog', () => {
  it('closes an orphaned card past its bound as failed, keeping the text it showed', async () => {
    const r = await watchdogRig();
    const id = await orphan(r, 'msgDied1', 'half an ans', Date.now() - 1);
    const logger = memoryLogger();
    expect(await watchdog(r, logger).sweep()).toEqual({ open: 1, closed: 1, failed: 0 });
    const card = cardOf(r, id);
    expect(card.state).toBe('failed');
    expect(card.params.msgContent).toBe('half an ans');
    expect(card.params.showStop).toBe('false');
    const key = keys.openCard('default', id);
    expect(await r.ch.store.get(key.pk, key.sk)).toBeUndefined();
    expect(logger.lines.find((l) => l.event === 'card.watchdog_closed')).toMatchObject({
      msgId: 'msgDied1',
      withReply: false,
    });
    // Nothing left for the next sweep.
    expect(await watchdog(r).sweep()).toEqual({ open: 0, closed: 0, failed: 0 });
  });

  it('finishes the content with the stored reply and a note when the agent had answered', async () => {
    const r = await watchdogRig();
    const now = Date.now();
    const claimed = await claimMessage(r.ch.store, 'default', 'msgDied2', now, now + 1_000);
    if (!claimed.claimed) throw new Error('expected a fresh claim');
    await claimed.claim.storeReply('the whole answer');
    const id = await orphan(r, 'msgDied2', 'the wh', Date.now() - 1);
    await watchdog(r).sweep();
    const card = cardOf(r, id);
    expect(card.state).toBe('failed');
    expect(card.params.msgContent).toBe(`the whole answer\n\n---\n${WATCHDOG_NOTE}`);
    const final = card.updates.find((u) => u.kind === 'streaming' && u.isFinalize);
    expect(final).toMatchObject({ isError: true });
  });

  it('leaves a card within its bound alone, and forgets a card DingTalk never created', async () => {
    const r = await watchdogRig();
    const live = await orphan(r, 'msgLive', 'streaming…', Date.now() + 60_000);
    // A record whose card does not exist (the create never reached DingTalk).
    await abandonedCardRecord(r.ch.store, {
      accountId: 'default',
      outTrackId: 'card_never_created',
      msgId: 'msgGhost',
      conversationType: 'dm',
      conversationId: 'cid',
      watchdogAt: Date.now() - 1,
    });
    expect(await watchdog(r).sweep()).toEqual({ open: 2, closed: 1, failed: 0 });
    expect(cardOf(r, live).state).toBe('open');
    const gone = keys.openCard('default', 'card_never_created');
    expect(await r.ch.store.get(gone.pk, gone.sk)).toBeUndefined();
    const kept = keys.openCard('default', live);
    expect(await r.ch.store.get(kept.pk, kept.sk)).toBeDefined();
  });

  it('the pipeline writes the record while the card streams and deletes it on close', async () => {
    const r = await watchdogRig();
    r.ai.respondWith({ stream: ['one ', 'two ', 'three ', 'four ', 'five ', 'six'], gapMs: 150 });
    const handling = r.ch.handle(r.ch.inject(dm('count')).event);
    const q = keys.openCards('default');
    const records = await vi.waitFor(
      async () => {
        const items = await r.ch.store.query(q.pk, { skPrefix: q.skPrefix });
        if (items.length === 0) throw new Error('no open-card record yet');
        return items;
      },
      { timeout: 10_000, interval: 20 },
    );
    expect(records[0]).toMatchObject({ stop: 'none', conversationType: 'dm' });
    expect(records[0]!.watchdogAt).toBeGreaterThan(Date.now());
    expect(await handling).toEqual({ status: 'handled' });
    expect(await r.ch.store.query(q.pk, { skPrefix: q.skPrefix })).toEqual([]);
    expect(r.ch.sim.cards()[0]!.state).toBe('finished');
  });
});

describe('the store cost of the card record', () => {
  it('one put and one delete per card reply, plus one read per stopPollMs while it streams', async () => {
    const ops: string[] = [];
    rig = await startRig({
      respond: { stream: ['a ', 'b ', 'c ', 'd ', 'e ', 'f'], gapMs: 150 },
      channel: {
        replyMode: 'card',
        card: { minIntervalMs: 100, thinkingDelayMs: 0, stopPollMs: 200 },
      },
    });
    const r = rig;
    const store = r.ch.rt.store;
    // Count what reaches the store for the card partition (the pipeline's own store object).
    for (const op of ['get', 'put', 'update', 'delete', 'query'] as const) {
      const original = store[op].bind(store) as (...args: unknown[]) => Promise<unknown>;
      (store as unknown as Record<string, unknown>)[op] = (...args: unknown[]) => {
        const first = args[0];
        const pk = typeof first === 'string' ? first : (first as { pk?: string } | undefined)?.pk;
        if (pk?.startsWith('cards#')) ops.push(op);
        return original(...args);
      };
    }
    expect(await r.ch.handle(r.ch.inject(dm('letters')).event)).toEqual({ status: 'handled' });
    expect(ops.filter((o) => o === 'put')).toHaveLength(1);
    expect(ops.filter((o) => o === 'delete')).toHaveLength(1);
    expect(ops.filter((o) => o === 'update' || o === 'query')).toEqual([]);
    const reads = ops.filter((o) => o === 'get').length;
    expect(reads).toBeGreaterThan(0); // the reply streamed for several polls
    console.info(`card record store ops for a ~0.9 s streamed reply: ${JSON.stringify(ops)}`);
  });
});

describe('the thinking state', () => {
  it('a slow-to-start agent: a processing card first, then the content, then the close', async () => {
    rig = await startRig({
      respond: { stream: ['Here ', 'it ', 'is.'], gapMs: 150, delayMs: 700 },
      channel: { replyMode: 'card', card: { minIntervalMs: 100, thinkingDelayMs: 100 } },
    });
    const r = rig;
    expect(await r.ch.handle(r.ch.inject(dm('think hard')).event)).toEqual({ status: 'handled' });
    const [card] = r.ch.sim.cards();
    // Created in the thinking state, with nothing to show yet.
    expect(card!.createParams).toMatchObject({ flowStatus: '1', msgContent: '', showStop: 'true' });
    const steps = card!.updates.map((u) =>
      u.kind === 'streaming'
        ? `${u.isFinalize ? 'final' : 'content'}:${u.content}`
        : `status:${u.params?.flowStatus}`,
    );
    // Content arrives after the create, the close comes last.
    expect(steps[0]).toMatch(/^content:Here /);
    expect(steps.at(-1)).toBe('status:3');
    expect(steps.filter((s) => s.startsWith('final')).at(-1)).toBe('final:Here it is.');
    expect(steps.indexOf('final:Here it is.')).toBeLessThan(steps.length - 1);
    const times = card!.updates.map((u) => u.at);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(card!.createdAt).toBeLessThanOrEqual(times[0]!);
    expect(card!.state).toBe('finished');
  });
});

describe('the stop poll past the message deadline', () => {
  it('stops polling once its store view is past the deadline (no read after that)', async () => {
    rig = await startRig();
    const reads: number[] = [];
    const controller = new AbortController();
    // The message's store view (handler.ts `records`) whose deadline fires during the turn.
    const view = storeWithDeadline(rig.ch.store, controller.signal);
    const get = view.get;
    view.get = (...args) => {
      reads.push(Date.now());
      return get(...args);
    };
    const logger = memoryLogger();
    const watch = new CardWatch({
      scope: {},
      store: view,
      card: {
        accountId: 'default',
        outTrackId: 'card_deadline',
        msgId: 'msg-deadline',
        conversationType: 'dm',
        conversationId: 'cid-dm',
        watchdogAt: Date.now() + 60_000,
      },
      pollMs: 20,
      now: Date.now,
      logger,
      onStop: () => undefined,
    });
    await watch.open();
    await vi.waitFor(() => expect(reads.length).toBeGreaterThan(1), { timeout: 5_000 });
    controller.abort();
    await vi.waitFor(
      () => expect(logger.lines.some((l) => l.event === 'card.stop_poll_failed')).toBe(true),
      { timeout: 5_000 },
    );
    const after = reads.length;
    await new Promise((resolve) => setTimeout(resolve, 200)); // ten poll intervals
    expect(reads.length).toBe(after);
    expect(logger.lines.filter((l) => l.event === 'card.stop_poll_failed')).toHaveLength(1);
    watch.release();
  });
});
