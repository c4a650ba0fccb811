import { afterEach, describe, expect, it } from 'vitest';
import { manualClock } from '../../lib/clock.js';
import { TINY_PNG } from '../../lib/simulator/index.js';
import { call, closeAll, simulator } from './helpers.js';

afterEach(closeAll);

const payloadOf = (sim: { inbound(): { payload: unknown }[] }, i = 0) =>
  // biome-ignore lint/suspicious/noExplicitAny: tests read payloads loosely
  sim.inbound()[i]?.payload as Record<string, any>;

describe('inbound robot message payloads (§4)', () => {
  it('builds a DM text payload with the §4.1 fields', async () => {
    const clock = manualClock(Date.UTC(2026, 0, 31, 9, 28, 17));
    const sim = await simulator({ clock });
    const res = await call(`${sim.url}/__sim/messages`, {
      body: {
        conversationType: '1',
        sender: { staffId: 'manager807', nick: '张三' },
        text: 'hello DingTalk!',
      },
    });
    expect(res.status).toBe(200);
    const p = payloadOf(sim);
    expect(res.body).toEqual({
      messageId: sim.inbound()[0]?.messageId,
      msgId: p.msgId,
      conversationId: p.conversationId,
      sessionWebhook: p.sessionWebhook,
      state: 'queued',
    });
    expect(p).toMatchObject({
      conversationType: '1',
      senderStaffId: 'manager807',
      senderNick: '张三',
      robotCode: 'dingtestapp',
      msgtype: 'text',
      text: { content: 'hello DingTalk!' },
      createAt: clock.now(),
      sessionWebhookExpiredTime: clock.now() + 90 * 60_000,
    });
    expect(p.conversationId).toMatch(/^cid[A-Za-z0-9+/]+=*$/);
    expect(p.msgId).toMatch(/^msg[A-Za-z0-9+/]{22}==$/);
    expect(p.senderId).toMatch(/^\$:LWCP_v1:\$/);
    expect(p.chatbotUserId).toMatch(/^\$:LWCP_v1:\$/);
    expect(p.chatbotCorpId).toMatch(/^ding[0-9a-f]{16}$/);
    expect(p.sessionWebhook).toMatch(
      new RegExp(`^${sim.url}/robot/sendBySession\\?session=[0-9a-f]{32}$`),
    );
    for (const absent of ['isInAtList', 'atUsers', 'conversationTitle'])
      expect(p).not.toHaveProperty(absent);
  });

  it('keeps a DM conversationId stable per user and a group id stable per title', async () => {
    const sim = await simulator();
    const a1 = sim.injectMessage({ conversationType: '1', sender: { staffId: 'a' }, text: '1' });
    const a2 = sim.injectMessage({ conversationType: '1', sender: { staffId: 'a' }, text: '2' });
    const b = sim.injectMessage({ conversationType: '1', sender: { staffId: 'b' }, text: '3' });
    expect(a1.conversationId).toBe(a2.conversationId);
    expect(b.conversationId).not.toBe(a1.conversationId);
    expect(a1.sessionWebhook).not.toBe(a2.sessionWebhook);
    const g1 = sim.injectMessage({
      conversationType: '2',
      conversationTitle: 'ops',
      sender: { staffId: 'a' },
      text: 'x',
    });
    const g2 = sim.injectMessage({
      conversationType: '2',
      conversationTitle: 'ops',
      sender: { staffId: 'b' },
      text: 'y',
    });
    expect(g1.conversationId).toBe(g2.conversationId);
  });

  it('builds a group @-mention: leading space, isInAtList, atUsers with the bot first', async () => {
    const sim = await simulator();
    sim.injectMessage({
      conversationType: '2',
      conversationId: 'cidFbEwwavwcAsXDZbYqSBLnA==',
      conversationTitle: '机器人测试群',
      sender: { staffId: '01426861-1254332033', nick: '骏隆' },
      text: '帮我总结一下 @王五 ',
      atUsers: ['0418245234'],
    });
    const p = payloadOf(sim);
    expect(p).toMatchObject({
      conversationId: 'cidFbEwwavwcAsXDZbYqSBLnA==',
      conversationType: '2',
      conversationTitle: '机器人测试群',
      isInAtList: true,
      text: { content: ' 帮我总结一下 @王五 ' },
    });
    expect(p.atUsers).toEqual([
      { dingtalkId: p.chatbotUserId },
      { dingtalkId: expect.stringMatching(/^\$:LWCP_v1:\$/), staffId: '0418245234' },
    ]);
  });

  it('a group message without @bot has isInAtList false and no leading space', async () => {
    const sim = await simulator();
    sim.injectMessage({
      conversationType: '2',
      sender: { staffId: 'u' },
      text: 'chatter',
      atBot: false,
    });
    expect(payloadOf(sim)).toMatchObject({ isInAtList: false, text: { content: 'chatter' } });
    expect(payloadOf(sim)).not.toHaveProperty('atUsers');
  });

  it('passes through other msgtypes and applies `extra` (null removes a field)', async () => {
    const sim = await simulator();
    sim.injectMessage({
      conversationType: '1',
      sender: { staffId: 'u' },
      msgtype: 'unknownMsgType',
      content: { unknownMsgType: '用户发送了一条消息，机器人暂不支持接收。' },
      extra: { senderPlatform: 'Win', senderStaffId: null },
    });
    const p = payloadOf(sim);
    expect(p.content).toEqual({ unknownMsgType: '用户发送了一条消息，机器人暂不支持接收。' });
    expect(p.senderPlatform).toBe('Win');
    expect(p).not.toHaveProperty('senderStaffId');
  });

  it.each([
    [{ sender: { staffId: 'u' }, text: 'x' }, 'conversationType'],
    [{ conversationType: '3', sender: { staffId: 'u' }, text: 'x' }, 'conversationType'],
    [{ conversationType: '1', text: 'x' }, 'sender'],
    [{ conversationType: '1', sender: { staffId: '' }, text: 'x' }, 'sender.staffId'],
    [{ conversationType: '1', sender: { staffId: 'u' } }, 'text'],
    [{ conversationType: '1', sender: { staffId: 'u' }, msgtype: 'location' }, 'content'],
    [{ conversationType: '2', sender: { staffId: 'u' }, msgtype: 'audio' }, 'msgtype'],
    [{ conversationType: '1', sender: { staffId: 'u' }, text: 'x', bogus: 1 }, 'bogus'],
    [{ account: 'nobody', conversationType: '1', sender: { staffId: 'u' }, text: 'x' }, 'account'],
  ])('rejects %j with a 400 naming `%s`', async (body, field) => {
    const sim = await simulator();
    const res = await call(`${sim.url}/__sim/messages`, { body });
    expect(res.status).toBe(400);
    expect(res.body.message).toContain(field);
    expect(() => sim.injectMessage(body as never)).toThrow(field);
  });

  it('answers 400 to a non-JSON injection body', async () => {
    const sim = await simulator();
    const res = await call(`${sim.url}/__sim/messages`, { raw: '{oops' });
    expect(res.status).toBe(400);
    expect(res.body.message).toContain('not valid JSON');
  });

  it('injects for the account named by accountId or clientId', async () => {
    const sim = await simulator();
    sim.injectMessage({
      account: 'other',
      conversationType: '1',
      sender: { staffId: 'u' },
      text: 'a',
    });
    sim.injectMessage({
      account: 'dingotherapp',
      conversationType: '1',
      sender: { staffId: 'u' },
      text: 'b',
    });
    expect(sim.inbound().map((r) => r.account)).toEqual(['other', 'other']);
    expect(payloadOf(sim).robotCode).toBe('dingotherapp');
  });
});

