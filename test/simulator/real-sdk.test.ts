/**
 * The simulator against the real `dingtalk-stream@2.1.5` DWClient (§8.3 #1, #2), pointed at the
 * fake through the §1.4 `getEndpoint()` override. This proves the fake speaks what the SDK
 * expects; the project's wrapper has its own conformance suite.
 */
import type { DWClient, DWClientDownStream } from 'dingtalk-stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { TOPIC_ROBOT } from '../../lib/dingtalk/payload.js';
import type { Simulator } from '../../lib/simulator/index.js';
import { StockDWClient } from '../support/stock-client.js';
import { APP, closeAll, onCleanup, simulator } from './helpers.js';

afterEach(closeAll);

type ClientOptions = ConstructorParameters<typeof DWClient>[0];

async function connectClient(
  sim: Simulator,
  onRobot?: (msg: DWClientDownStream, client: DWClient) => void,
) {
  vi.spyOn(console, 'info').mockImplementation(() => undefined);
  const options = {
    clientId: APP.clientId,
    clientSecret: APP.clientSecret,
    keepAlive: false,
    autoReconnect: false,
    // B6: a fresh array, not the module-level default shared by every DWClient.
    subscriptions: [{ type: 'EVENT', topic: '*' }],
  } as ClientOptions;
  const client = new StockDWClient(options, sim.gatewayUrl);
  client.registerCallbackListener(TOPIC_ROBOT, (msg) => onRobot?.(msg, client));
  onCleanup(() => {
    client.disconnect();
    vi.restoreAllMocks();
  });
  await client.connect();
  expect(client.connected).toBe(true);
  return client;
}

describe('real dingtalk-stream 2.1.5 client against the simulator', () => {
  it('sends exactly the N215 /open body and connects with the ticket', async () => {
    const sim = await simulator();
    await connectClient(sim);
    const [request] = sim.gatewayRequests();
    expect(request?.body).toBe(
      `{"clientId":"${APP.clientId}","clientSecret":"${APP.clientSecret}","ua":"","subscriptions":[{"type":"EVENT","topic":"*"},{"type":"CALLBACK","topic":"/v1.0/im/bot/messages/get"}]}`,
    );
    expect(request?.headers).toMatchObject({
      accept: 'application/json',
      'content-type': 'application/json',
    });
    expect(sim.connections()).toEqual([
      expect.objectContaining({ state: 'open', clientId: APP.clientId }),
    ]);
  });

  it('delivers a robot message to the listener and records socketCallBackResponse as the ACK', async () => {
    const sim = await simulator();
    const received: DWClientDownStream[] = [];
    await connectClient(sim, (msg, client) => {
      received.push(msg);
      client.socketCallBackResponse(msg.headers.messageId, { ok: true });
    });
    const injected = sim.injectMessage({
      conversationType: '1',
      sender: { staffId: 'manager807' },
      text: 'hello',
    });
    const ack = await sim.waitForAck(injected.messageId);
    expect(received).toHaveLength(1);
    expect(received[0]?.headers.messageId).toBe(injected.messageId);
    expect(JSON.parse(received[0]?.data ?? '{}')).toMatchObject({
      msgId: injected.msgId,
      text: { content: 'hello' },
    });
    expect(ack).toMatchObject({
      kind: 'callback',
      code: 200,
      message: 'OK',
      data: '{"response":{"ok":true}}',
    });
    expect(ack.frame).toEqual({
      code: 200,
      headers: { contentType: 'application/json', messageId: injected.messageId },
      message: 'OK',
      data: '{"response":{"ok":true}}',
    });
  });

  it('gets the SDK ping echo ACK with the request headers and data', async () => {
    const sim = await simulator({ pingIntervalMs: 50, pingAckTimeoutMs: 2_000 });
    await connectClient(sim);
    const ack = await sim.waitFor(() => sim.acks().find((a) => a.kind === 'ping'));
    const frame = ack.frame as {
      code: number;
      headers: Record<string, string>;
      message: string;
      data: string;
    };
    expect(frame.code).toBe(200);
    expect(frame.message).toBe('OK');
    expect(Object.keys(frame.headers).sort()).toEqual([
      'contentType',
      'messageId',
      'time',
      'topic',
    ]);
    expect(frame.headers.topic).toBe('ping');
    expect(JSON.parse(frame.data)).toEqual({ opaque: expect.any(String) });
    expect(sim.pingViolations().filter((v) => v.messageId === ack.messageId)).toEqual([]);
  });

  it('gets the automatic EVENT ACK {"status":"SUCCESS"}', async () => {
    const sim = await simulator();
    await connectClient(sim);
    const injected = sim.injectEvent({ eventType: 'user_add_org', data: { userId: ['u1'] } });
    const ack = await sim.waitForAck(injected.messageId);
    expect(ack).toMatchObject({ kind: 'event', data: '{"status":"SUCCESS"}' });
    expect(sim.inbound()[0]?.state).toBe('acked');
  });
});
