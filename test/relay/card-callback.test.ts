/**
 * Card callbacks through the relay (issue 13): the real stream client on the pinned SDK
 * subscribes to `/v1.0/card/instances/callback` on each connection (B6), a click in the
 * simulator pushes the §2.4 frame, the relay hands it off like a message and ACKs it once
 * accepted; the function stops the agent. Redelivery uses the simulator's real rule (same
 * messageId after `callbackAckTimeoutMs` without an ACK). The agent is the real openai adapter
 * on the fake OpenAI server; the relay's own watchdog is checked to be running.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createAgent } from '../../lib/agent/index.js';
import { TOPIC_CARD, TOPIC_ROBOT } from '../../lib/dingtalk/payload.js';
import type { HandleOutcome, MessageEvent } from '../../lib/forward/port.js';
import { memoryLogger } from '../../lib/log.js';
import { STOPPED_NOTE } from '../../lib/pipeline/card-turn.js';
import { createMessageHandler } from '../../lib/pipeline/index.js';
import { runRelay } from '../../lib/relay/run.js';
import { createRuntime } from '../../lib/runtime/index.js';
import { type SimCard, type Simulator, startSimulator } from '../../lib/simulator/index.js';
import { MemoryStateStore } from '../../lib/state/memory.js';
import { startFakeOpenAi } from '../support/fake-openai.js';
import {
  APP,
  cleanups,
  countersOf,
  FAST_STREAM,
  relayConfig,
  relayOn,
  runCleanups,
  ScriptedForwarder,
  until,
} from './support.js';

afterEach(runCleanups);

const SENDER = { staffId: 'manager807', nick: 'Zhang San' };
const words = (n: number) => Array.from({ length: n }, (_, i) => `w${i} `);
const CARD_ENV = {
  DINGTALK_REPLY_MODE: 'card',
  DINGTALK_CARD_MIN_INTERVAL_MS: '100',
  DINGTALK_CARD_THINKING_DELAY_MS: '0',
};

async function slowAgentServer() {
  const ai = await startFakeOpenAi({ respond: { stream: words(400), gapMs: 25 } });
  cleanups.push(() => ai.close());
  return ai;
}

function streamingCard(sim: Simulator): Promise<SimCard> {
  return sim.waitFor(
    () => sim.cards().find((c) => c.state === 'open' && (c.params.msgContent ?? '') !== ''),
    10_000,
    'a card showing streamed text',
  );
}

describe('card callbacks through the relay', () => {
  it('subscribes to the card topic, ACKs the click and stops the agent', async () => {
    const sim = await startSimulator({ apps: [APP] });
    cleanups.push(() => sim.close());
    const ai = await slowAgentServer();
    const running = await runRelay(relayConfig(sim, { ...CARD_ENV, RELAY_CARD_SWEEP_MS: '500' }), {
      logger: memoryLogger(),
      runtime: { agent: createAgent({ kind: 'openai', baseUrl: ai.baseUrl, model: 'm' }) },
      healthHost: '127.0.0.1',
      stream: FAST_STREAM,
    });
    cleanups.push(() => running.stop(0));
    expect(running.watchdog).toBeDefined();
    const conn = await sim.waitForConnection();
    expect(conn.subscriptions).toContainEqual({ type: 'CALLBACK', topic: TOPIC_CARD });
    expect(conn.subscriptions).toContainEqual({ type: 'CALLBACK', topic: TOPIC_ROBOT });

    const message = sim.injectMessage({ conversationType: '1', sender: SENDER, text: 'essay' });
    const open = await streamingCard(sim);
    const clicked = sim.clickCard(open.outTrackId, { staffId: SENDER.staffId, action: 'stop' });
    const ack = await sim.waitForAck(clicked.messageId, 10_000);
    expect(ack.topic).toBe(TOPIC_CARD);
    expect(JSON.parse(ack.data as string)).toEqual({ response: null });

    const closed = await sim.waitFor(
      () => sim.cards().find((c) => c.state !== 'open'),
      10_000,
      'the card to close',
    );
    expect(closed.state).toBe('finished');
    expect(closed.params.msgContent!.endsWith(STOPPED_NOTE)).toBe(true);
    expect(closed.callbacks).toEqual([
      expect.objectContaining({ messageId: clicked.messageId, action: 'stop' }),
    ]);
    await sim.waitForAck(message.messageId, 10_000);
    expect(ai.lastRequest().aborted).toBe(true);
    expect(sim.outbox()).toEqual([]); // one reply: the card
    expect(countersOf(running.relay)).toMatchObject({ cardCallbacks: 1, received: 2, acked: 2 });
  });

  it('a callback redelivered after a lost ACK is applied once', async () => {
    const sim = await startSimulator({
      apps: [APP],
      callbackAckTimeoutMs: 300,
      maxRedeliveries: 1,
    });
    cleanups.push(() => sim.close());
    const ai = await slowAgentServer();
    const config = relayConfig(sim, CARD_ENV);
    const logger = memoryLogger();
    const rt = await createRuntime(config, {
      store: new MemoryStateStore(),
      logger,
      agent: createAgent({ kind: 'openai', baseUrl: ai.baseUrl, model: 'm' }),
    });
    cleanups.push(() => rt.store.close());
    const handle = createMessageHandler(rt);
    const outcomes: HandleOutcome[] = [];
    // The callback's first hand-off is handled but its acceptance is lost (as if the function
    // ran and the answer never came back): the relay does not ACK and DingTalk redelivers.
    const forwarder = new ScriptedForwarder(sim, async (event: MessageEvent, attempt) => {
      const outcome = await handle(event, { deadline: Date.now() + 20_000 });
      if (event.topic !== TOPIC_CARD) return { accepted: true };
      outcomes.push(outcome);
      return attempt === 1
        ? { accepted: false, reason: 'answer lost', retryable: false }
        : { accepted: true };
    });
    await relayOn(sim, forwarder).relay.start();
    sim.injectMessage({ conversationType: '1', sender: SENDER, text: 'essay' });
    const open = await streamingCard(sim);
    const clicked = sim.clickCard(open.outTrackId, { userId: SENDER.staffId, action: 'stop' });
    await sim.waitForAck(clicked.messageId, 10_000);
    const record = sim.inbound().find((r) => r.messageId === clicked.messageId)!;
    expect(record.deliveries.map((d) => d.redelivery)).toEqual([false, true]);
    expect(outcomes[0]).toEqual({ status: 'handled', reason: 'card_stopped' });
    expect([
      { status: 'duplicate', reason: 'card_stop_recorded' },
      { status: 'handled', reason: 'card_closed' },
    ]).toContainEqual(outcomes[1]);
    await until(() => sim.cards().find((c) => c.state !== 'open'), 'the card to close');
    expect(logger.lines.filter((l) => l.event === 'card.stop_requested')).toHaveLength(1);
    expect(sim.cards()[0]!.params.msgContent!.split(STOPPED_NOTE)).toHaveLength(2);
  });

  it('a card callback that is not JSON or has no outTrackId is ACKed and counted malformed', async () => {
    const sim = await startSimulator({ apps: [APP] });
    cleanups.push(() => sim.close());
    const forwarder = new ScriptedForwarder(sim);
    const { relay, logger } = relayOn(sim, forwarder);
    await relay.start();
    const conn = await sim.waitForConnection();
    // Raw CALLBACK frames on the card topic, as a broken sender would push them.
    const frame = (messageId: string, data: string) =>
      JSON.stringify({
        specVersion: '1.0',
        type: 'CALLBACK',
        headers: {
          appId: 'app',
          connectionId: conn.id,
          contentType: 'application/json',
          messageId,
          time: String(Date.now()),
          topic: TOPIC_CARD,
        },
        data,
      });
    sim.addFaults({
      malformedFrame: { connectionId: conn.id, text: frame('bad_1', 'not json {') },
    });
    sim.addFaults({
      malformedFrame: { connectionId: conn.id, text: frame('bad_2', '{"userId":"u1"}') },
    });
    await until(() => countersOf(relay).malformed === 2 || undefined, 'two malformed callbacks');
    await sim.waitFor(
      () =>
        sim.acks().filter((a) => a.messageId.startsWith('bad_')).length === 2 ? true : undefined,
      5_000,
      'both ACKed',
    );
    expect(countersOf(relay)).toMatchObject({ cardCallbacks: 2, malformed: 2, forwarded: 0 });
    expect(forwarder.calls).toEqual([]);
    expect(logger.lines.filter((l) => l.event === 'relay.malformed')[0]).toMatchObject({
      topic: TOPIC_CARD,
    });
  });

  it('a click with an unknown action is ACKed and dropped, the reply goes on', async () => {
    const sim = await startSimulator({ apps: [APP] });
    cleanups.push(() => sim.close());
    const ai = await startFakeOpenAi({ respond: { stream: words(40), gapMs: 25 } });
    cleanups.push(() => ai.close());
    const logger = memoryLogger();
    const running = await runRelay(relayConfig(sim, CARD_ENV), {
      logger,
      runtime: { agent: createAgent({ kind: 'openai', baseUrl: ai.baseUrl, model: 'm' }) },
      healthHost: '127.0.0.1',
      stream: FAST_STREAM,
    });
    cleanups.push(() => running.stop(0));
    await sim.waitForConnection();
    sim.injectMessage({ conversationType: '1', sender: SENDER, text: 'hi' });
    const open = await streamingCard(sim);
    const clicked = sim.clickCard(open.outTrackId, { staffId: SENDER.staffId, action: 'approve' });
    await sim.waitForAck(clicked.messageId, 10_000);
    const closed = await sim.waitFor(
      () => sim.cards().find((c) => c.state !== 'open'),
      10_000,
      'the card to close',
    );
    expect(closed.params.msgContent).toBe(words(40).join(''));
    expect(logger.lines.some((l) => l.event === 'card.callback_unknown_action')).toBe(true);
  });
});
