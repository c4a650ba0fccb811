/**
 * The simulator's AI card routes (dingtalk-protocol.md §6.4, §8.1) driven through the project's
 * card client (lib/dingtalk/cards.ts) and raw HTTP: validation, the updates in order with their
 * finalize flag, the flowStatus that closes a card, and the `GET /__sim/cards` listing.
 * (DingTalk's own card SDK, @alicloud/dingtalk, is not a dependency; the §6.4 shapes are
 * checked field by field instead.)
 */
import { afterEach, describe, expect, it } from 'vitest';
import { clearTokenCache, DingTalkApi } from '../../lib/dingtalk/api.js';
import { CardApi, FlowStatus } from '../../lib/dingtalk/cards.js';
import { DingTalkApiError } from '../../lib/errors.js';
import { APP, call, closeAll, simulator } from './helpers.js';

afterEach(closeAll);

async function rig() {
  clearTokenCache();
  const sim = await simulator();
  const { conversationId } = sim.injectMessage({
    conversationType: '2',
    conversationTitle: 'Cards',
    sender: { staffId: 'manager807' },
    text: 'hi',
    atBot: true,
  });
  const api = new DingTalkApi({ ...APP, apiBase: sim.apiBase, maxAttempts: 1 });
  return { sim, cards: new CardApi(api, { maxAttempts: 1 }), conversationId };
}

const params = (content = '') => ({ flowStatus: FlowStatus.inputting, msgContent: content });

describe('simulator AI cards', () => {
  it('records every update in order and closes the card on flowStatus 3', async () => {
    const { sim, cards, conversationId } = await rig();
    await cards.create('card_a', 'tpl.schema', { type: 'group', conversationId }, params('He'));
    await cards.stream('card_a', 'Hello', { finalize: false });
    expect(sim.cards()[0]!.state).toBe('open');
    await cards.stream('card_a', 'Hello world', { finalize: true });
    // A finalized stream alone leaves the status spinning: the card is still open.
    expect(sim.cards()[0]!.state).toBe('open');
    await cards.update('card_a', { flowStatus: FlowStatus.finished });
    const listed = await call(`${sim.url}/__sim/cards`);
    expect(listed.body).toHaveLength(1);
    const card = listed.body[0];
    expect(card).toMatchObject({
      outTrackId: 'card_a',
      account: APP.accountId,
      templateId: 'tpl.schema',
      space: { type: 'IM_GROUP', id: conversationId },
      state: 'finished',
      params: { msgContent: 'Hello world', flowStatus: '3' },
    });
    expect(
      card.updates.map((u: { kind: string; content?: string; isFinalize?: boolean }) => [
        u.kind,
        u.content,
        u.isFinalize,
      ]),
    ).toEqual([
      ['streaming', 'Hello', false],
      ['streaming', 'Hello world', true],
      ['data', undefined, undefined],
    ]);
  });

  it('a DM card goes to a known staffId; flowStatus 5 is a failed card', async () => {
    const { sim, cards } = await rig();
    await cards.create('card_dm', 't', { type: 'dm', staffId: 'manager807' }, params());
    await cards.update('card_dm', { flowStatus: FlowStatus.failed });
    expect(sim.cards()[0]).toMatchObject({
      space: { type: 'IM_ROBOT', id: 'manager807' },
      state: 'failed',
    });
    await expect(
      cards.create('card_x', 't', { type: 'dm', staffId: 'nobody' }, params()),
    ).rejects.toMatchObject({ code: 'invalidParameter.openSpaceId.invalid' });
  });

  it('refuses a group the robot is not in, a repeated outTrackId, unknown keys and cards', async () => {
    const { cards, conversationId } = await rig();
    const refused = (p: Promise<unknown>) =>
      p.then(
        () => 'accepted',
        (e: unknown) => (e instanceof DingTalkApiError ? e.code : String(e)),
      );
    expect(
      await refused(
        cards.create('c1', 't', { type: 'group', conversationId: 'cidNope' }, params()),
      ),
    ).toBe('invalidParameter.openSpaceId.invalid');
    await cards.create('c2', 't', { type: 'group', conversationId }, params());
    expect(
      await refused(cards.create('c2', 't', { type: 'group', conversationId }, params())),
    ).toBe('invalidParameter.outTrackId.duplicate');
    expect(await refused(cards.stream('c9', 'x', { finalize: false }))).toBe(
      'invalidParameter.outTrackId.notExist',
    );
    expect(await refused(cards.update('c2', { flowStatus: 3 as unknown as string }))).toBe(
      'invalidParameter.cardParamMap.invalid',
    );
  });

  it('GET /__sim/cards/<outTrackId> answers one card; an unknown one is a 404 with a JSON error', async () => {
    const { sim, cards, conversationId } = await rig();
    await cards.create('card/one', 't', { type: 'group', conversationId }, params('a'));
    await cards.create('card_two', 't', { type: 'group', conversationId }, params('b'));
    await cards.stream('card_two', 'bc', { finalize: true });
    const one = await call(`${sim.url}/__sim/cards/${encodeURIComponent('card/one')}`);
    expect(one.status).toBe(200);
    expect(one.body).toEqual((await call(`${sim.url}/__sim/cards`)).body[0]);
    const two = await call(`${sim.url}/__sim/cards/card_two`);
    expect(two.body).toMatchObject({ outTrackId: 'card_two', params: { msgContent: 'bc' } });
    expect(two.body.updates).toEqual([
      expect.objectContaining({ content: 'bc', isFinalize: true }),
    ]);
    const unknown = await call(`${sim.url}/__sim/cards/card_nope`);
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({
      code: 'notFound',
      message: 'no card with outTrackId "card_nope"',
    });
    const wrongMethod = await call(`${sim.url}/__sim/cards/card_two`, { body: {} });
    expect(wrongMethod.status).toBe(405);
    // The in-process method hands out a copy: changing it does not change the card.
    sim.card('card_two')!.params.msgContent = 'changed';
    expect(sim.card('card_two')!.params.msgContent).toBe('bc');
  });

  it('injected card faults and the QPS bucket answer 403 QpsLimit', async () => {
    const { sim, cards, conversationId } = await rig();
    sim.addFaults({ openapi: { path: '/v1.0/card/streaming', count: 1 } });
    await cards.create('c3', 't', { type: 'group', conversationId }, params());
    await expect(cards.stream('c3', 'x', { finalize: false })).rejects.toMatchObject({
      code: 'Forbidden.AccessDenied.QpsLimitForAppkeyAndApi',
    });
    await cards.stream('c3', 'x', { finalize: false });
    expect(sim.cards()[0]!.updates).toHaveLength(1);
  });
});
