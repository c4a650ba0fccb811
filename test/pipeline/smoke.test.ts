import { afterEach, describe, expect, it } from 'vitest';
import { startTestChannel, type TestChannel } from '../support/channel.js';

let ch: TestChannel;
afterEach(() => ch?.close());

describe('pipeline smoke', () => {
  it('echoes a DM through the session webhook', async () => {
    ch = await startTestChannel({ store: 'dynalite' });
    const { event } = ch.inject({
      conversationType: '1',
      sender: { staffId: 'manager807', nick: 'Z' },
      text: 'hello there',
    });
    const outcome = await ch.handle(event);
    expect(outcome).toEqual({ status: 'handled' });
    expect(ch.sim.outbox()).toMatchObject([
      { via: 'webhook', text: expect.stringContaining('hello there') },
    ]);
    expect(await ch.handle(event)).toMatchObject({ status: 'duplicate' });
    expect(ch.sim.outbox()).toHaveLength(1);
  });
});
