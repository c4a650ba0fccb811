/**
 * Outbound attachments through the real pipeline (issue 16): the http agent's `attachments`
 * are fetched from a local file host or decoded, uploaded to the simulator's `media/upload`, and
 * sent after the text, each as one unit of progress in the dedup claim:
 * - through the session webhook (image as a markdown image of its media id; a file has no
 *   webhook type, so it goes through the OpenAPI `sampleFile`);
 * - through the OpenAPI after the webhook expired (`sampleImageMsg`, `sampleFile`), DM and group;
 * - a too-large file, a failed fetch and a refused upload become notes, the rest goes out;
 * - a retry after a crash between sends sends no attachment twice and uploads nothing again;
 * - markdown image links in the text pass through untouched (no fetch, no upload).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpAgent } from '../../lib/agent/http.js';
import { parseRobotMessage } from '../../lib/dingtalk/inbound.js';
import type { MessageEvent } from '../../lib/forward/port.js';
import { claimMessage } from '../../lib/pipeline/dedup.js';
import { handleMessageEvent } from '../../lib/pipeline/handler.js';
import { TINY_PNG } from '../../lib/simulator/index.js';
import { keys } from '../../lib/state/keys.js';
import { startTestChannel, type TestChannel } from '../support/channel.js';
import {
  type FakeAgentHttp,
  type FakeAgentHttpResponder,
  startFakeAgentHttp,
} from '../support/fake-agent-http.js';
import { type FileServer, startFileServer } from '../support/file-server.js';

const PDF = Buffer.from('%PDF-1.4 simulated report\n');
const DM_SENDER = { staffId: 'manager807', nick: 'Zhang San' };
const GROUP_SENDER = { staffId: '0418245234', nick: 'Li Si' };
const TWO_HOURS = 2 * 60 * 60 * 1000;

let ch: TestChannel | undefined;
let agent: FakeAgentHttp | undefined;
let files: FileServer | undefined;
afterEach(async () => {
  await ch?.close();
  await agent?.close();
  await files?.close();
  ch = agent = files = undefined;
});

async function start(
  respond: FakeAgentHttpResponder,
  channel?: Record<string, unknown>,
): Promise<TestChannel> {
  files = await startFileServer({
    '/chart.png': { bytes: TINY_PNG, contentType: 'image/png' },
    '/huge.pdf': { bytes: Buffer.alloc(20 * 1024 * 1024 + 1), contentType: 'application/pdf' },
    '/gone.pdf': { status: 404 },
  });
  agent = await startFakeAgentHttp({ respond });
  ch = await startTestChannel({
    store: 'dynalite',
    agent: createHttpAgent({
      url: agent.url,
      keepsHistory: false,
      history: { maxTurns: 20, maxChars: 24_000 },
    }),
    ...(channel ? { channel } : {}),
  });
  return ch;
}

/** An answer whose attachments are built when the agent is called (the file host runs by then). */
const reply = (text: string, attachments: () => unknown[]) => () => ({
  json: { text, attachments: attachments() },
});
const chart = () => ({ type: 'image', url: files!.url('/chart.png') });
const report = { type: 'file', base64: PDF.toString('base64'), name: 'report.pdf' };

function view(c: TestChannel) {
  return c.sim.outbox().map((e) => ({
    via: e.via,
    msgtype: e.msgtype,
    text: e.text,
    attachments: e.attachments?.map((a) => `${a.type}:${a.name}:${a.size}`),
  }));
}

