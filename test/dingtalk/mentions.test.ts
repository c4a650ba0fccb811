/**
 * Agent-chosen @-mentions (issue 16, lib/dingtalk/mentions.ts) and the at block of each formatted
 * message: the at block and the text agree both ways (dingtalk-protocol.md §5), unknown ids stay
 * plain text, DMs mention nobody, and chunking gives each message the ids its own text mentions.
 */
import { describe, expect, it } from 'vitest';
import { parseRobotMessage } from '../../lib/dingtalk/inbound.js';
import {
  knownStaffIds,
  mentions,
  mentionTokens,
  settleMentions,
} from '../../lib/dingtalk/mentions.js';
import { formatReply } from '../../lib/dingtalk/reply-format.js';

describe('mentions in text', () => {
  it('finds @<id> as a token, not inside e-mail addresses or longer ids', () => {
    expect(mentions('ping @u-1 now', 'u-1')).toBe(true);
    expect(mentions('@u-1', 'u-1')).toBe(true);
    expect(mentions('(@u-1)', 'u-1')).toBe(true);
    expect(mentions('mail bob@u-1', 'u-1')).toBe(false);
    expect(mentions('@u-12', 'u-1')).toBe(false);
    expect(mentions('@u-1_x', 'u-1')).toBe(false);
    expect(mentionTokens('hi @a, @b and x@c; @a again')).toEqual(['a', 'b']);
  });
});

describe('ids known in the conversation', () => {
  it('the sender, atUsers staffIds (bot excluded), richText @ userIds and earlier senders', () => {
    const message = parseRobotMessage({
      msgId: 'm1',
      conversationId: 'cid1',
      conversationType: '2',
      senderStaffId: 'sender1',
      createAt: 1769851697611,
      chatbotUserId: 'bot',
      atUsers: [{ dingtalkId: 'bot' }, { dingtalkId: 'x', staffId: 'lead1' }],
      msgtype: 'richText',
      content: { richText: [{ type: 'at', atName: 'Ada', atUserId: 'ada7' }, { text: ' hi' }] },
    });
    expect(message.mentionedUserIds).toEqual(['ada7']);
    expect(knownStaffIds(message, ['old3', 'bad id'])).toEqual([
      'sender1',
      'lead1',
      'ada7',
      'old3',
    ]);
  });
});

describe('settleMentions', () => {
  const group = { conversationType: 'group' as const, senderStaffId: 'sender1' };

  it('keeps known ids written in the text; unknown ones stay plain text', () => {
    const settled = settleMentions('ask @lead1 or @stranger', { ...group, known: ['lead1'] });
    expect(settled).toEqual({ text: 'ask @lead1 or @stranger', mentionIds: ['lead1'] });
  });

  it('appends structured mentions the text lacks, once, and trusts them without being known', () => {
    const settled = settleMentions('done.', {
      ...group,
      known: [],
      structured: ['ops-9', 'ops-9', 'bad id!'],
    });
    expect(settled).toEqual({ text: 'done.\n\n@ops-9', mentionIds: ['ops-9'] });
  });

  it('leaves the sender to the formatter, and a DM or an empty reply untouched', () => {
    expect(
      settleMentions('thanks @sender1', { ...group, known: ['sender1'], structured: ['sender1'] }),
    ).toEqual({ text: 'thanks @sender1', mentionIds: [] });
    expect(
      settleMentions('hi @lead1', { conversationType: 'dm', known: ['lead1'], structured: ['x'] }),
    ).toEqual({ text: 'hi @lead1', mentionIds: [] });
    expect(settleMentions('NO_REPLY', { ...group, known: [], structured: ['x'] }).text).toBe(
      'NO_REPLY',
    );
  });
});

describe('formatReply at blocks', () => {
  it('names the sender and every id the message text mentions, and nothing else', () => {
    const [chunk] = formatReply('tell @lead_1 about it, cc @nobody', {
      limit: 4000,
      mode: 'length',
      mentionStaffId: 'sender1',
      mentionIds: ['lead_1', 'absent-2'],
    });
    expect(chunk?.atUserIds).toEqual(['sender1', 'lead_1']);
    for (const id of chunk!.atUserIds) expect(mentions(chunk!.text, id)).toBe(true);
    expect(chunk?.text).toContain('@lead_1'); // markdown conversion keeps the id intact
  });

  it('after chunking, each message names only the ids its own text mentions', () => {
    const long = `@early1 ${'word '.repeat(300)}\n\n${'more '.repeat(300)} @late2`;
    const chunks = formatReply(long, {
      limit: 900,
      mode: 'length',
      mentionStaffId: 'sender1',
      mentionIds: ['early1', 'late2'],
    });
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks[0]?.atUserIds).toEqual(['sender1', 'early1']);
    expect(chunks.at(-1)?.atUserIds).toEqual(['sender1', 'late2']);
    for (const chunk of chunks) {
      for (const id of chunk.atUserIds) expect(mentions(chunk.text, id)).toBe(true);
      for (const id of ['early1', 'late2']) {
        expect(chunk.atUserIds.includes(id)).toBe(mentions(chunk.text, id));
      }
    }
  });

  it('does not append the sender twice when the agent mentioned them already', () => {
    const [chunk] = formatReply('@sender1 here you go', {
      limit: 4000,
      mode: 'length',
      mentionStaffId: 'sender1',
    });
    expect(chunk?.text).toBe('@sender1 here you go');
    expect(chunk?.atUserIds).toEqual(['sender1']);
  });
});
