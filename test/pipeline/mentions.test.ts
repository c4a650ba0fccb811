/**
 * Agent-chosen @-mentions end to end (issue 16): the http agent's structured `mentions`, the
 * openai agent's `@<staffId>` for ids known in the conversation (inbound atUsers, earlier
 * senders of the session), the at block agreeing with the text (the simulator flags any id it
 * would not render), DMs without mentions, the OpenAPI route (no at block: the text keeps the
 * `@<id>`), and a resumed reply keeping its mentions without a second agent call.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createAgent } from '../../lib/agent/index.js';
import type { OutboxEntry } from '../../lib/simulator/index.js';
import { startTestChannel, type TestChannel } from '../support/channel.js';
import { type FakeAgentHttp, startFakeAgentHttp } from '../support/fake-agent-http.js';
import { dm, GROUP_SENDER, groupMessage, type Rig, startRig } from './rig.js';

let ch: TestChannel | undefined;
let agent: FakeAgentHttp | undefined;
let rig: Rig | undefined;
afterEach(async () => {
  await ch?.close();
  await agent?.close();
  await rig?.close();
  ch = agent = rig = undefined;
});

async function httpChannel(answer: unknown, store: 'memory' | 'dynalite' = 'memory') {
  agent = await startFakeAgentHttp({ respond: { json: answer } });
  ch = await startTestChannel({ store, agent: createAgent({ kind: 'http', httpUrl: agent.url }) });
  return ch;
}

/** Every id of the at block is @-mentioned in the text (what the simulator checks, too). */
function expectAgreement(entry: OutboxEntry | undefined) {
  expect(entry?.unrenderedMentions).toBeUndefined();
  expect(entry?.unnotifiedMentions).toBeUndefined();
  for (const id of entry?.atUserIds ?? []) expect(entry?.text).toContain(`@${id}`);
}

describe('structured mentions from the http agent', () => {
  it('the at block names the sender and the chosen member; the text mentions both', async () => {
    const c = await httpChannel({ text: 'Please review.', mentions: [{ staffId: 'reviewer7' }] });
    const { event } = c.inject(groupMessage('who reviews?'));
    expect(await c.handle(event)).toEqual({ status: 'handled' });
    const [sent] = c.sim.outbox();
    expect(sent?.via).toBe('webhook');
    expect(sent?.atUserIds).toEqual([GROUP_SENDER.staffId, 'reviewer7']);
    expect(sent?.isAtAll).toBe(false);
    expect(sent?.text).toBe(`Please review.\n\n@reviewer7 @${GROUP_SENDER.staffId}`);
    expectAgreement(sent);
    expect(c.sim.stats().mentionMismatches).toBe(0);
  });

  it('in a DM nobody is mentioned and the text is left as the agent wrote it', async () => {
    const c = await httpChannel({ text: 'ok @manager807', mentions: [{ staffId: 'reviewer7' }] });
    const { event } = c.inject(dm('hi'));
    await c.handle(event);
    const [sent] = c.sim.outbox();
    expect(sent?.text).toBe('ok @manager807');
    expect(sent?.atUserIds).toEqual([]);
  });

  it('through the OpenAPI (webhook expired) the text keeps @<id>; there is no at block', async () => {
    const c = await httpChannel({ text: 'Ship it.', mentions: [{ staffId: 'reviewer7' }] });
    const old = Date.now() - 3 * 60 * 60 * 1000;
    const { event } = c.inject(groupMessage('go?', { createAt: old }));
    await c.handle(event);
    const [sent] = c.sim.outbox();
    expect(sent?.via).toBe('openapi');
    expect(sent?.text).toContain('@reviewer7');
    expect(sent?.atUserIds).toBeUndefined();
    expect(sent?.raw).toMatchObject({ msgKey: 'sampleMarkdown' });
    expect(sent?.raw).not.toHaveProperty('at');
  });

  it('a malformed mentions list is a bad answer: the user gets the short failure message', async () => {
    const c = await httpChannel({ text: 'x', mentions: [{ id: 'nope' }] });
    const { event } = c.inject(groupMessage('?'));
    await c.handle(event);
    expect(c.sim.outbox()[0]?.text).toContain('the agent failed to answer');
    expect(c.logger.lines.find((l) => l.event === 'agent.failed')).toBeDefined();
  });

  it('a reply resumed after a failed send keeps its mentions (no second agent call)', async () => {
    const c = await httpChannel(
      { text: 'Noted.', mentions: [{ staffId: 'reviewer7' }] },
      'dynalite',
    );
    c.sim.addFaults({
      webhook: { status: 500 },
      openapi: { status: 500, code: 'ServiceUnavailable' },
    });
    const { event } = c.inject(groupMessage('log this'));
    await expect(c.handle(event)).rejects.toMatchObject({ code: 'ServiceUnavailable' });
    expect(c.sim.outbox()).toEqual([]);
    expect(await c.handle(event)).toEqual({ status: 'handled', reason: 'resumed' });
    expect(agent?.requests).toHaveLength(1);
    const [sent] = c.sim.outbox();
    expect(sent?.atUserIds).toEqual([GROUP_SENDER.staffId, 'reviewer7']);
    expectAgreement(sent);
  });
});

describe('@<staffId> written by the openai agent', () => {
  it('mentions ids the inbound message @-mentioned; unknown ids stay plain text', async () => {
    rig = await startRig({ respond: { text: 'ask @lead1, not @ghost9' } });
    const { event } = rig.ch.inject(groupMessage('who owns this?', { atUsers: ['lead1'] }));
    await rig.ch.handle(event);
    const [sent] = rig.ch.sim.outbox();
    expect(sent?.atUserIds).toEqual([GROUP_SENDER.staffId, 'lead1']);
    expect(sent?.text).toContain('@ghost9');
    expectAgreement(sent);
  });

  it('mentions an earlier sender of the shared group session', async () => {
    rig = await startRig({
      channel: { isolateContextPerUserInGroup: false },
      respond: (req) => ({
        text: JSON.stringify(req.body.messages).includes('second')
          ? '@early5 can you confirm?'
          : 'ok',
      }),
    });
    const first = rig.ch.inject(groupMessage('first', { sender: { staffId: 'early5' } }));
    await rig.ch.handle(first.event);
    const second = rig.ch.inject(groupMessage('second'));
    await rig.ch.handle(second.event);
    const sent = rig.ch.sim.outbox().at(-1);
    expect(sent?.atUserIds).toEqual([GROUP_SENDER.staffId, 'early5']);
    expectAgreement(sent);
  });
});
