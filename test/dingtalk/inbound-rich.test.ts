/**
 * Issue 16: every payload shape reaches the agent as something, and quote-replies arrive as
 * structured context. Shapes follow dingtalk-protocol.md §4.2/§4.4 and the payload forms other
 * open-source DingTalk bots record (content as a JSON string, no msgtype, videoDownloadCode,
 * richText @ elements with userId).
 */
import { describe, expect, it } from 'vitest';
import { parseRobotMessage } from '../../lib/dingtalk/inbound.js';

const BOT = '$:LWCP_v1:$Ye+/QnqHtPJ6FGksGAAsQyD+nsGwOaAd';
const BASE = {
  conversationId: 'cidJ8k435QAsxsxUvwst7NoMHCWTc0OaNCfYyGOsDesCH0=',
  chatbotUserId: BOT,
  msgId: 'msgMxpQ+qegFQ4MpgOyu0UFrQ==',
  senderStaffId: 'manager807',
  senderNick: '张三',
  createAt: 1769851697611,
  conversationType: '1',
};

const parse = (extra: Record<string, unknown>) => parseRobotMessage({ ...BASE, ...extra });

describe('inbound shapes that used to reach the agent empty or not at all', () => {
  it('a payload without msgtype is a text message', () => {
    const message = parse({ text: { content: 'no type here' } });
    expect(message.msgtype).toBe('text');
    expect(message.text).toBe('no type here');
  });

  it('content delivered as a JSON string is read like an object', () => {
    const message = parse({
      msgtype: 'picture',
      content: JSON.stringify({ downloadCode: 'code-1', pictureDownloadCode: 'p-1' }),
    });
    expect(message.media).toEqual([{ kind: 'picture', downloadCode: 'code-1' }]);
  });

  it('a video whose code is only in videoDownloadCode keeps its media', () => {
    const message = parse({
      msgtype: 'video',
      content: { videoDownloadCode: 'vid-1', duration: '5', videoType: 'mp4' },
    });
    expect(message.media).toEqual([
      { kind: 'video', downloadCode: 'vid-1', duration: 5, videoType: 'mp4' },
    ]);
  });

  it('a richText @ element carrying userId renders as a mention', () => {
    const message = parse({
      msgtype: 'richText',
      content: {
        richText: [{ text: 'ask' }, { type: 'at', userId: 'wangwu01' }, { text: ' now' }],
      },
    });
    expect(message.text).toBe('ask @wangwu01 now');
  });

  it.each([
    [
      'empty richText',
      { msgtype: 'richText', content: { richText: [] } },
      '[empty richText message]',
    ],
    [
      'whitespace markdown',
      { msgtype: 'markdown', content: { text: '   ' } },
      '[empty markdown message]',
    ],
    ['empty text', { msgtype: 'text', text: { content: ' ' } }, '[empty text message]'],
    [
      'picture without code',
      { msgtype: 'picture', content: {} },
      '[picture without a download code]',
    ],
  ])('%s gets a readable placeholder', (_name, extra, placeholder) => {
    expect(parse(extra).text).toBe(placeholder);
  });

  it('chatRecord: title, summary and the records (JSON-string array), bounded', () => {
    const records = Array.from({ length: 25 }, (_, i) => ({
      senderNick: `u${i}`,
      msgType: 'text',
      content: `line ${i}`,
    }));
    const message = parse({
      msgtype: 'chatRecord',
      content: {
        title: '群聊的聊天记录',
        summary: 'u0: line 0',
        chatRecord: JSON.stringify(records),
      },
    });
    const lines = message.text.split('\n');
    expect(lines[0]).toBe('[forwarded chat record: 群聊的聊天记录]');
    expect(lines).toContain('u3: line 3');
    expect(lines).not.toContain('u20: line 20');
    expect(lines.at(-1)).toBe('[5 more records not shown]');
  });

  it('interactiveCard doc share: title and link', () => {
    const message = parse({
      msgtype: 'interactiveCard',
      content: { title: '周报', biz_custom_action_url: 'https://alidocs.dingtalk.com/i/nodes/abc' },
    });
    expect(message.text).toBe('[shared card: 周报] https://alidocs.dingtalk.com/i/nodes/abc');
  });
});

