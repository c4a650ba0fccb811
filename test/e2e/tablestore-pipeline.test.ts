/**
 * The message pipeline end to end with Tablestore as the store: simulator → handler → reply,
 * with the adapter on the fake Tablestore through the real SDK. Redeliveries (the same stream
 * message again, and through another relay) are answered once, concurrent ones included.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { MessageEvent } from '../../lib/forward/port.js';
import { startTestChannel, type TestChannel } from '../support/channel.js';
import { startTestTablestore, type TestTablestore } from '../support/tablestore.js';

let ts: TestTablestore;
let ch: TestChannel | undefined;
let tables = 0;

beforeAll(async () => {
  ts = await startTestTablestore();
});
afterAll(async () => {
  await ts?.close();
});
afterEach(async () => {
  await ch?.close();
  ch = undefined;
});

async function channel(): Promise<TestChannel> {
  const store = await ts.openStore({ tableName: `pipeline_${++tables}` });
  ch = await startTestChannel({ runtime: { store } });
  return ch;
}

const dm = (text: string) => ({
  conversationType: '1' as const,
  sender: { staffId: 'manager807', nick: '张三' },
  text,
});

describe('pipeline on Tablestore', () => {
  it('answers a DM through the session webhook and a redelivery not again', async () => {
    const c = await channel();
    const { event } = c.inject(dm('你好, Tablestore'));
    expect(await c.handle(event)).toEqual({ status: 'handled' });
    expect(c.sim.outbox()).toMatchObject([
      { via: 'webhook', text: expect.stringContaining('你好, Tablestore') },
    ]);
    expect(await c.handle(event)).toMatchObject({ status: 'duplicate' });
    const replica: MessageEvent = { ...event, messageId: `${event.messageId}-replica` };
    expect(await c.handle(replica)).toMatchObject({ status: 'duplicate' });
    expect(c.sim.outbox()).toHaveLength(1);
    // The state really went through Tablestore.
    expect(ts.fake.calls().UpdateRow ?? 0).toBeGreaterThan(0);
  });

  it('concurrent deliveries of one message are answered once', async () => {
    const c = await channel();
    const { event } = c.inject(dm('only once'));
    const outcomes = await Promise.all(
      Array.from({ length: 4 }, (_, i) =>
        c.handle({ ...event, messageId: `${event.messageId}-${i}` }),
      ),
    );
    expect(outcomes.filter((o) => o.status === 'handled')).toHaveLength(1);
    expect(c.sim.outbox()).toHaveLength(1);
  });

  it('a throttled store is retried by the adapter and the message still answered once', async () => {
    const c = await channel();
    ts.fake.faults.throttle(3, { code: 'OTSServerBusy' });
    const { event } = c.inject(dm('busy store'));
    expect(await c.handle(event)).toEqual({ status: 'handled' });
    expect(c.sim.outbox()).toHaveLength(1);
    ts.fake.faults.reset();
  });
});
