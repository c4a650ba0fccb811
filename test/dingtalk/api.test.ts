/**
 * The DingTalkApi port against the simulator: token cache, webhook and OpenAPI sends with their
 * error codes, QPS-limit and flow-control retries, media download, paid-call reporting.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ApiCall, clearTokenCache, DingTalkApi } from '../../lib/dingtalk/api.js';
import { type Simulator, startSimulator, TINY_PNG } from '../../lib/simulator/index.js';

const APP = { clientId: 'dingapiapp', clientSecret: 'api-secret-123', accountId: 'main' };
let sim: Simulator;
let calls: ApiCall[];
let api: DingTalkApi;

beforeEach(async () => {
  clearTokenCache();
  sim = await startSimulator({ apps: [APP] });
  calls = [];
  api = new DingTalkApi({
    clientId: APP.clientId,
    clientSecret: APP.clientSecret,
    apiBase: sim.apiBase,
    retryDelayMs: 10,
    onCall: (c) => calls.push(c),
  });
});
afterEach(() => sim.close());

const dm = () =>
  sim.injectMessage({ conversationType: '1', sender: { staffId: 'manager807' }, text: 'hi' });
const group = () =>
  sim.injectMessage({
    conversationType: '2',
    conversationId: 'cidGroupA==',
    sender: { staffId: 'u2' },
    text: 'hi',
    atBot: true,
  });
const markdown = (text: string) => ({ msgKey: 'sampleMarkdown', msgParam: { title: 'T', text } });

describe('DingTalkApi', () => {
  it('replies on a session webhook without any paid call', async () => {
    const m = dm();
    await api.sendBySessionWebhook(m.sessionWebhook, {
      msgtype: 'markdown',
      markdown: { title: 'T', text: 'hello' },
    });
    expect(sim.outbox()).toMatchObject([{ via: 'webhook', msgtype: 'markdown', text: 'hello' }]);
    expect(calls).toEqual([{ endpoint: 'robot/sendBySession', paid: false }]);
    expect(sim.stats().tokensIssued).toBe(0);
  });

  it('turns a webhook errcode into DingTalkApiError with that code', async () => {
    const m = dm();
    sim.addFaults({ webhook: { errcode: 300001 } });
    await expect(
      api.sendBySessionWebhook(m.sessionWebhook, { msgtype: 'text', text: { content: 'x' } }),
    ).rejects.toMatchObject({
      name: 'DingTalkApiError',
      code: '300001',
    });
  });

  it('sends DMs and group messages through the OpenAPI with one cached token', async () => {
    dm();
    group();
    await api.sendToUsers(['manager807'], markdown('to user'));
    await api.sendToGroup('cidGroupA==', markdown('to group'));
    expect(sim.outbox()).toMatchObject([
      { via: 'openapi', userIds: ['manager807'], msgtype: 'markdown', text: 'to user' },
      { via: 'openapi', conversationId: 'cidGroupA==', msgtype: 'markdown', text: 'to group' },
    ]);
    expect(sim.stats().tokensIssued).toBe(1);
    expect(calls.filter((c) => c.paid)).toHaveLength(2);
  });

  it('retries a 403 QPS limit and succeeds', async () => {
    dm();
    sim.addFaults({
      openapi: { count: 2, status: 403, code: 'Forbidden.AccessDenied.QpsLimitForAppkeyAndApi' },
    });
    await api.sendToUsers(['manager807'], markdown('after limit'));
    expect(sim.outbox()).toHaveLength(1);
    expect(calls.filter((c) => c.endpoint === 'robot/oToMessages/batchSend')).toHaveLength(3);
  });

  it('gives up on QPS limits after maxAttempts with the DingTalk code', async () => {
    dm();
    sim.addFaults({
      openapi: { count: 10, status: 403, code: 'Forbidden.AccessDenied.QpsLimitForApi' },
    });
    await expect(api.sendToUsers(['manager807'], markdown('x'))).rejects.toMatchObject({
      code: 'Forbidden.AccessDenied.QpsLimitForApi',
      retryable: true,
    });
    expect(sim.outbox()).toHaveLength(0);
  });

  it('sends again to flow-controlled recipients', async () => {
    dm();
    sim.addFaults({ flowControl: { count: 1, staffIds: ['manager807'] } });
    await api.sendToUsers(['manager807'], markdown('eventually'));
    expect(sim.outbox()).toHaveLength(1);
    expect(calls.filter((c) => c.endpoint === 'robot/oToMessages/batchSend')).toHaveLength(2);
  });

  it('refreshes an expired token once', async () => {
    dm();
    await api.sendToUsers(['manager807'], markdown('one'));
    sim.addFaults({ expireTokens: true });
    await api.sendToUsers(['manager807'], markdown('two'));
    expect(sim.outbox()).toHaveLength(2);
    expect(sim.stats().tokensIssued).toBe(2);
  });

  it('reports bad credentials with DingTalk code and no secret', async () => {
    const bad = new DingTalkApi({
      clientId: APP.clientId,
      clientSecret: 'not-the-secret-xyz',
      apiBase: sim.apiBase,
    });
    const err = await bad.sendToGroup('cidGroupA==', markdown('x')).catch((e: Error) => e);
    expect(err).toMatchObject({ code: 'invalidClientIdOrSecret' });
    expect(String((err as Error).message)).not.toContain('not-the-secret-xyz');
  });

  it('downloads inbound media through messageFiles/download', async () => {
    sim.injectMessage({ conversationType: '1', sender: { staffId: 'u1' }, msgtype: 'picture' });
    expect(sim.inbound().at(-1)!.msgtype).toBe('picture');
    const file = await api.downloadMedia(findDownloadCode(sim));
    expect(file.bytes.equals(TINY_PNG)).toBe(true);
    expect(file.mimeType).toBe('image/png');
    expect(calls.filter((c) => c.paid).map((c) => c.endpoint)).toEqual([
      'robot/messageFiles/download',
    ]);
  });

  it('reads at most maxBytes of a media file: a larger one fails final, unbuffered (issue 16)', async () => {
    sim.injectMessage({ conversationType: '1', sender: { staffId: 'u1' }, msgtype: 'picture' });
    const err = await api
      .downloadMedia(findDownloadCode(sim), undefined, { maxBytes: TINY_PNG.length - 1 })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'media_too_large', retryable: false });
    const ok = await api.downloadMedia(findDownloadCode(sim), undefined, {
      maxBytes: TINY_PNG.length,
    });
    expect(ok.bytes.equals(TINY_PNG)).toBe(true);
  });

  it('fetches a download URL only from a DingTalk host (issue 16)', async () => {
    sim.injectMessage({ conversationType: '1', sender: { staffId: 'u1' }, msgtype: 'picture' });
    const fetched: string[] = [];
    // The real simulator answers; only the download URL in its answer is swapped for a foreign host.
    const swapping: typeof fetch = async (input, init) => {
      const url = String(input);
      fetched.push(url);
      const response = await fetch(input, init);
      if (!url.includes('messageFiles/download')) return response;
      await response.text();
      return Response.json({ downloadUrl: 'https://files.example.net/tmp/1' });
    };
    const foreign = new DingTalkApi({
      clientId: APP.clientId,
      clientSecret: APP.clientSecret,
      apiBase: sim.apiBase,
      fetch: swapping,
    });
    const err = await foreign.downloadMedia(findDownloadCode(sim)).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'media_host_not_allowed' });
    expect(fetched.some((u) => u.includes('files.example.net'))).toBe(false);
  });

  it('classifies an unreachable host as a network error', async () => {
    const offline = new DingTalkApi({
      clientId: 'a',
      clientSecret: 'secret-abc',
      apiBase: 'http://127.0.0.1:9',
    });
    await expect(offline.sendToGroup('cid', markdown('x'))).rejects.toMatchObject({
      name: 'DingTalkNetworkError',
      retryable: true,
    });
  });
});

/** The picture's downloadCode, read from the payload the simulator pushed. */
function findDownloadCode(s: Simulator): string {
  const record = s.inbound().at(-1) as unknown as {
    payload?: { content?: { downloadCode?: string } };
  };
  const code = record.payload?.content?.downloadCode;
  if (!code) throw new Error(`no downloadCode in ${JSON.stringify(record)}`);
  return code;
}

