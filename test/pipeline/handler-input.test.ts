/**
 * What the agent receives for each msgtype (dingtalk-protocol.md §4.2, channel-semantics.md §6),
 * end to end: simulator payload → real handler → real agent adapter → the fake server's request.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAgent } from '../../lib/agent/index.js';
import type { ApiCall } from '../../lib/dingtalk/api.js';
import { type InjectMessageInput, TINY_PNG } from '../../lib/simulator/index.js';
import { startTestChannel, type TestChannel } from '../support/channel.js';
import { type FakeAgentHttp, startFakeAgentHttp } from '../support/fake-agent-http.js';
import { chatOf, DM_SENDER, dm, GROUP_SENDER, groupMessage, type Rig, startRig } from './rig.js';

const PNG_DATA_URL = `data:image/png;base64,${TINY_PNG.toString('base64')}`;

/** Sends one message through the pipeline and returns the user turn the model received. */
async function userTurnFor(rig: Rig, input: InjectMessageInput): Promise<unknown> {
  const before = rig.ai.requests.length;
  const { event } = rig.ch.inject(input);
  expect(await rig.ch.handle(event)).toEqual({ status: 'handled' });
  expect(rig.ai.requests).toHaveLength(before + 1);
  const messages = chatOf(rig.ai.lastRequest());
  expect(messages.at(-1)?.role).toBe('user');
  return messages.at(-1)?.content;
}

describe('agent input per msgtype (text model)', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig();
  });
  afterAll(() => rig.close());

  // Every case has its own sender, so each request carries one user turn and no history.
  const cases: [string, InjectMessageInput, string][] = [
    ['DM text, trimmed', dm('  hello there \n'), 'hello there'],
    [
      'richText: text and a picture note',
      dm('', { sender: { staffId: 'u-rich' }, msgtype: 'richText', text: 'see this chart' }),
      'see this chart\n[picture]',
    ],
    ['picture', dm('', { sender: { staffId: 'u-pic' }, msgtype: 'picture' }), '[picture]'],
    [
      'audio: the speech recognition is the text',
      dm('', { sender: { staffId: 'u-voice' }, msgtype: 'audio', text: 'book a room at ten' }),
      'book a room at ten',
    ],
    ['video', dm('', { sender: { staffId: 'u-video' }, msgtype: 'video' }), '[video]'],
    [
      'file, with its name',
      dm('', {
        sender: { staffId: 'u-file' },
        msgtype: 'file',
        content: { fileName: 'report.pdf' },
      }),
      '[file: report.pdf]',
    ],
    [
      'unknown msgtype: a placeholder',
      dm('', {
        sender: { staffId: 'u-unknown' },
        msgtype: 'unknownMsgType',
        content: { unknownMsgType: '用户发送了一条消息，机器人暂不支持接收。' },
      }),
      '[a message type DingTalk does not pass to bots]',
    ],
  ];

  it.each(cases)('%s', async (_name, input, expected) => {
    expect(await userTurnFor(rig, input)).toBe(expected);
  });

  it('group text loses the leading space DingTalk leaves after removing @Bot', async () => {
    const { event } = rig.ch.inject(groupMessage('what is the plan?'));
    const payload = JSON.parse(event.data) as { text: { content: string } };
    expect(payload.text.content).toBe(' what is the plan?'); // as DingTalk sends it (§4.1)
    await rig.ch.handle(event);
    const request = rig.ai.lastRequest();
    expect(chatOf(request).at(-1)).toEqual({ role: 'user', content: 'what is the plan?' });
  });

  it('media for a text-only model costs no download call', () => {
    // The cases above sent a picture, richText, audio, video and a file.
    expect(rig.calls.map((c) => c.endpoint)).not.toContain('robot/messageFiles/download');
    expect(rig.paidCalls()).toEqual([]);
  });
});

describe('agent input for a vision model (AGENT_VISION)', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig({ vision: true });
  });
  afterAll(() => rig.close());

  it('carries a picture as a base64 data URL image part with the downloaded bytes', async () => {
    const content = await userTurnFor(rig, dm('', { msgtype: 'picture' }));
    expect(content).toEqual([{ type: 'image_url', image_url: { url: PNG_DATA_URL } }]);
    const downloads = rig.calls.filter((c) => c.endpoint === 'robot/messageFiles/download');
    expect(downloads).toEqual([{ endpoint: 'robot/messageFiles/download', paid: true }]);
  });

  it('sends richText as its text plus the picture part', async () => {
    const input = dm('', { sender: { staffId: 'u-rich2' }, msgtype: 'richText', text: 'look' });
    expect(await userTurnFor(rig, input)).toEqual([
      { type: 'text', text: 'look' },
      { type: 'image_url', image_url: { url: PNG_DATA_URL } },
    ]);
  });

  it('still sends a file as a note (only pictures are fetched)', async () => {
    const before = rig.paidCalls().length;
    const input = dm('', {
      sender: { staffId: 'u-file2' },
      msgtype: 'file',
      content: { fileName: 'a.txt' },
    });
    expect(await userTurnFor(rig, input)).toBe('[file: a.txt]');
    expect(rig.paidCalls().length).toBe(before);
  });
});

describe('agent input for the http agent', () => {
  let ch: TestChannel;
  let agent: FakeAgentHttp;
  const calls: ApiCall[] = [];
  afterEach(async () => {
    await ch?.close();
    await agent?.close();
    calls.length = 0;
  });

  async function start() {
    agent = await startFakeAgentHttp();
    ch = await startTestChannel({
      store: 'dynalite',
      agent: createAgent({ kind: 'http', httpUrl: agent.url }),
      runtime: { onApiCall: (c) => calls.push(c) },
    });
  }

  it('receives a temporary media URL that serves the picture bytes', async () => {
    await start();
    const { event, conversationId } = ch.inject(dm('', { msgtype: 'picture' }));
    await ch.handle(event);
    const body = agent.lastRequest().body;
    expect(body).toMatchObject({
      text: '',
      sessionKey: `dingtalk:default:dm:${DM_SENDER.staffId}`,
      sender: { id: DM_SENDER.staffId, nick: DM_SENDER.nick },
      conversation: { id: conversationId, type: 'dm' },
      media: [{ kind: 'picture', url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\//) }],
    });
    const url = body.media[0]?.url ?? '';
    expect(url.startsWith(ch.sim.url)).toBe(true);
    const download = await fetch(url);
    expect(Buffer.from(await download.arrayBuffer())).toEqual(TINY_PNG);
    expect(calls.filter((c) => c.paid).map((c) => c.endpoint)).toEqual([
      'robot/messageFiles/download',
    ]);
    expect(ch.sim.outbox()).toHaveLength(1);
  });

  it('receives a file URL with its name, and group context for a group message', async () => {
    await start();
    const file = ch.inject(
      dm('', { msgtype: 'file', content: { fileName: 'notes.txt' }, sender: { staffId: 'u9' } }),
    );
    await ch.handle(file.event);
    expect(agent.lastRequest().body.media).toEqual([
      {
        kind: 'file',
        url: expect.stringContaining('/__files/'),
        fileName: 'notes.txt',
        mimeType: null,
        status: 'ok',
        text: null,
      },
    ]);
    const group = ch.inject(groupMessage('  status please'));
    await ch.handle(group.event);
    expect(agent.lastRequest().body).toMatchObject({
      text: 'status please',
      sessionKey: `dingtalk:default:group:${group.conversationId}`,
      sender: { id: GROUP_SENDER.staffId },
      conversation: { id: group.conversationId, type: 'group', title: 'Pipeline team' },
      media: [],
    });
  });
});
