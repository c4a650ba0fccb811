import { afterEach, describe, expect, it } from 'vitest';
import { TOPIC_ROBOT } from '../../lib/dingtalk/payload.js';
import { APP, APP2, closeAll, eventually, RawStreamClient, settle, simulator } from './helpers.js';

afterEach(closeAll);

const dm = (text = 'hello') => ({
  conversationType: '1' as const,
  sender: { staffId: 'manager807', nick: '张三' },
  text,
});
const isRobot = (f: { headers: { topic: string } }) => f.headers.topic === TOPIC_ROBOT;

describe('downstream frames (§2.1)', () => {
  it('sends a CALLBACK with string headers, appId + connectionId and data as JSON text', async () => {
    const sim = await simulator();
    const client = await RawStreamClient.connect(sim);
    const injected = sim.injectMessage(dm());
    const frame = await client.waitForFrame(isRobot);
    const connectionId = sim.connections()[0]?.id;
    expect(frame.specVersion).toBe('1.0');
    expect(frame.type).toBe('CALLBACK');
    expect(Object.keys(frame.headers)).toEqual([
      'appId',
      'connectionId',
      'contentType',
      'messageId',
      'time',
      'topic',
    ]);
    for (const value of Object.values(frame.headers)) expect(typeof value).toBe('string');
    expect(frame.headers).toMatchObject({
      appId: sim.apps[0]?.appId,
      connectionId,
      contentType: 'application/json',
      messageId: injected.messageId,
      topic: TOPIC_ROBOT,
    });
    expect(frame.headers.time).toMatch(/^\d{13}$/);
    expect(frame.headers.messageId).toMatch(/^[0-9a-f]{8}_[0-9a-f]{3,4}_[0-9a-f]+_[0-9a-f]+$/);
    expect(typeof frame.data).toBe('string');
    expect(JSON.parse(frame.data)).toMatchObject({
      msgId: injected.msgId,
      text: { content: 'hello' },
    });
  });

  it('sends EVENT frames with the event headers, all strings, to EVENT * subscribers', async () => {
    const sim = await simulator();
    const client = await RawStreamClient.connect(sim);
    const injected = sim.injectEvent({ eventType: 'user_add_org', data: { userId: ['u1'] } });
    const frame = await client.waitForFrame((f) => f.type === 'EVENT');
    expect(frame.headers).toMatchObject({
      topic: '*',
      messageId: injected.messageId,
      eventType: 'user_add_org',
      eventId: injected.eventId,
      eventCorpId: expect.stringMatching(/^ding/),
      eventUnifiedAppId: sim.apps[0]?.appId,
    });
    for (const value of Object.values(frame.headers)) expect(typeof value).toBe('string');
    expect(JSON.parse(frame.data)).toEqual({ userId: ['u1'] });
  });

  it('pushes only subscribed topics and only to the app the message is for', async () => {
    const sim = await simulator();
    const eventsOnly = await RawStreamClient.connect(sim, APP, [{ type: 'EVENT', topic: '*' }]);
    const otherApp = await RawStreamClient.connect(sim, APP2);
    const injected = sim.injectMessage(dm());
    expect(injected.state).toBe('queued');
    await settle();
    expect(eventsOnly.frames).toHaveLength(0);
    expect(otherApp.frames).toHaveLength(0);
    const subscriber = await RawStreamClient.connect(sim);
    const frame = await subscriber.waitForFrame(isRobot);
    expect(frame.headers.messageId).toBe(injected.messageId);
  });
});