describe('replies go only to DingTalk (issue 15)', () => {
  const body = { msgtype: 'text' as const, text: { content: 'x' } };

  it('posts to DingTalk’s webhook origin and to the configured bases only', async () => {
    const hits: string[] = [];
    const recording = new DingTalkApi({
      clientId: APP.clientId,
      clientSecret: APP.clientSecret,
      apiBase: sim.apiBase,
      fetch: async (input) => {
        hits.push(String(input));
        return new Response('{"errcode":0}', { status: 200 });
      },
    });
    await recording.sendBySessionWebhook(
      'https://oapi.dingtalk.com/robot/sendBySession?session=aaaa',
      body,
    );
    await recording.sendBySessionWebhook(dm().sessionWebhook, body);
    expect(hits).toEqual([
      'https://oapi.dingtalk.com/robot/sendBySession?session=aaaa',
      expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/robot\/sendBySession\?session=/),
    ]);
  });

  it('refuses another host with a final error naming the host but not the session token', async () => {
    const before = sim.outbox().length;
    for (const url of [
      'https://evil.example/robot/sendBySession?session=feedface0123',
      'http://oapi.dingtalk.com/robot/sendBySession?session=feedface0123',
      'https://oapi.dingtalk.com.evil.example/robot/sendBySession?session=feedface0123',
      'file:///etc/passwd?session=feedface0123',
    ]) {
      const err = await api.sendBySessionWebhook(url, body).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'webhook_host_not_allowed', retryable: false });
      expect((err as Error).message).toContain(new URL(url).host || 'file:');
      expect((err as Error).message).not.toContain('feedface0123');
    }
    expect(sim.outbox().length).toBe(before);
    expect(calls).toEqual([]);
  });

  it('never shows an unparsable webhook URL', async () => {
    const err = await api
      .sendBySessionWebhook('oapi.dingtalk.com/robot/sendBySession?session=feedface0123', body)
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'webhook_url_invalid', retryable: false });
    expect((err as Error).message).not.toContain('feedface0123');
  });
});