describe('attachments through the session webhook', () => {
  it('a DM: the text, the image as a markdown image, the file as sampleFile, in order', async () => {
    const c = await start(reply('Here is the report.', () => [chart(), report]));
    const { event } = c.inject({ conversationType: '1', sender: DM_SENDER, text: 'report?' });
    expect(await c.handle(event)).toEqual({ status: 'handled' });
    const uploads = c.sim.uploads();
    expect(uploads.map((u) => `${u.type}:${u.name}`)).toEqual([
      'image:chart.png',
      'file:report.pdf',
    ]);
    expect(view(c)).toEqual([
      { via: 'webhook', msgtype: 'markdown', text: 'Here is the report.', attachments: undefined },
      {
        via: 'webhook',
        msgtype: 'markdown',
        text: `![chart.png](${uploads[0]!.mediaId})`,
        attachments: [`image:chart.png:${TINY_PNG.length}`],
      },
      {
        via: 'openapi',
        msgtype: 'file',
        text: 'report.pdf',
        attachments: [`file:report.pdf:${PDF.length}`],
      },
    ]);
    expect(JSON.parse(String((c.sim.outbox()[2]!.raw as { msgParam: string }).msgParam))).toEqual({
      mediaId: uploads[1]!.mediaId,
      fileName: 'report.pdf',
      fileType: 'pdf',
    });
    expect(files!.hits.get('/chart.png')).toBe(1);
  });

  it('a group: the text @-mentions the sender, the image by webhook, the file to the group', async () => {
    const c = await start(reply('For the team.', () => [chart(), report]));
    const { event, conversationId } = c.inject({
      conversationType: '2',
      conversationTitle: 'Ops',
      sender: GROUP_SENDER,
      text: 'share',
    });
    expect(await c.handle(event)).toEqual({ status: 'handled' });
    expect(c.sim.outbox().map((e) => [e.via, e.msgtype, e.conversationId, e.atUserIds])).toEqual([
      ['webhook', 'markdown', conversationId, [GROUP_SENDER.staffId]],
      ['webhook', 'markdown', conversationId, undefined],
      ['openapi', 'file', conversationId, undefined],
    ]);
    expect(c.sim.outbox()[1]!.attachments).toHaveLength(1);
  });

  it('markdown image links in the text pass through: nothing is fetched or uploaded', async () => {
    const text = 'Look: ![chart](https://img.example.com/chart.png)';
    const c = await start(() => ({ text }));
    const { event } = c.inject({ conversationType: '1', sender: DM_SENDER, text: 'chart?' });
    expect(await c.handle(event)).toEqual({ status: 'handled' });
    expect(c.sim.outbox().map((e) => e.text)).toEqual([text]);
    expect(c.sim.stats().uploads).toBe(0);
  });
});

describe('attachments through the OpenAPI (the webhook expired)', () => {
  it('a DM: sampleMarkdown, sampleImageMsg, sampleFile to the sender', async () => {
    const c = await start(reply('Done.', () => [chart(), report]));
    const { event } = c.inject({
      conversationType: '1',
      sender: DM_SENDER,
      text: 'late',
      createAt: Date.now() - TWO_HOURS,
    });
    expect(await c.handle(event)).toEqual({ status: 'handled' });
    const [image, file] = c.sim.uploads();
    expect(c.sim.outbox().map((e) => [e.via, e.msgtype, e.userIds])).toEqual([
      ['openapi', 'markdown', ['manager807']],
      ['openapi', 'image', ['manager807']],
      ['openapi', 'file', ['manager807']],
    ]);
    expect(c.sim.outbox()[1]!.text).toBe(image!.mediaId);
    expect(c.sim.outbox()[2]!.attachments).toEqual([
      {
        type: 'file',
        mediaId: file!.mediaId,
        name: 'report.pdf',
        size: PDF.length,
        contentType: 'application/octet-stream',
      },
    ]);
  });

  it('a group: every part goes to groupMessages/send, the text @-mentions the sender', async () => {
    const c = await start(reply('Charts attached.', () => [chart(), report]));
    const { event, conversationId } = c.inject({
      conversationType: '2',
      conversationTitle: 'Ops',
      sender: GROUP_SENDER,
      text: 'charts',
      createAt: Date.now() - TWO_HOURS,
    });
    expect(await c.handle(event)).toEqual({ status: 'handled' });
    expect(c.sim.outbox().map((e) => [e.via, e.msgtype, e.conversationId])).toEqual([
      ['openapi', 'markdown', conversationId],
      ['openapi', 'image', conversationId],
      ['openapi', 'file', conversationId],
    ]);
    expect(c.sim.outbox()[0]!.text).toBe(`Charts attached. @${GROUP_SENDER.staffId}`);
  });
});

