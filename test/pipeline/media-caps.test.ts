/**
 * Issue 16: media cost is bounded. One admitted richText with 500 pictures makes at most
 * `maxMediaDownloads` paid `messageFiles/download` calls; the rest reach the agent as "not
 * downloaded". A dropped message downloads nothing. Runs against the simulator and the fake
 * OpenAI-compatible server through the real openai adapter (vision on: bytes are fetched).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { chatOf, dm, groupMessage, type Rig, startRig } from './rig.js';

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

const downloads = (r: Rig) =>
  r.paidCalls().filter((c) => c.endpoint.includes('messageFiles/download')).length;

describe('media caps', () => {
  it('500 pictures → at most the cap in download calls, the rest listed as not downloaded', async () => {
    rig = await startRig({ vision: true });
    const richText = [
      { text: 'five hundred screenshots' },
      ...Array.from({ length: 500 }, () => ({ type: 'picture' })),
    ];
    const { event } = rig.ch.inject(dm('', { msgtype: 'richText', content: { richText } }));
    expect(await rig.ch.handle(event)).toEqual({ status: 'handled' });
    expect(downloads(rig)).toBe(4);
    expect(rig.ai.requests).toHaveLength(1);
    const user = chatOf(rig.ai.requests[0]).at(-1)!;
    const parts = user.content as { type: string; text?: string }[];
    expect(parts.filter((p) => p.type === 'image_url')).toHaveLength(4);
    const text = parts.find((p) => p.type === 'text')?.text ?? '';
    expect(text.match(/\[picture \(not downloaded: over the per-message limit\)\]/g)).toHaveLength(
      496,
    );
  });

  it('a dropped message (group, bot not mentioned) downloads nothing', async () => {
    rig = await startRig({ vision: true });
    const { event } = rig.ch.inject(
      groupMessage('', {
        msgtype: 'richText',
        atBot: false,
        content: { richText: [{ type: 'picture' }] },
      }),
    );
    await rig.ch.handle(event);
    expect(rig.ai.requests).toHaveLength(0);
    expect(downloads(rig)).toBe(0);
  });
});

describe('quote-replies reach the agent (issue 16)', () => {
  it("the quoted message is context before the new text; a failed quoted download doesn't cost the turn", async () => {
    rig = await startRig({ vision: true });
    const { event } = rig.ch.inject(
      dm('', {
        extra: {
          text: {
            content: 'is this fixed?',
            isReplyMsg: true,
            repliedMsg: {
              msgType: 'richText',
              senderNick: 'Li Si',
              content: {
                richText: [
                  { msgType: 'text', content: 'the crash' },
                  // A code the simulator never minted: messageFiles/download refuses it.
                  { msgType: 'picture', content: { downloadCode: 'expired-code' } },
                ],
              },
            },
          },
        },
      }),
    );
    expect(await rig.ch.handle(event)).toEqual({ status: 'handled' });
    expect(downloads(rig)).toBe(1); // tried, refused, and the turn went on
    expect(rig.ai.requests).toHaveLength(1);
    const user = JSON.stringify(chatOf(rig.ai.requests[0]).at(-1));
    expect(user).toContain('> Quoting Li Si:');
    expect(user).toContain('> the crash');
    expect(user).toContain('is this fixed?');
    expect(rig.sent()[0]).toContain('answer to');
  });
});
