/**
 * The attachment form of the agent answer (docs/agents.md "Attachments"): each item is parsed
 * on its own, usable or with a reason the user will read; the http agent passes them on.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { isUsable, parseAttachments } from '../../lib/agent/attachments.js';
import { createHttpAgent } from '../../lib/agent/http.js';
import type { AgentRequest } from '../../lib/agent/port.js';
import { type FakeAgentHttp, startFakeAgentHttp } from '../support/fake-agent-http.js';

describe('parseAttachments', () => {
  it('reads url and base64 items, names without directories, data: URLs', () => {
    const [url, b64, data] = parseAttachments([
      { type: 'image', url: 'https://x.example/a/chart.png', name: null, mimeType: null },
      {
        type: 'file',
        base64: Buffer.from('hello').toString('base64'),
        name: '../../etc/report.pdf',
      },
      { type: 'image', base64: `data:image/png;base64,${Buffer.from('png').toString('base64')}` },
    ]);
    expect(url).toEqual({ type: 'image', source: { url: 'https://x.example/a/chart.png' } });
    expect(b64).toEqual({
      type: 'file',
      name: 'report.pdf',
      source: { bytes: Buffer.from('hello') },
    });
    expect(data).toEqual({
      type: 'image',
      mimeType: 'image/png',
      source: { bytes: Buffer.from('png') },
    });
  });

  it.each([
    [{ type: 'video', url: 'https://x/y' }, 'attachments[0].type must be "image" or "file"'],
    [{ type: 'file' }, 'attachments[0] needs exactly one of url and base64'],
    [
      { type: 'file', url: 'https://x/a', base64: 'AAAA' },
      'attachments[0] needs exactly one of url and base64',
    ],
    [{ type: 'file', url: 'file:///etc/passwd' }, 'attachments[0].url must be an http(s) URL'],
    [{ type: 'file', base64: 'not base64!' }, 'attachments[0].base64 is not valid base64'],
    [{ type: 'file', url: 'https://x/a', name: 7 }, 'attachments[0].name must be a string'],
    ['report.pdf', 'attachments[0] must be an object'],
  ])('%j → %s', (item, reason) => {
    const [parsed] = parseAttachments([item]);
    expect(parsed && isUsable(parsed)).toBe(false);
    expect(parsed).toMatchObject({ invalid: reason });
  });

  it('absent or null is none; a non-array is one invalid item', () => {
    expect(parseAttachments(undefined)).toEqual([]);
    expect(parseAttachments(null)).toEqual([]);
    expect(parseAttachments({ type: 'image' })).toEqual([
      { invalid: '`attachments` must be an array' },
    ]);
  });
});

describe('the http agent answer', () => {
  let fake: FakeAgentHttp | undefined;
  afterEach(() => fake?.close());

  const request: AgentRequest = {
    accountId: 'default',
    messageId: 'msg1',
    sessionKey: 'dingtalk:default:dm:u1',
    text: 'hi',
    media: [],
    sender: { id: 'u1' },
    conversation: { id: 'c1', type: 'dm' },
    history: [],
  };

  it('passes attachments on next to the text; none when the field is absent', async () => {
    fake = await startFakeAgentHttp({
      respond: (req) =>
        req.body.text === 'hi'
          ? { json: { text: 'see file', attachments: [{ type: 'file', url: 'https://x/r.pdf' }] } }
          : { text: 'plain' },
    });
    const agent = createHttpAgent({
      url: fake.url,
      keepsHistory: false,
      history: { maxTurns: 5, maxChars: 1000 },
    });
    const signal = AbortSignal.timeout(5_000);
    expect(await agent.respond(request, { signal })).toEqual({
      text: 'see file',
      attachments: [{ type: 'file', source: { url: 'https://x/r.pdf' } }],
    });
    expect(await agent.respond({ ...request, text: 'other' }, { signal })).toEqual({
      text: 'plain',
    });
  });
});
