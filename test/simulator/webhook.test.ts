import { afterEach, describe, expect, it } from 'vitest';
import { manualClock } from '../../lib/clock.js';
import { call, closeAll, simulator } from './helpers.js';

afterEach(closeAll);

async function withSession(options = {}) {
  const sim = await simulator(options);
  const injected = sim.injectMessage({
    conversationType: '2',
    conversationTitle: 'ops',
    sender: { staffId: 'manager807' },
    text: 'hi',
  });
  return { sim, injected, webhook: injected.sessionWebhook };
}

describe('sessionWebhook sends (§5)', () => {
  it('accepts each custom-robot msgtype and records it in the outbox, normalised', async () => {
    const { sim, injected, webhook } = await withSession();
    const bodies = [
      {
        msgtype: 'text',
        text: { content: '收到' },
        at: { atUserIds: ['manager807'], isAtAll: false },
      },
      { msgtype: 'markdown', markdown: { title: '杭州天气', text: '#### 9度' } },
      {
        msgtype: 'actionCard',
        actionCard: { title: 't', text: 'body', singleTitle: '阅读全文', singleURL: 'https://x' },
      },
      {
        msgtype: 'actionCard',
        actionCard: { title: 't2', text: 'b2', btns: [{ title: 'ok', actionURL: 'https://x' }] },
      },
      {
        msgtype: 'feedCard',
        feedCard: {
          links: [
            { title: 'one', messageURL: 'https://x', picURL: 'https://p' },
            { title: 'two', messageURL: 'https://y' },
          ],
        },
      },
      { msgtype: 'link', link: { title: 'lt', text: 'lx', picUrl: '', messageUrl: 'https://x' } },
    ];
    for (const body of bodies) {
      const res = await call(webhook, {
        body,
        headers: { 'x-acs-dingtalk-access-token': 'anything' },
      });
      expect(res).toMatchObject({ status: 200, body: { errcode: 0, errmsg: 'ok' } });
    }
    const outbox = sim.outbox();
    expect(outbox.map((e) => [e.msgtype, e.title, e.text])).toEqual([
      ['text', undefined, '收到'],
      ['markdown', '杭州天气', '#### 9度'],
      ['actionCard', 't', 'body'],
      ['actionCard', 't2', 'b2'],
      ['feedCard', 'one', 'one\ntwo'],
      ['link', 'lt', 'lx'],
    ]);
    expect(outbox[0]).toMatchObject({
      seq: 1,
      via: 'webhook',
      account: 'main',
      conversationId: injected.conversationId,
      conversationType: '2',
      atUserIds: ['manager807'],
      raw: bodies[0],
    });
    expect(sim.outbox(5).map((e) => e.seq)).toEqual([6]);
    const viaHttp = await call(`${sim.url}/__sim/outbox?since=4`);
    expect(viaHttp.body.map((e: { seq: number }) => e.seq)).toEqual([5, 6]);
    // AI cards live beside the outbox: its answer links to them.
    const res = await fetch(`${sim.url}/__sim/outbox`);
    expect(res.headers.get('link')).toBe('</__sim/cards>; rel="related"');
    await res.body?.cancel();
  });

  it('answers 300001 for unknown and expired sessions', async () => {
    const clock = manualClock();
    const { sim, webhook } = await withSession({ clock, sessionWebhookTtlMs: 60_000 });
    const body = { msgtype: 'text', text: { content: 'x' } };
    const unknown = await call(
      `${sim.url}/robot/sendBySession?session=ffffffffffffffffffffffffffffffff`,
      { body },
    );
    expect(unknown).toMatchObject({
      status: 200,
      body: { errcode: 300001, errmsg: 'session 不存在' },
    });
    expect((await call(webhook, { body })).body.errcode).toBe(0);
    clock.advance(60_001);
    expect((await call(webhook, { body })).body).toEqual({
      errcode: 300001,
      errmsg: 'session 不存在',
    });
    expect(sim.outbox()).toHaveLength(1);
  });

  it('answers 460101 for bodies over 20000 bytes', async () => {
    const { sim, webhook } = await withSession();
    const res = await call(webhook, {
      body: { msgtype: 'text', text: { content: '字'.repeat(7_000) } },
    });
    expect(res.body).toEqual({ errcode: 460101, errmsg: 'message too long, exceed 20000 bytes' });
    expect(sim.outbox()).toHaveLength(0);
  });

  it.each([
    [{ msgtype: 'image', image: {} }, 'msgtype'],
    [{ text: { content: 'x' } }, 'msgtype'],
    [{ msgtype: 'text', text: 'x' }, '`text` must be an object'],
    [{ msgtype: 'text', text: { content: '' } }, 'content'],
    [{ msgtype: 'markdown', markdown: { text: 'x' } }, 'title'],
    [{ msgtype: 'actionCard', actionCard: { title: 't', text: 'x' } }, 'btns'],
    [{ msgtype: 'feedCard', feedCard: { links: [] } }, 'links'],
    [{ msgtype: 'link', link: { title: 't', text: 'x' } }, 'messageUrl'],
    [{ msgtype: 'text', text: { content: 'x' }, at: { atUserIds: 'u1' } }, 'atUserIds'],
  ])('rejects %j with a non-zero errcode naming %s', async (body, field) => {
    const { sim, webhook } = await withSession();
    const res = await call(webhook, { body });
    expect(res.status).toBe(200);
    expect(res.body.errcode).toBe(40035);
    expect(res.body.errmsg).toContain(field);
    expect(sim.outbox()).toHaveLength(0);
  });

  it('answers a non-JSON body with errcode 40035', async () => {
    const { webhook } = await withSession();
    const res = await call(webhook, { raw: 'not json' });
    expect(res.body.errcode).toBe(40035);
  });

  it('applies webhook faults: errcode answers, then HTTP 5xx, then normal service', async () => {
    const { sim, webhook } = await withSession();
    sim.addFaults({ webhook: { count: 2, errcode: 660026 } });
    sim.addFaults({ webhook: { status: 502 } });
    const body = { msgtype: 'text', text: { content: 'x' } };
    const answers = [];
    for (let i = 0; i < 4; i += 1) answers.push(await call(webhook, { body }));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 502, 200]);
    expect(answers[0]?.body).toEqual({
      errcode: 660026,
      errmsg: 'sending too many messages per minute',
    });
    expect(answers[3]?.body.errcode).toBe(0);
    expect(sim.outbox()).toHaveLength(1);
    expect(sim.stats()).toMatchObject({ webhookSends: 1, webhookErrors: 3 });
  });
});

describe('sessionWebhook slow answers (delayMs)', () => {
  it('records the message in the outbox at once and answers only after the delay', async () => {
    const { sim, webhook } = await withSession();
    sim.addFaults({ webhook: { delayMs: 400 } });
    const started = Date.now();
    const pending = call(webhook, { body: { msgtype: 'text', text: { content: '慢' } } });
    await new Promise((r) => setTimeout(r, 100));
    // Delivered although the client has no answer yet: the case a client timeout turns into
    // "maybe sent".
    expect(sim.outbox().map((e) => e.text)).toEqual(['慢']);
    const res = await pending;
    expect(res.body).toEqual({ errcode: 0, errmsg: 'ok' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(390);
  });

  it('with an errcode, answers that error late and records nothing', async () => {
    const { sim, webhook } = await withSession();
    sim.addFaults({ webhook: { delayMs: 50, errcode: 660026 } });
    const res = await call(webhook, { body: { msgtype: 'text', text: { content: 'x' } } });
    expect(res.body).toMatchObject({ errcode: 660026 });
    expect(sim.outbox()).toEqual([]);
  });
});