describe('attachments that cannot be sent', () => {
  it('too large, a failed fetch, a refused upload: notes in the text, the rest goes out', async () => {
    const c = await start(
      reply('Three files.', () => [
        { type: 'file', url: files!.url('/huge.pdf') },
        { type: 'file', url: files!.url('/gone.pdf') },
        { type: 'image', base64: TINY_PNG.toString('base64'), name: 'refused.png' },
        chart(),
        { type: 'file', name: 'broken' },
      ]),
    );
    // The first upload made is the base64 image: DingTalk refuses its size.
    c.sim.addFaults({ upload: { errcode: 40006 } });
    const { event } = c.inject({ conversationType: '1', sender: DM_SENDER, text: 'files' });
    expect(await c.handle(event)).toEqual({ status: 'handled' });
    const sent = view(c);
    expect(sent.map((e) => e.msgtype)).toEqual(['markdown', 'markdown']);
    expect(sent[0]!.text).toBe(
      [
        'Three files.',
        '(file huge.pdf could not be sent: larger than 20 MB)',
        '(file gone.pdf could not be sent: it could not be fetched (HTTP 404))',
        '(image refused.png could not be sent: DingTalk refused its size)',
        '(file broken could not be sent: attachments[4] needs exactly one of url and base64)',
      ].join('\n\n'),
    );
    expect(sent[1]!.attachments).toEqual([`image:chart.png:${TINY_PNG.length}`]);
    const failures = c.logger.lines.filter((l) => l.event === 'reply.attachment_failed');
    expect(failures.map((l) => l.reason)).toEqual([
      'larger than 20 MB',
      'it could not be fetched (HTTP 404)',
      'DingTalk refused its size',
      'attachments[4] needs exactly one of url and base64',
    ]);
  });

  it('only attachments, all failing: the notes alone are the reply', async () => {
    const c = await start(reply('', () => [{ type: 'image', url: files!.url('/gone.pdf') }]));
    const { event } = c.inject({ conversationType: '1', sender: DM_SENDER, text: 'x' });
    expect(await c.handle(event)).toEqual({ status: 'handled' });
    expect(c.sim.outbox().map((e) => e.text)).toEqual([
      '(image gone.pdf could not be sent: it could not be fetched (HTTP 404))',
    ]);
  });
});

