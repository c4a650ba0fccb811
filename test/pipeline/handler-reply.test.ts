/**
 * Replies (channel-semantics.md §7, dingtalk-protocol.md §5–§6.2): chunking of a long answer,
 * the session webhook and its OpenAPI fallback for DMs and groups, and the one short message
 * after an agent failure.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { userFacingAgentError } from '../../lib/agent/index.js';
import type { OutboxEntry } from '../../lib/simulator/index.js';
import { chatOf, DM_SENDER, dm, GROUP_SENDER, groupMessage, type Rig, startRig } from './rig.js';

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

const LIMIT = 4000;
const WEBHOOK_BODY_MAX_BYTES = 20_000;

/** ~10,000 characters: prose, a fenced code block spanning all three chunks, more prose. */
function longReply(): { text: string; markers: string[] } {
  const markers: string[] = [];
  const mark = (i: number) => {
    const m = `M${String(i).padStart(4, '0')}`;
    markers.push(m);
    return m;
  };
  const prose = (from: number, to: number) =>
    Array.from(
      { length: to - from },
      (_, k) => `${mark(from + k)} The pipeline keeps the order of everything it was given here.`,
    );
  const code = Array.from(
    { length: 100 },
    (_, k) => `    const value${k} = compute("${mark(100 + k)}"); // step`,
  );
  const text = [
    '# Long answer',
    '',
    ...prose(0, 40),
    '',
    '```ts',
    ...code,
    '```',
    '',
    ...prose(200, 240),
  ].join('\n');
  return { text, markers: markers.sort() }; // zero-padded: text order = numeric order
}

describe('a long reply (§7 chunking)', () => {
  it('arrives as ordered chunks within the limit, fences converted, content in order', async () => {
    const { text, markers } = longReply();
    expect(text.length).toBeGreaterThan(9_000);
    rig = await startRig({ channel: { textChunkLimit: LIMIT }, respond: { text } });
    const { event } = rig.ch.inject(dm('write me something long'));
    expect(await rig.ch.handle(event)).toEqual({ status: 'handled' });

    const outbox = rig.ch.sim.outbox();
    expect(outbox.length).toBeGreaterThanOrEqual(3);
    expect(outbox.map((e) => e.seq)).toEqual([...outbox.map((e) => e.seq)].sort((a, b) => a - b));
    for (const entry of outbox) {
      expect(entry.via).toBe('webhook');
      expect(entry.msgtype).toBe('markdown');
      expect(Array.from(entry.text).length).toBeLessThanOrEqual(LIMIT);
      expect(entry.text).not.toContain('```'); // DingTalk does not render fences
      expect(Buffer.byteLength(JSON.stringify(entry.raw))).toBeLessThanOrEqual(
        WEBHOOK_BODY_MAX_BYTES,
      );
    }
    // Every piece of content arrives exactly once, in the original order.
    const all = outbox.map((e) => e.text).join('\n');
    const positions = markers.map((m) => all.indexOf(m));
    expect(positions.every((p) => p >= 0)).toBe(true);
    expect(markers.every((m) => all.split(m).length === 2)).toBe(true);
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
    // The code survives as readable lines; a block cut between chunks is closed and reopened,
    // so every chunk holding code renders it as code again (the converter's label).
    expect(all).toContain('const value59 = compute("M0159"); // step');
    const withCode = outbox.filter((e) => e.text.includes('= compute("'));
    expect(withCode.length).toBeGreaterThanOrEqual(2);
    for (const entry of withCode) expect(entry.text).toContain('**ts**');
    expect(outbox[0]?.title).toBe('Long answer');
  });
});

