/**
 * Payload shapes other open-source DingTalk bots record in their tests and parsers, rewritten
 * here in our own words (ids and texts are ours; only the shape facts carry over). Each entry
 * names where the shape was seen and what the agent must receive for it. The README's
 * "Protocol notes" lists how these differ from dingtalk-protocol.md §3/§4.
 *
 * SOIMY = soimy/openclaw-channel-dingtalk (tests/unit/message-utils.test.ts,
 * tests/unit/message-utils-advanced.test.ts, src/types.ts); DTAI =
 * DingTalk-Real-AI/dingtalk-openclaw-connector (tests/message-extract/message-extract.test.ts,
 * src/core/message-handler.ts).
 */

/** The part of a payload a fixture is about; `envelope()` adds the rest. */
export interface RecordedShape {
  name: string;
  source: string;
  /** Fields merged over the envelope; `undefined` values remove an envelope field. */
  body: Record<string, unknown>;
  /** Substrings the agent's user turn must contain (text model, quote block included). */
  expectText: string[];
  /** Media items the agent must see, by kind. */
  expectMedia?: string[];
}

export const BOT_ID = '$:LWCP_v1:$recordedBot0001';
const USER_ID = '$:LWCP_v1:$recordedUser0001';
const QUOTED = (repliedMsg: Record<string, unknown>, content = 'about this') => ({
  msgtype: 'text',
  text: { content, isReplyMsg: true, repliedMsg },
});