describe('quote-replies (§4.4)', () => {
  const reply = (repliedMsg: Record<string, unknown>, content = 'what about this?') =>
    parse({ msgtype: 'text', text: { content, isReplyMsg: true, repliedMsg } });

  it('a quoted text: sender, type and content, separate from the new text', () => {
    const message = reply({
      msgType: 'text',
      msgId: 'msgOld',
      senderId: '$:LWCP_v1:$other',
      createdAt: 1769851000000,
      content: { text: 'the old question' },
    });
    expect(message.text).toBe('what about this?');
    expect(message.quote).toEqual({
      msgtype: 'text',
      msgId: 'msgOld',
      senderId: '$:LWCP_v1:$other',
      createdAt: 1769851000000,
      fromBot: false,
      text: 'the old question',
      media: [],
    });
  });

  it('quoted richText uses {msgType, content} items; its pictures become media', () => {
    const message = reply({
      msgType: 'richText',
      content: {
        richText: [
          { msgType: 'text', content: 'see' },
          { msgType: 'picture', content: { downloadCode: 'qpic' } },
          { msgType: 'text', content: 'above' },
        ],
      },
    });
    expect(message.quote?.text).toBe('see\nabove');
    expect(message.quote?.media).toEqual([{ kind: 'picture', downloadCode: 'qpic' }]);
  });

  it('a quoted picture and file carry download references', () => {
    expect(reply({ msgType: 'picture', content: { downloadCode: 'c1' } }).quote?.media).toEqual([
      { kind: 'picture', downloadCode: 'c1' },
    ]);
    expect(
      reply({ msgType: 'file', content: { downloadCode: 'c2', fileName: 'a.pdf' } }).quote?.media,
    ).toEqual([{ kind: 'file', downloadCode: 'c2', fileName: 'a.pdf' }]);
  });

  it("a quote of the bot's own card is marked as the bot's and readable", () => {
    const quote = reply({ msgType: 'interactiveCard', senderId: BOT, content: {} }).quote;
    expect(quote).toMatchObject({ fromBot: true, text: '[a card the bot sent earlier]' });
    const userCard = reply({
      msgType: 'interactiveCard',
      senderId: '$:LWCP_v1:$other',
      content: { biz_custom_action_url: 'https://alidocs.dingtalk.com/x' },
    }).quote;
    expect(userCard).toMatchObject({
      fromBot: false,
      text: '[shared card] https://alidocs.dingtalk.com/x',
    });
  });

  it('nested quotes are followed a few levels deep, no further', () => {
    let replied: Record<string, unknown> = { msgType: 'text', content: { text: 'level 5' } };
    for (let level = 4; level >= 1; level--) {
      replied = { msgType: 'text', content: { text: `level ${level}` }, repliedMsg: replied };
    }
    const quote = reply(replied).quote;
    expect(quote?.text).toBe('level 1');
    expect(quote?.quote?.text).toBe('level 2');
    expect(quote?.quote?.quote?.text).toBe('level 3');
    expect(quote?.quote?.quote?.quote).toBeUndefined();
  });

  it('an empty new text lets the quote carry the turn (no placeholder)', () => {
    const message = reply({ msgType: 'text', content: { text: 'this one' } }, '  ');
    expect(message.text).toBe('');
    expect(message.quote?.text).toBe('this one');
  });

  it('the legacy quoteMessage shape, including a quote of the bot', () => {
    const message = parse({
      msgtype: 'text',
      text: { content: 'and?' },
      quoteMessage: {
        msgId: 'm0',
        msgtype: 'text',
        text: { content: 'bot said' },
        senderId: BOT,
        senderNick: 'Bot',
      },
    });
    expect(message.quote).toMatchObject({
      fromBot: true,
      text: 'bot said',
      senderNick: 'Bot',
      msgId: 'm0',
    });
  });
});
