/**
 * The simulator's card button click (`POST /__sim/cards/<outTrackId>/click`): it pushes the
 * card callback frame of dingtalk-protocol.md §2.4 on `/v1.0/card/instances/callback`, received
 * here by the pinned SDK itself (`dingtalk-stream@2.1.5`, gateway swapped as in §1.4) through
 * its own `registerCallbackListener`; unacked, it comes again with the same messageId (§2.5).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { clearTokenCache, DingTalkApi } from '../../lib/dingtalk/api.js';
import { CardApi, FlowStatus } from '../../lib/dingtalk/cards.js';
import { type DownstreamFrame, TOPIC_CARD } from '../../lib/dingtalk/payload.js';
import { StockDWClient } from '../support/stock-client.js';
import { APP, call, closeAll, eventually, onCleanup, simulator } from './helpers.js';

afterEach(closeAll);

async function cardSim(options: Parameters<typeof simulator>[0] = {}) {
  clearTokenCache();
  const sim = await simulator(options);
  sim.injectMessage({ conversationType: '1', sender: { staffId: 'manager807' }, text: 'hi' });
  const api = new DingTalkApi({ ...APP, apiBase: sim.apiBase, maxAttempts: 1 });
  await new CardApi(api).create(
    'card_click',
    'tpl.schema',
    { type: 'dm', staffId: 'manager807' },
    { flowStatus: FlowStatus.inputting, msgContent: 'Hel', showStop: 'true' },
  );
  return sim;
}

/** The stock SDK subscribed to the card topic (its own subscriptions array: B6). */
async function sdkOn(sim: Awaited<ReturnType<typeof simulator>>, ackFrom: number) {
  const client = new StockDWClient(
    {
      clientId: APP.clientId,
      clientSecret: APP.clientSecret,
      keepAlive: false,
      autoReconnect: false,
      subscriptions: [{ type: 'EVENT', topic: '*' }],
    },
    sim.gatewayUrl,
  );
  const frames: DownstreamFrame[] = [];
  client.registerCallbackListener(TOPIC_CARD, (frame) => {
    frames.push(frame as unknown as DownstreamFrame);
    if (frames.length >= ackFrom) client.socketCallBackResponse(frame.headers.messageId, null);
  });
  await client.connect();
  onCleanup(() => client.disconnect());
  return frames;
}

describe('simulator card clicks', () => {
  it('pushes the §2.4 callback frame to the SDK, redelivered with the same messageId', async () => {
    const sim = await cardSim({ callbackAckTimeoutMs: 200, maxRedeliveries: 1 });
    const frames = await sdkOn(sim, 2); // the first delivery goes unacked
    const res = await call(`${sim.url}/__sim/cards/card_click/click`, {
      body: { staffId: 'manager807', action: 'stop' },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ outTrackId: 'card_click', state: 'delivered' });
    await sim.waitForAck(res.body.messageId, 3_000);
    expect(frames).toHaveLength(2);
    const [first, second] = frames;
    expect(first!.type).toBe('CALLBACK');
    expect(first!.headers).toMatchObject({ topic: TOPIC_CARD, messageId: res.body.messageId });
    expect(second!.headers.messageId).toBe(first!.headers.messageId);
    expect(second!.data).toBe(first!.data);
    const data = JSON.parse(first!.data) as Record<string, unknown>;
    expect(data).toMatchObject({
      type: 'actionCallback',
      userId: 'manager807',
      userIdType: 1,
      outTrackId: 'card_click',
      spaceType: 'IM_ROBOT',
      spaceId: 'manager807',
      extension: '{}',
    });
    expect(typeof data.corpId).toBe('string');
    expect(typeof data.content).toBe('string'); // a JSON string, as DingTalk sends it
    expect(JSON.parse(data.content as string)).toEqual({
      cardPrivateData: { actionIds: ['stop'], params: {} },
    });
    const listed = await call(`${sim.url}/__sim/cards`);
    expect(listed.body[0].callbacks).toEqual([
      {
        messageId: res.body.messageId,
        userId: 'manager807',
        action: 'stop',
        at: expect.any(Number),
      },
    ]);
    const record = await eventually(() =>
      sim.inbound().find((r) => r.messageId === res.body.messageId && r.state === 'acked'),
    );
    expect(record.deliveries.map((d) => d.redelivery)).toEqual([false, true]);
  });

  it('refuses a bad click (400) and an unknown card (404); GET is not a click', async () => {
    const sim = await cardSim();
    const noUser = await call(`${sim.url}/__sim/cards/card_click/click`, {
      body: { action: 'stop' },
    });
    expect(noUser.status).toBe(400);
    expect(noUser.body.message).toContain('userId');
    const noAction = await call(`${sim.url}/__sim/cards/card_click/click`, {
      body: { userId: 'u' },
    });
    expect(noAction.status).toBe(400);
    expect(noAction.body.message).toContain('action');
    const unknown = await call(`${sim.url}/__sim/cards/card_nope/click`, {
      body: { userId: 'u', action: 'stop' },
    });
    expect(unknown.status).toBe(404);
    const get = await call(`${sim.url}/__sim/cards/card_click/click`);
    expect(get.status).toBe(405);
    expect(sim.inbound().filter((r) => r.topic === TOPIC_CARD)).toEqual([]);
  });
});