export const RECORDED_SHAPES: RecordedShape[] = [
  {
    name: 'own richText: text, an @ by name and a picture',
    source: 'SOIMY tests/unit/message-utils.test.ts',
    body: {
      msgtype: 'richText',
      content: {
        richText: [
          { type: 'text', text: 'look ' },
          { type: 'at', atName: 'Tom' },
          { type: 'picture', downloadCode: 'rec-pic-1' },
        ],
      },
    },
    expectText: ['look @Tom'],
    expectMedia: ['picture'],
  },
  {
    name: 'a quote without msgType: content.text only',
    source: 'SOIMY tests/unit/message-utils.test.ts',
    body: QUOTED({ msgId: 'rec-q-1', content: { text: 'the quoted words' } }),
    expectText: ['the quoted words', 'about this'],
  },
  {
    name: 'a quoted picture',
    source: 'SOIMY tests/unit/message-utils.test.ts',
    body: QUOTED({ msgType: 'picture', content: { downloadCode: 'rec-pic-2' } }),
    expectText: ['[picture]', 'about this'],
  },
  {
    name: 'a quoted unknownMsgType (how a quoted file/video/voice can arrive), no content',
    source: 'SOIMY tests/unit/message-utils.test.ts',
    body: QUOTED({ msgType: 'unknownMsgType', msgId: 'rec-q-2', createdAt: 1772817989679 }),
    expectText: ['[a message type DingTalk does not pass to bots]'],
  },
  {
    name: 'a quoted file with spaceId, fileName, downloadCode, fileId',
    source: 'SOIMY tests/unit/message-utils.test.ts',
    body: QUOTED({
      msgType: 'file',
      msgId: 'rec-q-3',
      content: {
        spaceId: '1001',
        fileName: 'plan.pdf',
        downloadCode: 'rec-file-1',
        fileId: '2002',
      },
    }),
    expectText: ['[file: plan.pdf]'],
  },
  {
    name: 'a quoted audio whose duration is a string',
    source: 'SOIMY tests/unit/message-utils.test.ts',
    body: QUOTED({ msgType: 'audio', content: { duration: '2000', downloadCode: 'rec-aud-1' } }),
    expectText: ['[audio]'],
  },
  {
    name: "a quote of the bot's own card: type and sender only, plus originalProcessQueryKey",
    source: 'SOIMY tests/unit/message-utils.test.ts',
    body: {
      ...QUOTED({ senderId: BOT_ID, msgType: 'interactiveCard' }),
      originalProcessQueryKey: 'rec-pqk-1',
    },
    expectText: ['> Quoting your earlier reply:', '[a card the bot sent earlier]'],
  },
  {
    name: "a quote of a user's doc card (no content)",
    source: 'SOIMY tests/unit/message-utils.test.ts',
    body: QUOTED({ senderId: USER_ID, msgType: 'interactiveCard', msgId: 'rec-q-4' }),
    expectText: ['[shared card]'],
  },
  {
    name: 'quoted richText as {msgType, content}, a picture with its code on the item',
    source: 'SOIMY tests/unit/message-utils.test.ts',
    body: QUOTED({
      msgType: 'richText',
      content: {
        richText: [
          { msgType: 'text', content: '@Ada ' },
          { msgType: 'picture', downloadCode: 'rec-pic-3' },
          { msgType: 'text', content: 'second line' },
        ],
      },
    }),
    expectText: ['@Ada', 'second line', '[picture]'],
  },
  {
    name: 'a quoted richText without msgType, with an emoji item',
    source: 'SOIMY tests/unit/message-utils.test.ts',
    body: QUOTED({
      msgId: 'rec-q-5',
      content: {
        richText: [
          { msgType: 'text', content: 'hi ' },
          { msgType: 'emoji', content: '😀' },
          { msgType: 'at', atName: 'Tom' },
        ],
      },
    }),
    expectText: ['hi 😀 @Tom'],
  },
  {
    name: 'a quoted type nobody documents (location)',
    source: 'SOIMY tests/unit/message-utils.test.ts',
    body: QUOTED({ msgType: 'location' }),
    expectText: ['[unsupported message type: location]'],
  },
  {
    name: 'isReplyMsg without repliedMsg, only originalMsgId',
    source: 'SOIMY tests/unit/message-utils.test.ts',
    body: {
      msgtype: 'text',
      text: { content: 'this one', isReplyMsg: true },
      originalMsgId: 'rec-o-1',
    },
    expectText: ['[a quoted message that was not included]', 'this one'],
  },
  {
    name: 'a whitespace-only new text: the quote carries the turn',
    source: 'SOIMY tests/unit/message-utils.test.ts',
    body: QUOTED({ msgType: 'text', content: { text: 'can you see this?' } }, ' '),
    expectText: ['can you see this?'],
  },
  {
    name: 'a quoted chatRecord: summary and title only',
    source: 'SOIMY tests/unit/message-utils.test.ts',
    body: QUOTED({ msgType: 'chatRecord', content: { summary: 'a: hi\nb: hello', title: 'Chat' } }),
    expectText: ['[forwarded chat record: Chat]', 'a: hi'],
  },
  {
    name: 'a doc card share linking with dingtalk://',
    source: 'SOIMY tests/unit/message-utils.test.ts',
    body: {
      msgtype: 'interactiveCard',
      content: {
        biz_custom_action_url:
          'dingtalk://dingtalkclient/page/yunpan?route=previewDentry&spaceId=1&fileId=2&type=file',
      },
    },
    expectText: ['[shared card] dingtalk://dingtalkclient/page/yunpan?'],
  },
  {
    name: "another bot's markdown with a title",
    source: 'SOIMY tests/unit/message-utils-advanced.test.ts',
    body: { msgtype: 'markdown', content: { text: '## Wall\n\nnot bricks', title: 'Bot' } },
    expectText: ['## Wall', 'not bricks'],
  },
  {
    name: 'whitespace-only markdown',
    source: 'SOIMY tests/unit/message-utils-advanced.test.ts',
    body: { msgtype: 'markdown', content: { text: '   \n  ' } },
    expectText: ['[empty markdown message]'],
  },
  {
    name: 'no msgtype at all',
    source: 'DTAI tests/message-extract/message-extract.test.ts',
    body: { msgtype: undefined, text: { content: ' hello ' } },
    expectText: ['hello'],
  },
  {
    name: 'msgtype null',
    source: 'DTAI tests/message-extract/message-extract.test.ts',
    body: { msgtype: null, text: { content: 'hi' } },
    expectText: ['hi'],
  },
  {
    name: 'an unknown msgtype without content',
    source: 'DTAI tests/message-extract/message-extract.test.ts',
    body: { msgtype: 'unknownType' },
    expectText: ['[unsupported message type: unknownType]'],
  },
  {
    name: 'text with an at block inside text (atDingtalkIds, atMobiles)',
    source: 'DTAI tests/message-extract/message-extract.test.ts',
    body: {
      msgtype: 'text',
      text: { content: 'hi', at: { atDingtalkIds: ['d1'], atMobiles: ['1'] } },
    },
    expectText: ['hi'],
  },
  {
    name: 'an empty richText list',
    source: 'DTAI tests/message-extract/message-extract.test.ts',
    body: { msgtype: 'richText', content: { richText: [] } },
    expectText: ['[empty richText message]'],
  },
  {
    name: 'richText with a pictureUrl (a link, no download code)',
    source: 'DTAI tests/message-extract/message-extract.test.ts',
    body: {
      msgtype: 'richText',
      content: { richText: [{ pictureUrl: 'https://img.example/y.png' }] },
    },
    expectText: ['[empty richText message]'],
  },
  {
    name: 'a picture element with a caption in text',
    source: 'DTAI tests/message-extract/message-extract.test.ts',
    body: {
      msgtype: 'richText',
      content: { richText: [{ text: 'caption', type: 'picture', downloadCode: 'rec-pic-4' }] },
    },
    expectText: ['caption'],
    expectMedia: ['picture'],
  },
  {
    name: 'a picture with only pictureUrl',
    source: 'DTAI tests/message-extract/message-extract.test.ts',
    body: { msgtype: 'picture', content: { pictureUrl: 'https://img.example/p.png' } },
    expectText: ['[picture without a download code]'],
  },
  {
    name: 'audio without content; audio with recognition only',
    source: 'DTAI tests/message-extract/message-extract.test.ts',
    body: { msgtype: 'audio', content: { recognition: 'spoken words' } },
    expectText: ['spoken words'],
  },
  {
    name: 'video without content',
    source: 'DTAI tests/message-extract/message-extract.test.ts',
    body: { msgtype: 'video' },
    expectText: ['[video without a download code]'],
  },
  {
    name: 'a file with a name and no download code',
    source: 'DTAI tests/message-extract/message-extract.test.ts',
    body: { msgtype: 'file', content: { fileName: 'a.pdf' } },
    expectText: ['[file: a.pdf (no download code)]'],
  },
  {
    name: 'a nested quote inside the quoted content; repliedMsg.content as a JSON string',
    source: 'DTAI src/core/message-handler.ts (extractQuotedMsgText)',
    body: QUOTED({
      msgType: 'text',
      content: JSON.stringify({
        text: 'outer',
        isReplyMsg: true,
        repliedMsg: { msgType: 'text', content: { text: 'inner' } },
      }),
    }),
    expectText: ['outer', 'inner'],
  },
  {
    name: 'a quoted card whose link sits on repliedMsg itself',
    source: 'DTAI src/core/message-handler.ts (extractQuotedMsgText)',
    body: QUOTED({
      msgType: 'interactiveCard',
      senderId: USER_ID,
      biz_custom_action_url: 'https://docs.example/d/1',
    }),
    expectText: ['[shared card] https://docs.example/d/1'],
  },
];

/** A whole payload around `shape` (our own envelope: a DM from a same-org user). */
export function envelope(
  shape: RecordedShape,
  n: number,
  webhook: string,
): Record<string, unknown> {
  const base: Record<string, unknown> = {
    conversationId: `cidRecorded${n}==`,
    chatbotUserId: BOT_ID,
    msgId: `msgRecorded${String(n).padStart(4, '0')}==`,
    senderNick: 'Recorder',
    senderStaffId: `rec-user-${n}`,
    senderId: USER_ID,
    conversationType: '1',
    createAt: Date.now(),
    sessionWebhookExpiredTime: Date.now() + 90 * 60_000,
    sessionWebhook: webhook,
  };
  for (const [key, value] of Object.entries(shape.body)) {
    if (value === undefined) delete base[key];
    else base[key] = value;
  }
  return base;
}