describe('ACKs and redelivery (§2.2, §2.5)', () => {
  it('records the ACK data and marks the message acked', async () => {
    const sim = await simulator();
    const client = await RawStreamClient.connect(sim);
    const injected = sim.injectMessage(dm());
    const frame = await client.waitForFrame(isRobot);
    client.ack(frame, JSON.stringify({ response: { ok: true } }));
    const ack = await sim.waitForAck(injected.messageId);
    expect(ack).toMatchObject({
      kind: 'callback',
      matched: true,
      code: 200,
      data: '{"response":{"ok":true}}',
      topic: TOPIC_ROBOT,
      connectionId: frame.headers.connectionId,
    });
    expect(ack.latencyMs).toBeGreaterThanOrEqual(0);
    expect(sim.inbound()[0]).toMatchObject({ state: 'acked', ackData: '{"response":{"ok":true}}' });
  });

  it('redelivers an unacked CALLBACK with the same messageId and msgId, then gives up', async () => {
    const sim = await simulator({ callbackAckTimeoutMs: 100, maxRedeliveries: 1 });
    const client = await RawStreamClient.connect(sim);
    const injected = sim.injectMessage(dm());
    const first = await client.waitForFrame(isRobot);
    const second = await client.waitForFrame(isRobot, 3_000, 1);
    expect(second.headers.messageId).toBe(first.headers.messageId);
    expect(JSON.parse(second.data).msgId).toBe(injected.msgId);
    await sim.waitFor(() => (sim.inbound()[0]?.state === 'unacked' ? true : undefined));
    expect(sim.inbound()[0]?.deliveries.map((d) => d.redelivery)).toEqual([false, true]);
    expect(sim.stats()).toMatchObject({ pushes: 2, redeliveries: 1, gaveUp: 1 });
    client.ack(first);
    const late = await sim.waitFor(() =>
      sim.acks().find((a) => a.messageId === injected.messageId),
    );
    expect(late).toMatchObject({ matched: false, late: true });
  });

  it('stops redelivering once the redelivery is acked, and labels duplicate ACKs', async () => {
    const sim = await simulator({ callbackAckTimeoutMs: 250, maxRedeliveries: 3 });
    const client = await RawStreamClient.connect(sim);
    const injected = sim.injectMessage(dm());
    const redelivered = await client.waitForFrame(isRobot, 3_000, 1);
    client.ack(redelivered);
    client.ack(redelivered);
    await sim.waitFor(() => (sim.acks().length === 2 ? true : undefined));
    expect(sim.acks().map((a) => a.duplicate ?? false)).toEqual([false, true]);
    expect(sim.inbound()[0]?.state).toBe('acked');
    await settle(400);
    expect(client.frames.filter((f) => f.headers.messageId === injected.messageId)).toHaveLength(2);
  });

  it('redelivers an EVENT answered LATER', async () => {
    const sim = await simulator({ callbackAckTimeoutMs: 100 });
    const client = await RawStreamClient.connect(sim);
    const injected = sim.injectEvent({ eventType: 'chat_update_title' });
    const first = await client.waitForFrame((f) => f.type === 'EVENT');
    client.ack(first, JSON.stringify({ status: 'LATER' }));
    const again = await client.waitForFrame((f) => f.type === 'EVENT', 3_000, 1);
    expect(again.headers.messageId).toBe(injected.messageId);
    client.ack(again, JSON.stringify({ status: 'SUCCESS' }));
    await sim.waitFor(() => (sim.inbound()[0]?.state === 'acked' ? true : undefined));
  });

  it('queues while no connection is open and delivers on connect; drops when queueing is off', async () => {
    const queueing = await simulator();
    const queued = queueing.injectMessage(dm());
    expect(queueing.inbound()[0]?.state).toBe('queued');
    const client = await RawStreamClient.connect(queueing);
    expect((await client.waitForFrame(isRobot)).headers.messageId).toBe(queued.messageId);

    const dropping = await simulator({ queueWhenOffline: false });
    expect(dropping.injectMessage(dm()).state).toBe('dropped');
    const late = await RawStreamClient.connect(dropping);
    await settle();
    expect(late.frames).toHaveLength(0);
    expect(dropping.stats().dropped).toBe(1);
  });

  it('ignores ACKs for unknown messageIds and survives non-JSON upstream frames', async () => {
    const sim = await simulator();
    const client = await RawStreamClient.connect(sim);
    client.ws.send('garbage {');
    client.ws.send(JSON.stringify({ code: 200, headers: {} }));
    client.ack({ headers: { messageId: 'nope' } } as never);
    await sim.waitFor(() => (sim.acks().length === 1 ? true : undefined));
    expect(sim.acks()[0]).toMatchObject({ kind: 'unknown', matched: false, messageId: 'nope' });
    expect(sim.stats()).toMatchObject({ malformedUpstream: 2, unmatchedAcks: 1 });
    sim.injectMessage(dm());
    await client.waitForFrame(isRobot);
  });
});