describe('a retry after a crash between sends', () => {
  /** What a killed invocation leaves: a claim whose lease ran out. */
  async function deadClaim(c: TestChannel, event: MessageEvent) {
    const message = parseRobotMessage(event.data, { messageId: event.messageId });
    const result = await claimMessage(
      c.store,
      'default',
      message.msgId,
      Date.now(),
      Date.now() + 60_000,
    );
    if (!result.claimed) throw new Error('setup: the claim should be new');
    return result.claim;
  }

  it('sends only the parts never attempted: no attachment twice, none lost, no new upload', async () => {
    const c = await start(reply('unused', () => []));
    const { event, msgId } = c.inject({ conversationType: '1', sender: DM_SENDER, text: 'q' });
    const api = c.rt.apiFor(c.rt.config.accounts[0]!);
    const imageId = await api.uploadMedia({ type: 'image', bytes: TINY_PNG, fileName: 'a.png' });
    const fileId = await api.uploadMedia({ type: 'file', bytes: PDF, fileName: 'b.pdf' });
    const claim = await deadClaim(c, event);
    await claim.storeReply('the text', {
      attachments: [
        { type: 'image', name: 'a.png', mediaId: imageId, fileType: 'png', size: TINY_PNG.length },
        { type: 'file', name: 'b.pdf', mediaId: fileId, fileType: 'pdf', size: PDF.length },
      ],
    });
    // The text went out, then the image's send started (it may have landed): then the crash.
    await claim.sending(0);
    claim.settled(0, true);
    await claim.sending(1);
    const later = { ...c.rt, now: () => Date.now() + 61_000 };
    expect(await handleMessageEvent(later, event, { deadline: Date.now() + 91_000 })).toEqual({
      status: 'handled',
      reason: 'resumed',
    });
    expect(agent!.requests).toHaveLength(0);
    expect(c.sim.stats().uploads).toBe(2);
    expect(view(c)).toEqual([
      { via: 'openapi', msgtype: 'file', text: 'b.pdf', attachments: [`file:b.pdf:${PDF.length}`] },
    ]);
    expect(c.logger.lines.find((l) => l.event === 'reply.ambiguous_skipped')).toMatchObject({
      chunks: [1, 2],
    });
    const key = keys.dedupClaim('default', msgId);
    expect(await c.store.get(key.pk, key.sk)).toMatchObject({ status: 'COMPLETED' });
  });

  it('a retryable failure on the file: the retry sends the file only', async () => {
    const c = await start(reply('text first', () => [chart(), report]));
    const { event } = c.inject({ conversationType: '1', sender: DM_SENDER, text: 'q' });
    // The file's batchSend answers 500 (DingTalk said "not sent"): the message is retried.
    c.sim.addFaults({
      openapi: {
        status: 500,
        code: 'ServiceUnavailable',
        path: '/v1.0/robot/oToMessages/batchSend',
      },
    });
    await expect(c.handle(event)).rejects.toMatchObject({ retryable: true });
    expect(view(c).map((e) => e.msgtype)).toEqual(['markdown', 'markdown']);
    expect(await c.handle(event)).toEqual({ status: 'handled', reason: 'resumed' });
    expect(view(c).map((e) => e.msgtype)).toEqual(['markdown', 'markdown', 'file']);
    expect(agent!.requests).toHaveLength(1);
    expect(c.sim.stats().uploads).toBe(2);
  });
});

describe('attachments after an AI card (replyMode card)', () => {
  const CARD = { replyMode: 'card', card: { maxCalls: 5, minIntervalMs: 100, thinkingDelayMs: 0 } };

  it('the text goes into the card, the image and the file follow it, once each', async () => {
    const c = await start(
      reply('Here is the report.', () => [chart(), report]),
      CARD,
    );
    const { event } = c.inject({ conversationType: '1', sender: DM_SENDER, text: 'report?' });
    expect(await c.handle(event)).toEqual({ status: 'handled' });
    const [card, ...others] = c.sim.cards();
    expect(others).toEqual([]);
    expect(card!.state).toBe('finished');
    expect(card!.params.msgContent).toBe('Here is the report.');
    expect(view(c).map((v) => [v.via, v.msgtype, v.attachments])).toEqual([
      ['webhook', 'markdown', [`image:chart.png:${TINY_PNG.length}`]],
      ['openapi', 'file', [`file:report.pdf:${PDF.length}`]],
    ]);
    // A redelivery sends nothing again.
    expect(await c.handle(event)).toMatchObject({ status: 'duplicate' });
    expect(c.sim.outbox()).toHaveLength(2);
    expect(c.sim.uploads()).toHaveLength(2);
  });

  it('an attachment that cannot be sent is a note in the card; the others still go', async () => {
    const c = await start(
      reply('Two files.', () => [{ type: 'file', url: files!.url('/gone.pdf') }, report]),
      CARD,
    );
    await c.handle(c.inject({ conversationType: '1', sender: DM_SENDER, text: 'files?' }).event);
    const [card] = c.sim.cards();
    expect(card!.params.msgContent).toMatch(/^Two files\.\n\n.*gone\.pdf could not be sent/s);
    expect(view(c).map((v) => v.msgtype)).toEqual(['file']);
  });
});
