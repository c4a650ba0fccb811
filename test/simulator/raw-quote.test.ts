// biome-ignore-all lint/suspicious/noExplicitAny: tests read payloads loosely
/**
 * Issue 16, the simulator: raw injection replays a captured payload exactly as given (only the
 * frame envelope is the simulator's), registers the download codes and the session webhook it
 * shows, and the `quote` option builds §4.4 quote-replies of injected, sent and card messages.
 * Frames are read with the raw `ws` client, downloads through the control API's HTTP routes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { TOPIC_ROBOT } from '../../lib/dingtalk/payload.js';
import { APP, call, closeAll, RawStreamClient, simulator } from './helpers.js';

afterEach(closeAll);

const isRobot = (f: { headers: { topic: string } }) => f.headers.topic === TOPIC_ROBOT;

async function downloadUrlFor(sim: Awaited<ReturnType<typeof simulator>>, code: string) {
  const token = (
    await call(`${sim.url}/v1.0/oauth2/accessToken`, {
      body: { appKey: APP.clientId, appSecret: APP.clientSecret },
    })
  ).body.accessToken;
  return call(`${sim.url}/v1.0/robot/messageFiles/download`, {
    body: { downloadCode: code, robotCode: APP.clientId },
    headers: { 'x-acs-dingtalk-access-token': token },
  });
}

/** A captured-looking payload, in our own words: content as a JSON string, explicit nulls. */
const captured = (sim: { url: string }) =>
  JSON.stringify({
    conversationId: 'cidRawDm01==',
    chatbotUserId: '$:LWCP_v1:$rawbot',
    msgId: 'msgRaw0001==',
    senderNick: 'Wang Wu',
    senderStaffId: 'raw-user-1',
    conversationType: '1',
    createAt: 1769851697611,
    sessionWebhookExpiredTime: 4102444800000,
    sessionWebhook: `${sim.url}/robot/sendBySession?session=00112233445566778899aabbccddeeff`,
    robotCode: APP.clientId,
    msgtype: 'file',
    content: '{"fileName":"notes.md","downloadCode":"captured-code-1","spaceId":"1"}',
    senderCorpId: null,
    isAdmin: null,
  });

describe('raw injection', () => {
  it('pushes the given JSON text byte for byte; only the envelope is the simulator’s', async () => {
    const sim = await simulator();
    const client = await RawStreamClient.connect(sim);
    const raw = captured(sim);
    const res = await call(`${sim.url}/__sim/messages`, { body: { raw } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ msgId: 'msgRaw0001==', conversationId: 'cidRawDm01==' });
    const frame = await client.waitForFrame(isRobot);
    expect(frame.data).toBe(raw);
    expect(frame.headers.messageId).toBe(res.body.messageId);
    const record = sim.inbound()[0]!;
    expect(record).toMatchObject({ raw: true, msgId: 'msgRaw0001==', msgtype: 'file' });
    // content stays a string, nulls stay null
    const payload = record.payload as Record<string, unknown>;
    expect(typeof payload.content).toBe('string');
    expect(payload.senderCorpId).toBeNull();
  });

  it('keeps an object payload as given: unknown type without content, no fields added', async () => {
    const sim = await simulator();
    const client = await RawStreamClient.connect(sim);
    const raw = { msgId: 'm1', msgtype: 'location', conversationType: '2', extra: null };
    sim.injectMessage({ raw });
    const frame = await client.waitForFrame(isRobot);
    expect(JSON.parse(frame.data)).toEqual(raw);
  });

  it('makes download codes it did not mint downloadable, with bytes when given', async () => {
    const sim = await simulator();
    sim.injectMessage({
      raw: captured(sim),
      downloads: { 'captured-code-1': { contentType: 'text/markdown', text: '# Plan\n' } },
    });
    sim.injectMessage({
      raw: {
        msgId: 'm2',
        msgtype: 'text',
        text: {
          content: 'see',
          isReplyMsg: true,
          repliedMsg: { msgType: 'picture', content: { downloadCode: 'quoted-code-9' } },
        },
      },
    });
    const link = await downloadUrlFor(sim, 'captured-code-1');
    expect(link.status).toBe(200);
    const file = await fetch(link.body.downloadUrl);
    expect(file.headers.get('content-type')).toBe('text/markdown');
    expect(await file.text()).toBe('# Plan\n');
    const quoted = await downloadUrlFor(sim, 'quoted-code-9');
    expect(quoted.status).toBe(200);
    expect((await fetch(quoted.body.downloadUrl)).headers.get('content-type')).toBe('image/png');
    expect((await downloadUrlFor(sim, 'never-seen')).status).toBe(400);
  });

  it('routes a session webhook on the simulator; any other is left as it is', async () => {
    const sim = await simulator();
    sim.injectMessage({ raw: captured(sim) });
    const webhook = `${sim.url}/robot/sendBySession?session=00112233445566778899aabbccddeeff`;
    const sent = await call(webhook, { body: { msgtype: 'text', text: { content: 'hi' } } });
    expect(sent.body).toEqual({ errcode: 0, errmsg: 'ok' });
    expect(sim.outbox()[0]).toMatchObject({ conversationId: 'cidRawDm01==', text: 'hi' });

    const foreign = 'https://oapi.dingtalk.com/robot/sendBySession?session=ffff';
    sim.injectMessage({ raw: { msgId: 'm3', sessionWebhook: foreign } });
    expect(sim.inbound()[1]?.payload).toMatchObject({ sessionWebhook: foreign });
  });

  it('refuses a raw body that is not a JSON object, naming the problem', async () => {
    const sim = await simulator();
    const bad = await call(`${sim.url}/__sim/messages`, { body: { raw: '{not json' } });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain('`raw` is not valid JSON text');
    const array = await call(`${sim.url}/__sim/messages`, { body: { raw: '[1]' } });
    expect(array.body.message).toContain('must encode a JSON object');
    const extra = await call(`${sim.url}/__sim/messages`, { body: { raw: {}, text: 'x' } });
    expect(extra.status).toBe(400);
  });
});

