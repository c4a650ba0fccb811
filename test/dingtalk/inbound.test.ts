import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InboundParseError, parseRobotMessage } from '../../lib/dingtalk/inbound.js';
import { ChannelError } from '../../lib/errors.js';

// dingtalk-protocol.md §4.3 examples.
const DM_TEXT = {
  conversationId: 'cidJ8k435QAsxsxUvwst7NoMHCWTc0OaNCfYyGOsDesCH0=',
  chatbotCorpId: 'dingc5344d64bd47d252',
  chatbotUserId: '$:LWCP_v1:$Ye+/QnqHtPJ6FGksGAAsQyD+nsGwOaAd',
  msgId: 'msgMxpQ+qegFQ4MpgOyu0UFrQ==',
  senderNick: '张三',
  isAdmin: true,
  senderStaffId: 'manager807',
  sessionWebhookExpiredTime: 1769857097744,
  createAt: 1769851697611,
  senderCorpId: 'dingc5344d64bd47d252',
  conversationType: '1',
  senderId: '$:LWCP_v1:$Q3kq2vYc2l5hV0yJrUuS1w==',
  sessionWebhook:
    'https://oapi.dingtalk.com/robot/sendBySession?session=79b48f6f1e3a4c0d9c2b7e5a11c24d4b',
  robotCode: 'dingphtembyvlbeq2y4d',
  senderPlatform: 'Win',
  openThreadId: 'cidJ8k435QAsxsxUvwst7NoMHCWTc0OaNCfYyGOsDesCH0=',
  msgtype: 'text',
  text: { content: 'hello DingTalk!' },
};

const GROUP_TEXT = {
  conversationId: 'cidFbEwwavwcAsXDZbYqSBLnA==',
  atUsers: [
    { dingtalkId: '$:LWCP_v1:$25jBd/IW606RTMrGnMs9AuLMeuAztDrv' },
    { dingtalkId: '$:LWCP_v1:$k1Ql8dN0y3yH4m1cC0tq7A==', staffId: '0418245234' },
  ],
  chatbotCorpId: 'ding9f50b15bccd16741',
  chatbotUserId: '$:LWCP_v1:$25jBd/IW606RTMrGnMs9AuLMeuAztDrv',
  msgId: 'msgqEufncv9gVqy7ia60LYs3w==',
  senderNick: '骏隆',
  isAdmin: true,
  senderStaffId: '01426861-1254332033',
  sessionWebhookExpiredTime: 1769857097744,
  createAt: 1769851697611,
  senderCorpId: 'ding9f50b15bccd16741',
  conversationType: '2',
  senderId: '$:LWCP_v1:$+PxJZVhRkpC139mPH6L7aw==',
  conversationTitle: '机器人长链接事件测试群',
  isInAtList: true,
  sessionWebhook:
    'https://oapi.dingtalk.com/robot/sendBySession?session=2664f1467475bd90fcba36234c735997',
  text: { content: ' 帮我总结一下 @王五 ' },
  robotCode: 'dingphtembyvlbeq2y4d',
  msgtype: 'text',
};

const { text: _dmText, msgtype: _dmType, ...DM_COMMON } = DM_TEXT;

function dm(msgtype: string, content: unknown): Record<string, unknown> {
  return { ...DM_COMMON, msgtype, content };
}

function parseError(data: unknown, meta?: { messageId?: string }): InboundParseError {
  try {
    parseRobotMessage(data, meta);
  } catch (err) {
    expect(err).toBeInstanceOf(InboundParseError);
    return err as InboundParseError;
  }
  throw new Error('expected parseRobotMessage to throw');
}

