/**
 * Card mode end to end (issue 13): the real handler, the real openai adapter streaming from the
 * fake OpenAI server (server-sent events), and the simulator's AI card routes, read back through
 * `sim.cards()` (`GET /__sim/cards`). Every paid card call is counted through `onApiCall`.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { userFacingAgentError } from '../../lib/agent/index.js';
import { outTrackIdFor } from '../../lib/dingtalk/cards.js';
import type { SimCard } from '../../lib/simulator/index.js';
import { dm, groupMessage, type Rig, type RigOptions, startRig } from './rig.js';

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

const BUDGET = 5;
const CARD = { maxCalls: BUDGET, minIntervalMs: 100, thinkingDelayMs: 0 };

async function cardRig(options: RigOptions = {}, card: Record<string, unknown> = {}) {
  rig = await startRig({
    ...options,
    channel: { replyMode: 'card', card: { ...CARD, ...card }, ...options.channel },
  });
  return rig;
}

function cardCalls(r: Rig) {
  return r.paidCalls().filter((c) => c.endpoint.startsWith('card/'));
}

function onlyCard(r: Rig): SimCard {
  const cards = r.ch.sim.cards();
  expect(cards).toHaveLength(1);
  return cards[0]!;
}

const words = (n: number) => Array.from({ length: n }, (_, i) => `w${i} `);

describe('card mode: a streamed reply within the budget', () => {
  it('a slow long answer: updates coalesced in time, the full text in the last call', async () => {
    const r = await cardRig({ respond: { stream: words(30), gapMs: 25 } });
    const { event, msgId } = r.ch.inject(dm('tell me a story'));
    expect(await r.ch.handle(event)).toEqual({ status: 'handled' });
    const card = onlyCard(r);
    expect(card.outTrackId).toBe(outTrackIdFor('default', msgId));
    expect(card.space).toEqual({ type: 'IM_ROBOT', id: 'manager807' });
    expect(card.state).toBe('finished');
    expect(card.params.msgContent).toBe(words(30).join(''));
    expect(card.params.flowStatus).toBe('3');
    // The stream was visible before the end: at least one update with partial content.
    const partial = card.updates.filter(
      (u) => u.kind === 'streaming' && !u.isFinalize && u.content !== card.params.msgContent,
    );
    expect(partial.length).toBeGreaterThan(0);
    expect(cardCalls(r).length).toBeLessThanOrEqual(BUDGET);
    expect(r.sent()).toEqual([]); // no markdown besides the card
  });

  it('a fast long answer (300 pieces at once) still costs at most the budget', async () => {
    const r = await cardRig({ respond: { stream: words(300), gapMs: 0 } });
    const { event } = r.ch.inject(groupMessage('@bot explain'));
    await r.ch.handle(event);
    const card = onlyCard(r);
    expect(card.space.type).toBe('IM_GROUP');
    expect(card.state).toBe('finished');
    expect(card.params.msgContent).toBe(words(300).join(''));
    expect(cardCalls(r).length).toBeLessThanOrEqual(BUDGET);
  });

  it('a tighter budget of 3 is held too: create, final content, status', async () => {
    const r = await cardRig({ respond: { stream: words(40), gapMs: 10 } }, { maxCalls: 3 });
    await r.ch.handle(r.ch.inject(dm('hi')).event);
    const card = onlyCard(r);
    expect(card.state).toBe('finished');
    expect(card.params.msgContent).toBe(words(40).join(''));
    expect(cardCalls(r).length).toBeLessThanOrEqual(3);
  });

  it('a 403 QPS answer on the final calls backs off and the final content still lands', async () => {
    const r = await cardRig({ respond: { stream: words(5), gapMs: 0 } });
    r.ch.sim.addFaults({ openapi: { path: '/v1.0/card/instances', count: 2 } });
    await r.ch.handle(r.ch.inject(dm('hi')).event);
    const card = onlyCard(r);
    expect(card.state).toBe('finished');
    expect(card.params.msgContent).toBe(words(5).join(''));
    expect(r.ch.sim.stats().qpsRejections).toBe(2);
  });
});

describe('card mode: every card closes', () => {
  it('the agent stream breaks half-way: failed card with the text so far and the note', async () => {
    const r = await cardRig({ respond: { stream: ['first part ', 'second part'], cut: true } });
    expect(await r.ch.handle(r.ch.inject(dm('hi')).event)).toEqual({ status: 'handled' });
    const card = onlyCard(r);
    expect(card.state).toBe('failed');
    expect(card.params.flowStatus).toBe('5');
    expect(card.params.msgContent).toContain('first part second part');
    expect(card.params.msgContent).toContain(userFacingAgentError(new Error('x')));
    expect(r.sent()).toEqual([]);
  });

  it('the agent misses the deadline: failed card with the timeout note', async () => {
    const r = await cardRig(
      {
        respond: { stream: ['early text ', 'late'], gapMs: 3_000 },
        runtime: { replyReserveMs: 600 },
      },
      {},
    );
    await r.ch.handle(r.ch.inject(dm('slow')).event, 1_500);
    const card = onlyCard(r);
    expect(card.state).toBe('failed');
    expect(card.params.msgContent).toContain('early text');
    expect(card.params.msgContent).toContain('did not answer in time');
  });

  it('an HTTP error before any text: the card is created failed, in one call', async () => {
    const r = await cardRig({ respond: { status: 500 } });
    await r.ch.handle(r.ch.inject(dm('hi')).event);
    const card = onlyCard(r);
    expect(card.state).toBe('failed');
    expect(card.params.msgContent).toBe(userFacingAgentError(new Error('x')));
    expect(cardCalls(r)).toHaveLength(1);
  });

  it('a card that cannot be closed fails the attempt; the retry closes the same card', async () => {
    const r = await cardRig({ respond: { stream: words(4), gapMs: 0 } });
    // The closing status call answers 500 once: only a QPS refusal is retried in place.
    r.ch.sim.addFaults({
      openapi: { path: '/v1.0/card/instances', status: 500, code: 'ServiceUnavailable', count: 1 },
    });
    const { event } = r.ch.inject(dm('hi'));
    await expect(r.ch.handle(event)).rejects.toMatchObject({ code: 'card_close_failed' });
    expect(onlyCard(r).state).toBe('open');
    expect(await r.ch.handle(event)).toEqual({ status: 'handled', reason: 'resumed' });
    const card = onlyCard(r); // the same outTrackId, no second card
    expect(card.state).toBe('finished');
    expect(card.params.msgContent).toBe(words(4).join(''));
    expect(r.ai.requests).toHaveLength(1); // the agent was asked once
    expect(r.sent()).toEqual([]);
  });
});

describe('card mode: a resumed card whose create is refused', () => {
  it('the status call closes the card of the first attempt; no markdown copy', async () => {
    const r = await cardRig({ respond: { stream: words(4), gapMs: 0 } });
    r.ch.sim.addFaults({
      openapi: { path: '/v1.0/card/instances', status: 500, code: 'ServiceUnavailable', count: 1 },
    });
    const { event } = r.ch.inject(dm('hi'));
    await expect(r.ch.handle(event)).rejects.toMatchObject({ code: 'card_close_failed' });
    // The retry's create (the resume step closing the card) is refused outright, not "exists".
    r.ch.sim.addFaults({
      openapi: {
        path: '/v1.0/card/instances/createAndDeliver',
        status: 403,
        code: 'Forbidden.AccessDenied.QpsLimitForAppkeyAndApi',
      },
    });
    expect(await r.ch.handle(event)).toEqual({ status: 'handled', reason: 'resumed' });
    const card = onlyCard(r);
    expect(card.state).toBe('finished');
    expect(card.params.msgContent).toBe(words(4).join(''));
    expect(r.sent()).toEqual([]);
  });
});

describe('card mode: falls back, never fails', () => {
  it('card creation refused: the reply goes out as markdown exactly once', async () => {
    const r = await cardRig({ respond: { stream: words(10), gapMs: 0 } });
    r.ch.sim.addFaults({
      openapi: {
        path: '/v1.0/card/instances/createAndDeliver',
        status: 403,
        code: 'Forbidden.AccessDenied.AccessTokenPermissionDenied',
        count: 1,
      },
    });
    await r.ch.handle(r.ch.inject(dm('hi')).event);
    expect(r.ch.sim.cards()).toEqual([]);
    expect(r.sent()).toEqual([words(10).join('').trim()]);
  });

  it('a non-string cardParamMap value is refused by the simulator', async () => {
    const r = await cardRig();
    const token = await r.ch.rt.apiFor(r.ch.rt.config.accounts[0]!).accessToken();
    const answer = await fetch(`${r.ch.sim.apiBase}/v1.0/card/instances/createAndDeliver`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-acs-dingtalk-access-token': token },
      body: JSON.stringify({
        cardTemplateId: 't.schema',
        outTrackId: 'card_x',
        cardData: { cardParamMap: { flowStatus: 2 } },
        openSpaceId: 'dtv1.card//IM_ROBOT.manager807',
        imRobotOpenDeliverModel: { spaceType: 'IM_ROBOT' },
      }),
    });
    expect(answer.status).toBe(400);
    expect(await answer.json()).toMatchObject({ code: 'invalidParameter.cardParamMap.invalid' });
    const unknown = await fetch(`${r.ch.sim.apiBase}/v1.0/card/streaming`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', 'x-acs-dingtalk-access-token': token },
      body: JSON.stringify({ outTrackId: 'card_nope', guid: 'g', key: 'msgContent', content: '' }),
    });
    expect(await unknown.json()).toMatchObject({ code: 'invalidParameter.outTrackId.notExist' });
    const listed = await fetch(`${r.ch.sim.url}/__sim/cards`);
    expect(await listed.json()).toEqual([]);
  });
});

describe('card mode: an answer that means "send nothing" (§7)', () => {
  it('NO_REPLY streamed piece by piece: no card, no message', async () => {
    const r = await cardRig({ respond: { stream: ['NO_', 'REP', 'LY'], gapMs: 20 } });
    expect(await r.ch.handle(r.ch.inject(groupMessage('@bot hm')).event)).toEqual({
      status: 'handled',
    });
    expect(r.ch.sim.cards()).toEqual([]);
    expect(cardCalls(r)).toEqual([]);
    expect(r.sent()).toEqual([]);
  });

  it('a thinking card already shown is closed with a short note, never left spinning', async () => {
    const r = await cardRig(
      { respond: { stream: ['NO_REPLY'], delayMs: 300 } },
      { thinkingDelayMs: 50 },
    );
    await r.ch.handle(r.ch.inject(dm('anything?')).event);
    const card = onlyCard(r);
    expect(card.state).toBe('finished');
    expect(card.params.msgContent).toBe('(No reply.)');
    expect(r.sent()).toEqual([]);
  });
});