describe('the quote option', () => {
  const dm = (text: string) => ({
    conversationType: '1' as const,
    sender: { staffId: 'manager807', nick: '张三' },
    text,
  });

  it('quotes an injected richText as {msgType, content} items, pictures keeping their codes', async () => {
    const sim = await simulator();
    const first = sim.injectMessage({
      ...dm(''),
      msgtype: 'richText',
      content: { richText: [{ text: 'the chart' }, { type: 'picture' }] },
    });
    const reply = sim.injectMessage({ ...dm('what is this?'), quote: { msgId: first.msgId } });
    const payload = sim.inbound().find((r) => r.msgId === reply.msgId)?.payload as {
      text: Record<string, unknown>;
    };
    const original = sim.inbound()[0]?.payload as Record<string, any>;
    expect(payload.text).toEqual({
      content: 'what is this?',
      isReplyMsg: true,
      repliedMsg: {
        msgType: 'richText',
        msgId: first.msgId,
        senderId: original.senderId,
        createdAt: original.createAt,
        content: {
          richText: [
            { msgType: 'text', content: 'the chart' },
            { msgType: 'picture', downloadCode: original.content.richText[1].downloadCode },
          ],
        },
      },
    });
  });

  it('quotes a message the bot sent (fromBot sender) and adds the legacy shape on request', async () => {
    const sim = await simulator();
    const first = sim.injectMessage(dm('hello'));
    await call(first.sessionWebhook, {
      body: { msgtype: 'markdown', markdown: { title: 'Hi', text: '**Hi** there' } },
    });
    const sent = sim.outbox()[0]!;
    expect(sent.msgId).toMatch(/^msg/);
    const quoting = sim.injectMessage({
      ...dm('why?'),
      quote: { msgId: sent.msgId!, legacy: true },
    });
    const payload = sim.inbound().find((r) => r.msgId === quoting.msgId)?.payload as Record<
      string,
      any
    >;
    expect(payload.text.repliedMsg).toMatchObject({
      msgType: 'markdown',
      msgId: sent.msgId,
      senderId: payload.chatbotUserId,
      content: { text: '**Hi** there' },
    });
    expect(payload.quoteMessage).toMatchObject({
      msgId: sent.msgId,
      msgtype: 'markdown',
      senderId: payload.chatbotUserId,
    });
  });

  it('nests the inner quote of a quoted quote-reply', async () => {
    const sim = await simulator();
    const a = sim.injectMessage(dm('first'));
    const b = sim.injectMessage({ ...dm('second'), quote: { msgId: a.msgId } });
    const c = sim.injectMessage({ ...dm('third'), quote: { msgId: b.msgId } });
    const payload = sim.inbound().find((r) => r.msgId === c.msgId)?.payload as Record<string, any>;
    expect(payload.text.repliedMsg).toMatchObject({
      msgId: b.msgId,
      content: {
        text: 'second',
        isReplyMsg: true,
        repliedMsg: { msgId: a.msgId, content: { text: 'first' } },
      },
    });
  });

  it('refuses an unknown id, a quote on a non-text message and both ids at once', async () => {
    const sim = await simulator();
    const post = (body: unknown) => call(`${sim.url}/__sim/messages`, { body });
    const unknown = await post({ ...dm('x'), quote: { msgId: 'msgNope' } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.message).toContain('no message with msgId "msgNope"');
    const card = await post({ ...dm('x'), quote: { outTrackId: 'nope' } });
    expect(card.body.message).toContain('card outTrackId "nope"');
    const both = await post({ ...dm('x'), quote: { msgId: 'a', outTrackId: 'b' } });
    expect(both.body.message).toContain('give `msgId` or `outTrackId`');
    const picture = await post({ ...dm(''), msgtype: 'picture', quote: { msgId: 'a' } });
    expect(picture.body.message).toContain('quote-replies as text messages');
  });
});

describe('mentions in webhook sends (§5)', () => {
  it('records the at block and flags ids the text does not @-mention', async () => {
    const sim = await simulator();
    const first = sim.injectMessage({
      conversationType: '2',
      sender: { staffId: 'u1' },
      text: 'hi',
    });
    const send = (text: string, atUserIds: string[]) =>
      call(first.sessionWebhook, {
        body: {
          msgtype: 'markdown',
          markdown: { title: 't', text },
          at: { atUserIds, isAtAll: false },
        },
      });
    expect((await send('done @u1 @u2', ['u1', 'u2'])).body.errcode).toBe(0);
    expect((await send('done @u1', ['u1', 'u2'])).body.errcode).toBe(0);
    const [good, bad] = sim.outbox();
    expect(good).toMatchObject({ atUserIds: ['u1', 'u2'], isAtAll: false });
    expect(good?.unrenderedMentions).toBeUndefined();
    expect(bad?.unrenderedMentions).toEqual(['u2']);
    expect(sim.stats().mentionMismatches).toBe(1);
    // The other way round: a known user @-mentioned in the text but left out of the at block.
    await send('thanks @u1', []);
    expect(sim.outbox()[2]?.unnotifiedMentions).toEqual(['u1']);
    expect(sim.stats().mentionMismatches).toBe(2);
    const wrong = await call(first.sessionWebhook, {
      body: { msgtype: 'text', text: { content: 'x' }, at: { isAtAll: 'no' } },
    });
    expect(wrong.body.errcode).toBe(40035);
  });
});