describe('parseRobotMessage: msgtypes (dingtalk-protocol.md §4.2, §4.3)', () => {
  it('parses the DM text example, from the JSON string of the frame data', () => {
    const message = parseRobotMessage(JSON.stringify(DM_TEXT), {
      messageId: '212b9d7c_165f_19bfa1a500a_1461def',
      accountId: 'work',
    });
    expect(message).toEqual({
      accountId: 'work',
      messageId: '212b9d7c_165f_19bfa1a500a_1461def',
      msgId: 'msgMxpQ+qegFQ4MpgOyu0UFrQ==',
      msgtype: 'text',
      conversationType: 'dm',
      conversationId: 'cidJ8k435QAsxsxUvwst7NoMHCWTc0OaNCfYyGOsDesCH0=',
      sender: {
        id: 'manager807',
        staffId: 'manager807',
        nick: '张三',
        corpId: 'dingc5344d64bd47d252',
      },
      text: 'hello DingTalk!',
      media: [],
      isInAtList: false,
      atUserIds: [],
      createAt: 1769851697611,
      sessionWebhook: DM_TEXT.sessionWebhook,
      sessionWebhookExpiredTime: 1769857097744,
      robotCode: 'dingphtembyvlbeq2y4d',
      chatbotUserId: DM_TEXT.chatbotUserId,
    });
  });

  it('parses the group example: leading space trimmed, bot excluded from the mentions', () => {
    const message = parseRobotMessage(GROUP_TEXT);
    expect(message.conversationType).toBe('group');
    expect(message.conversationTitle).toBe('机器人长链接事件测试群');
    expect(message.text).toBe('帮我总结一下 @王五');
    expect(message.isInAtList).toBe(true);
    expect(message.atUserIds).toEqual(['0418245234']);
    expect(message.sender.id).toBe('01426861-1254332033');
  });

  it('joins richText text elements, renders @ elements and turns pictures into media', () => {
    const message = parseRobotMessage(
      dm('richText', {
        richText: [
          { text: '这个问题示例图如下：' },
          {
            pictureDownloadCode: 'pWjA8y1cZq0cJ3sSjIg',
            downloadCode: 'mIofN681YE3f7A==',
            type: 'picture',
          },
          { type: 'text', text: '通过以上示意图可以明白完整的交互流程' },
          { type: 'at', atName: '王五', atUserId: '0418245234' },
          42,
          { type: 'picture' },
          { type: 'video', downloadCode: 'x' },
        ],
      }),
    );
    expect(message.text).toBe('这个问题示例图如下：\n通过以上示意图可以明白完整的交互流程 @王五');
    expect(message.media).toEqual([{ kind: 'picture', downloadCode: 'mIofN681YE3f7A==' }]);
  });

  it('picture: empty text, the media carries the download code', () => {
    const message = parseRobotMessage(
      dm('picture', { pictureDownloadCode: 'pWjAhXo1Wks=', downloadCode: 'mIofN681YE3fJE0E' }),
    );
    expect(message.text).toBe('');
    expect(message.media).toEqual([{ kind: 'picture', downloadCode: 'mIofN681YE3fJE0E' }]);
  });

  it('audio: the recognition is the text, the media keeps the download code', () => {
    const message = parseRobotMessage(
      dm('audio', {
        downloadCode: 'mIofN681YE3f7g==',
        recognition: '钉钉PaaS开放中心，致力为企业……',
      }),
    );
    expect(message.text).toBe('钉钉PaaS开放中心，致力为企业……');
    expect(message.media).toEqual([
      {
        kind: 'audio',
        downloadCode: 'mIofN681YE3f7g==',
        recognition: '钉钉PaaS开放中心，致力为企业……',
      },
    ]);
  });

  it('video: duration (a string on the wire) becomes seconds, videoType kept', () => {
    const message = parseRobotMessage(
      dm('video', { duration: '5', videoType: 'mp4', downloadCode: 'mIofSaqP' }),
    );
    expect(message.text).toBe('');
    expect(message.media).toEqual([
      { kind: 'video', downloadCode: 'mIofSaqP', duration: 5, videoType: 'mp4' },
    ]);
  });

  it('file: keeps the file name', () => {
    const message = parseRobotMessage(
      dm('file', {
        spaceId: '22345573',
        fileName: 'foobar.zip',
        downloadCode: 'LJYYbw==',
        fileId: '117848',
      }),
    );
    expect(message.media).toEqual([
      { kind: 'file', downloadCode: 'LJYYbw==', fileName: 'foobar.zip' },
    ]);
  });

  it('markdown: content.text', () => {
    const message = parseRobotMessage(dm('markdown', { title: 't', text: '  **hi** ' }));
    expect(message.text).toBe('**hi**');
  });

  it('unknownMsgType and other types become a short placeholder, never a crash', () => {
    const unknown = parseRobotMessage(
      dm('unknownMsgType', { unknownMsgType: '用户发送了一条消息，机器人暂不支持接收。' }),
    );
    expect(unknown.text).toBe('[a message type DingTalk does not pass to bots]');
    expect(parseRobotMessage(dm('chatRecord', 'not an object')).text).toBe(
      '[forwarded chat record]',
    );
    expect(parseRobotMessage(dm('newFancyType', {})).text).toBe(
      '[unsupported message type: newFancyType]',
    );
  });

  it('media without a download code is skipped, not fatal', () => {
    expect(parseRobotMessage(dm('picture', {})).media).toEqual([]);
    expect(parseRobotMessage(dm('file', null)).media).toEqual([]);
  });

  it('quote-replies expose the quoted text separately; the own text stays command-ready', () => {
    const message = parseRobotMessage({
      ...DM_TEXT,
      text: {
        content: '/status',
        isReplyMsg: true,
        repliedMsg: { msgType: 'text', content: { text: ' earlier answer ' } },
      },
    });
    expect(message.text).toBe('/status');
    expect(message.quote?.text).toBe('earlier answer');
    expect(parseRobotMessage(DM_TEXT).quote).toBeUndefined();
  });

  it('falls back to the encrypted senderId when senderStaffId is absent (external senders)', () => {
    const { senderStaffId: _s, ...external } = DM_TEXT;
    const message = parseRobotMessage(external);
    expect(message.sender.id).toBe('$:LWCP_v1:$Q3kq2vYc2l5hV0yJrUuS1w==');
    expect(message.sender.staffId).toBeUndefined();
  });

  it('accepts a numeric-string createAt and ignores unknown fields', () => {
    const message = parseRobotMessage({ ...DM_TEXT, createAt: '1769851697611', extra: { a: 1 } });
    expect(message.createAt).toBe(1769851697611);
  });
});