describe('inbound media and downloads (§4.2, §6.3)', () => {
  async function downloadUrlFor(sim: Awaited<ReturnType<typeof simulator>>, code: string) {
    const token = (
      await call(`${sim.url}/v1.0/oauth2/accessToken`, {
        body: { appKey: 'dingtestapp', appSecret: 'test-secret-1' },
      })
    ).body.accessToken;
    return call(`${sim.url}/v1.0/robot/messageFiles/download`, {
      body: { downloadCode: code, robotCode: 'dingtestapp' },
      headers: { 'x-acs-dingtalk-access-token': token },
    });
  }

  it('mints a downloadable PNG for pictures', async () => {
    const sim = await simulator();
    sim.injectMessage({ conversationType: '2', sender: { staffId: 'u' }, msgtype: 'picture' });
    const { content } = payloadOf(sim);
    expect(content.downloadCode).toMatch(/^mIof/);
    expect(typeof content.pictureDownloadCode).toBe('string');
    const link = await downloadUrlFor(sim, content.downloadCode);
    expect(link.status).toBe(200);
    expect(link.body.downloadUrl).toMatch(new RegExp(`^${sim.url}/__files/`));
    const file = await fetch(link.body.downloadUrl);
    expect(file.headers.get('content-type')).toBe('image/png');
    const bytes = Buffer.from(await file.arrayBuffer());
    expect(bytes.equals(TINY_PNG)).toBe(true);
    expect(bytes.subarray(1, 4).toString()).toBe('PNG');
  });

  it('mints codes for richText pictures, audio, video and file; keeps codes the request gives', async () => {
    const sim = await simulator();
    const dm = { conversationType: '1' as const, sender: { staffId: 'u' } };
    sim.injectMessage({ ...dm, msgtype: 'richText', text: 'see picture' });
    sim.injectMessage({ ...dm, msgtype: 'audio', text: '你好' });
    sim.injectMessage({ ...dm, msgtype: 'video' });
    sim.injectMessage({ ...dm, msgtype: 'file', content: { fileName: 'report.pdf' } });
    sim.injectMessage({ ...dm, msgtype: 'picture', content: { downloadCode: 'given-code' } });
    const rich = payloadOf(sim, 0).content.richText;
    expect(rich[0]).toEqual({ text: 'see picture' });
    expect(rich[1]).toMatchObject({
      type: 'picture',
      downloadCode: expect.stringMatching(/^mIof/),
    });
    expect(payloadOf(sim, 1).content).toMatchObject({ recognition: '你好' });
    expect(payloadOf(sim, 2).content).toMatchObject({ duration: '5', videoType: 'mp4' });
    expect(payloadOf(sim, 3).content).toMatchObject({
      fileName: 'report.pdf',
      spaceId: expect.any(String),
    });
    expect(payloadOf(sim, 4).content.downloadCode).toBe('given-code');
    for (const code of [
      rich[1].downloadCode,
      payloadOf(sim, 1).content.downloadCode,
      payloadOf(sim, 2).content.downloadCode,
      payloadOf(sim, 3).content.downloadCode,
    ]) {
      const link = await downloadUrlFor(sim, code);
      const res = await fetch(link.body.downloadUrl);
      expect(res.status).toBe(200);
      expect((await res.arrayBuffer()).byteLength).toBeGreaterThan(0);
    }
    expect((await downloadUrlFor(sim, 'given-code')).status).toBe(400);
  });

  it('answers 400 for unknown download codes and 404 for unknown file URLs', async () => {
    const sim = await simulator();
    const res = await downloadUrlFor(sim, 'nope');
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('invalidParameter.downloadCode.invalid');
    expect((await fetch(`${sim.url}/__files/nope`)).status).toBe(404);
    expect((await fetch(`${sim.url}/__files/%E0%A4%A`)).status).toBe(404);
  });
});