describe('connection control (§2.3, §8.1)', () => {
  it('picks among open connections with the injected random source', async () => {
    let pick = 0;
    const sim = await simulator({ random: () => pick });
    const a = await RawStreamClient.connect(sim);
    const b = await RawStreamClient.connect(sim);
    sim.injectMessage(dm('to a'));
    pick = 0.99;
    sim.injectMessage(dm('to b'));
    expect(JSON.parse((await a.waitForFrame(isRobot)).data).text.content).toBe('to a');
    expect(JSON.parse((await b.waitForFrame(isRobot)).data).text.content).toBe('to b');
  });

  it('disconnect: sends the SYSTEM frame, stops delivering at once, closes after the grace period', async () => {
    const sim = await simulator({ disconnectGraceMs: 200, callbackAckTimeoutMs: 100 });
    const a = await RawStreamClient.connect(sim);
    const aId = sim.connections()[0]?.id ?? '';
    const unacked = sim.injectMessage(dm('before'));
    await a.waitForFrame(isRobot);
    expect(sim.disconnect(aId)).toBe(true);
    const frame = await a.waitForFrame((f) => f.headers.topic === 'disconnect');
    expect(frame.type).toBe('SYSTEM');
    expect(Object.keys(frame.headers).sort()).toEqual([
      'contentType',
      'messageId',
      'time',
      'topic',
    ]);
    expect(frame.headers.messageId).toMatch(/^c0a815dd\d{13}[0-9a-f]+$/);
    expect(JSON.parse(frame.data)).toEqual({ reason: 'connection is expired' });
    expect(sim.connections()[0]?.state).toBe('draining');
    const during = sim.injectMessage(dm('during'));
    expect(during.state).toBe('queued');
    const b = await RawStreamClient.connect(sim);
    expect((await b.waitForFrame((f) => f.headers.messageId === during.messageId)).type).toBe(
      'CALLBACK',
    );
    const redelivered = await b.waitForFrame((f) => f.headers.messageId === unacked.messageId);
    expect(JSON.parse(redelivered.data).msgId).toBe(unacked.msgId);
    expect(await a.waitForClose()).toBe(1000);
    expect(a.frames.filter(isRobot)).toHaveLength(1);
    await sim.waitForConnection((c) => c.id === aId && c.state === 'closed');
    expect(sim.disconnect(aId)).toBe(false);
  });

  it('rotates connections after rotateAfterMs', async () => {
    const sim = await simulator({ rotateAfterMs: 50, disconnectGraceMs: 50 });
    const client = await RawStreamClient.connect(sim);
    await client.waitForFrame((f) => f.headers.topic === 'disconnect');
    await client.waitForClose();
    expect(sim.stats().disconnectsSent).toBe(1);
  });

  it('drop: kills the socket without a close frame', async () => {
    const sim = await simulator();
    const client = await RawStreamClient.connect(sim);
    sim.drop(sim.connections()[0]?.id ?? '');
    expect(await client.waitForClose()).toBe(1006);
    await sim.waitForConnection((c) => c.state === 'closed');
  });

  it('stall: no pongs, ACKs not read, no pushes', async () => {
    const sim = await simulator();
    const client = await RawStreamClient.connect(sim);
    let pongs = 0;
    client.ws.on('pong', () => {
      pongs += 1;
    });
    client.ws.ping();
    await eventually(() => (pongs === 1 ? true : undefined));
    sim.stall(sim.connections()[0]?.id ?? '');
    client.ws.ping();
    client.ack({ headers: { messageId: 'after-stall' } } as never);
    const injected = sim.injectMessage(dm());
    await settle(300);
    expect(pongs).toBe(1);
    expect(sim.acks()).toHaveLength(0);
    expect(client.frames).toHaveLength(0);
    expect(injected.state).toBe('queued');
    expect(sim.connections()[0]?.state).toBe('stalled');
  });

  it('sends the malformed frame only when asked, to the chosen connection', async () => {
    const sim = await simulator();
    const a = await RawStreamClient.connect(sim);
    await RawStreamClient.connect(sim);
    const aId = sim.connections()[0]?.id ?? '';
    const result = sim.addFaults({ malformedFrame: { connectionId: aId } });
    expect(result.malformedFrameSentTo).toEqual([aId]);
    const [raw] = await a.waitForRawFrames(1);
    expect(() => JSON.parse(raw ?? '')).toThrow();
    sim.injectMessage(dm());
    await sim.waitFor(() => (sim.stats().pushes === 1 ? true : undefined));
  });
});

describe('SYSTEM ping schedule (§2.3)', () => {
  it('sends {opaque} pings and records a violation when one is not echoed', async () => {
    const sim = await simulator({ pingIntervalMs: 50, pingAckTimeoutMs: 1_000 });
    const client = await RawStreamClient.connect(sim);
    const ping = await client.waitForFrame((f) => f.headers.topic === 'ping');
    expect(ping.type).toBe('SYSTEM');
    expect(Object.keys(ping.headers).sort()).toEqual(['contentType', 'messageId', 'time', 'topic']);
    expect(Object.keys(JSON.parse(ping.data))).toEqual(['opaque']);
    client.ws.send(
      JSON.stringify({ code: 200, headers: ping.headers, message: 'OK', data: ping.data }),
    );
    const ack = await sim.waitFor(() => sim.acks().find((a) => a.kind === 'ping'));
    expect(ack).toMatchObject({ matched: true, messageId: ping.headers.messageId });
    const violation = await sim.waitFor(() => sim.pingViolations()[0]);
    expect(violation.reason).toBe('timeout');
    expect(violation.messageId).not.toBe(ping.headers.messageId);
    expect(sim.connections()[0]?.pingViolations).toBeGreaterThan(0);
  });

  it('records a mismatch when the echo carries different data', async () => {
    const sim = await simulator({ pingIntervalMs: 50, pingAckTimeoutMs: 5_000 });
    const client = await RawStreamClient.connect(sim);
    const ping = await client.waitForFrame((f) => f.headers.topic === 'ping');
    client.ws.send(JSON.stringify({ code: 200, headers: ping.headers, message: 'OK', data: '{}' }));
    const violation = await sim.waitFor(() => sim.pingViolations()[0]);
    expect(violation).toMatchObject({ reason: 'mismatch', messageId: ping.headers.messageId });
  });
});