describe('reply delivery: session webhook, then OpenAPI (§7, protocol §5–§6.2)', () => {
  const endpoints = (r: Rig) => r.calls.map((c) => c.endpoint);

  function expectDmOpenApi(entry: OutboxEntry | undefined, text: string) {
    expect(entry).toMatchObject({
      via: 'openapi',
      userIds: [DM_SENDER.staffId],
      msgtype: 'markdown',
    });
    expect(entry?.text).toBe(text);
  }

  it('uses the webhook while it is valid, at no OpenAPI cost', async () => {
    rig = await startRig();
    const { event } = rig.ch.inject(dm('hi'));
    await rig.ch.handle(event);
    expect(rig.ch.sim.outbox()).toMatchObject([{ via: 'webhook', text: 'answer to hi' }]);
    expect(endpoints(rig)).toEqual(['robot/sendBySession']);
    expect(rig.paidCalls()).toEqual([]);
  });

  it('DM with an expired webhook: oToMessages/batchSend to the sender’s staffId', async () => {
    // Expiry inside the safety margin: the webhook must not even be tried.
    rig = await startRig({ sim: { sessionWebhookTtlMs: 1_000 } });
    const { event } = rig.ch.inject(dm('late question'));
    await rig.ch.handle(event);
    expect(rig.ch.sim.outbox()).toHaveLength(1);
    expectDmOpenApi(rig.ch.sim.outbox()[0], 'answer to late question');
    expect(endpoints(rig)).toEqual(['robot/oToMessages/batchSend']);
  });

  it('group with an expired webhook: groupMessages/send to the conversation, @sender kept', async () => {
    rig = await startRig({ sim: { sessionWebhookTtlMs: 1_000 } });
    const { event, conversationId } = rig.ch.inject(groupMessage('late group question'));
    await rig.ch.handle(event);
    expect(rig.ch.sim.outbox()).toMatchObject([
      { via: 'openapi', conversationId, conversationType: '2', msgtype: 'markdown' },
    ]);
    expect(rig.ch.sim.outbox()[0]?.text).toBe(
      `answer to late group question @${GROUP_SENDER.staffId}`,
    );
    expect(endpoints(rig)).toEqual(['robot/groupMessages/send']);
  });

  it('DM: webhook errcode 300001 (session gone) falls back to batchSend', async () => {
    rig = await startRig();
    rig.ch.sim.addFaults({ webhook: { errcode: 300001 } });
    const { event } = rig.ch.inject(dm('are you there'));
    expect(await rig.ch.handle(event)).toEqual({ status: 'handled' });
    expect(rig.ch.sim.outbox()).toHaveLength(1);
    expectDmOpenApi(rig.ch.sim.outbox()[0], 'answer to are you there');
    expect(endpoints(rig)).toEqual(['robot/sendBySession', 'robot/oToMessages/batchSend']);
  });

  it('group: webhook errcode 300001 falls back to groupMessages/send', async () => {
    rig = await startRig();
    rig.ch.sim.addFaults({ webhook: { errcode: 300001 } });
    const { event, conversationId } = rig.ch.inject(groupMessage('ping'));
    await rig.ch.handle(event);
    expect(rig.ch.sim.outbox()).toMatchObject([
      { via: 'openapi', conversationId, text: `answer to ping @${GROUP_SENDER.staffId}` },
    ]);
    expect(endpoints(rig)).toEqual(['robot/sendBySession', 'robot/groupMessages/send']);
  });
});

describe('agent failure (§7): one short message, nothing else', () => {
  const timeoutText = userFacingAgentError({ code: 'agent_timeout' });
  const failureText = userFacingAgentError({ code: 'agent_http' });

  it('a timeout answers the user-facing timeout message', async () => {
    // The model answers only after 10 s; the function has 400 ms, 100 ms kept for the reply.
    rig = await startRig({
      respond: { text: 'too late', delayMs: 10_000 },
      runtime: { replyReserveMs: 100 },
    });
    const { event, msgId } = rig.ch.inject(dm('slow question'));
    expect(await rig.ch.handle(event, 400)).toEqual({ status: 'handled' });
    expect(rig.sent()).toEqual([timeoutText]);
    expect(timeoutText).toMatch(/did not answer in time/);
    expect(rig.ch.logger.lines).toContainEqual(
      expect.objectContaining({
        event: 'agent.failed',
        msgId,
        error: expect.objectContaining({ code: 'agent_timeout' }),
      }),
    );
  });

  it('an HTTP 500 answers the user-facing failure message, without details', async () => {
    rig = await startRig({
      respond: { status: 500, body: { error: { message: 'boom at /srv/model.py:42' } } },
    });
    const { event } = rig.ch.inject(dm('question'));
    expect(await rig.ch.handle(event)).toEqual({ status: 'handled' });
    expect(rig.sent()).toEqual([failureText]);
    expect(failureText).not.toMatch(/500|boom|http/i);

    // The failed exchange is not kept as history for the next message.
    rig.ai.respondWith((req) => ({ text: `ok ${req.body.messages?.length}` }));
    const next = rig.ch.inject(dm('again'));
    await rig.ch.handle(next.event);
    expect(rig.ai.lastRequest().body.messages).toEqual([{ role: 'user', content: 'again' }]);
    expect(rig.sent()).toEqual([failureText, 'ok 1']);
  });

  it('a failed media download never costs the message: the picture is unavailable, the turn goes on (issue 16)', async () => {
    rig = await startRig({ vision: true });
    rig.ch.sim.addFaults({ openapi: { status: 500, code: 'ServiceUnavailable' } });
    const { event } = rig.ch.inject(dm('look at this', { msgtype: 'picture' }));
    expect(await rig.ch.handle(event)).toEqual({ status: 'handled' });
    expect(rig.ai.requests).toHaveLength(1);
    expect(JSON.stringify(chatOf(rig.ai.requests[0]))).toContain(
      '[picture (could not be downloaded)]',
    );
    expect(rig.sent()).not.toContain(failureText);
  });
});