describe('parseRobotMessage: validation', () => {
  it('leaves out a sessionWebhook that is not an http(s) URL, and says so (the OpenAPI answers)', () => {
    for (const bad of ['not a url', 'javascript:alert(1)', 'ftp://oapi.dingtalk.com/x']) {
      const message = parseRobotMessage({ ...DM_TEXT, sessionWebhook: bad });
      expect(message.sessionWebhook).toBeUndefined();
      expect(message.ignored).toEqual(['sessionWebhook']);
    }
    const good = parseRobotMessage(DM_TEXT);
    expect(good.sessionWebhook).toBe(DM_TEXT.sessionWebhook);
    expect(good.ignored).toBeUndefined();
  });

  it.each([
    ['msgId', { msgId: undefined }, '`msgId` is missing'],
    ['msgId', { msgId: 7 }, '`msgId` must be a non-empty string'],
    ['conversationId', { conversationId: '' }, '`conversationId` must be a non-empty string'],
    ['conversationType', { conversationType: '3' }, '`conversationType` must be "1" (DM) or "2"'],
    ['createAt', { createAt: 'yesterday' }, '`createAt` must be a whole number'],
    ['createAt', { createAt: undefined }, '`createAt` is missing'],
    // Each of these once reached the state keys and failed there on every redelivery.
    ['createAt', { createAt: -1769851697611 }, '`createAt` must be a whole number'],
    ['createAt', { createAt: 1769851697611.5 }, '`createAt` must be a whole number'],
    ['createAt', { createAt: 1769851697611000 }, '(1 to 13 digits)'],
    ['msgId', { msgId: `msg${'x'.repeat(2100)}` }, '`msgId` is 2103 bytes long (at most 256)'],
    ['conversationId', { conversationId: `cid${'中'.repeat(100)}` }, 'is 303 bytes long'],
    ['senderStaffId', { senderStaffId: 'u'.repeat(300) }, '`senderStaffId` is 300 bytes long'],
    [
      'senderStaffId',
      { senderStaffId: undefined, senderId: undefined },
      '`senderId` are both missing',
    ],
    ['msgtype', { msgtype: ['text'] }, '`msgtype` must be a non-empty string'],
  ])('rejects a bad %s with an error naming it', (fieldName, patch, message) => {
    const error = parseError({ ...DM_TEXT, ...patch }, { messageId: 'm-1' });
    expect(error.field).toBe(fieldName);
    expect(error.message).toContain(message);
    expect(error.code).toBe('inbound_parse');
    expect(error.retryable).toBe(false);
    expect(error.messageId).toBe('m-1');
  });

  it('rejects non-JSON text and non-objects, keeping the size but not the content', () => {
    const secretish = '{"msgId": "x", "text": "my private words"';
    const error = parseError(secretish, { messageId: 'm-2' });
    expect(error.field).toBe('data');
    expect(error.message).toBe('robot message: `data` is not valid JSON');
    expect(error.rawSize).toBe(Buffer.byteLength(secretish));
    expect(error.cause).toBeUndefined();
    expect(JSON.stringify({ ...error, message: error.message })).not.toContain('private');
    expect(parseError('[1,2]').message).toContain('got an array');
    expect(parseError(null).message).toContain('got null');
    expect(parseError(42).message).toContain('got number');
  });

  it('records the msgId once it was readable', () => {
    const error = parseError({ ...DM_TEXT, createAt: null });
    expect(error.msgId).toBe(DM_TEXT.msgId);
    expect(error).toBeInstanceOf(ChannelError);
  });
});

describe('parseRobotMessage: never throws anything but InboundParseError (property)', () => {
  function parsesOrRejects(data: unknown): void {
    try {
      const message = parseRobotMessage(data);
      expect(typeof message.text).toBe('string');
      expect(Array.isArray(message.media)).toBe(true);
    } catch (err) {
      if (!(err instanceof InboundParseError)) throw err;
    }
  }

  it('arbitrary values', () => {
    fc.assert(
      fc.property(fc.anything({ withNullPrototype: true, withBigInt: true }), parsesOrRejects),
      {
        numRuns: 500,
      },
    );
  });

  it('arbitrary strings and JSON texts', () => {
    fc.assert(fc.property(fc.oneof(fc.string(), fc.json()), parsesOrRejects), { numRuns: 500 });
  });

  it('valid payloads with fields replaced by values of random types', () => {
    const base = { ...GROUP_TEXT, content: { richText: [{ text: 'a' }], downloadCode: 'd' } };
    const keys = Object.keys(base);
    const msgtypes = fc.constantFrom(
      'text',
      'richText',
      'picture',
      'audio',
      'video',
      'file',
      'markdown',
      'x',
    );
    const mutation = fc.record({
      msgtype: msgtypes,
      patch: fc.dictionary(fc.constantFrom(...keys, 'atUsers', 'isInAtList'), fc.anything(), {
        maxKeys: 4,
      }),
    });
    fc.assert(
      fc.property(mutation, ({ msgtype, patch }) => {
        parsesOrRejects({ ...base, msgtype, ...patch });
        parsesOrRejects(
          JSON.stringify({ ...base, msgtype, ...patch }, (_k, v) =>
            typeof v === 'bigint' ? 0 : v,
          ),
        );
      }),
      { numRuns: 500 },
    );
  });

  it('richText and content with elements of random shapes', () => {
    const element = fc.oneof(
      fc.anything(),
      fc.record({
        type: fc.constantFrom('text', 'at', 'picture', undefined, 3),
        text: fc.anything(),
        atName: fc.anything(),
        downloadCode: fc.anything(),
      }),
    );
    const content = fc.record({
      richText: fc.oneof(fc.array(element), fc.anything()),
      downloadCode: fc.anything(),
      duration: fc.anything(),
      recognition: fc.anything(),
      fileName: fc.anything(),
      text: fc.anything(),
    });
    const msgtypes = fc.constantFrom(
      'richText',
      'picture',
      'audio',
      'video',
      'file',
      'markdown',
      'text',
    );
    fc.assert(
      fc.property(msgtypes, content, fc.anything(), (msgtype, body, text) => {
        parsesOrRejects({ ...DM_COMMON, msgtype, content: body, text });
      }),
      { numRuns: 500 },
    );
  });
});
