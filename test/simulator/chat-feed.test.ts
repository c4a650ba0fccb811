/**
 * The chat page's server side: static files, the live feed (SSE) of pushes, ACKs,
 * redeliveries, reported outcomes, replies and AI cards, and the demo owner routes with their
 * guards. Cards are made through the project's card client (lib/dingtalk/cards.ts) over HTTP.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { demoOwnerOperations } from '../../lib/cli/demo.js';
import { loadConfig } from '../../lib/config/index.js';
import { clearTokenCache, DingTalkApi } from '../../lib/dingtalk/api.js';
import { CardApi, FlowStatus } from '../../lib/dingtalk/cards.js';
import { TOPIC_ROBOT } from '../../lib/dingtalk/payload.js';
import { startPairing } from '../../lib/policy/pairing-store.js';
import { MemoryStateStore } from '../../lib/state/memory.js';
import { APP, call, closeAll, onCleanup, RawStreamClient, simulator } from './helpers.js';

afterEach(closeAll);

interface SseEvent {
  event: string;
  // biome-ignore lint/suspicious/noExplicitAny: tests read event payloads loosely
  data: any;
}

/** Reads the SSE stream; `next(predicate)` resolves with the first matching event. */
async function openFeed(url: string) {
  const controller = new AbortController();
  const res = await fetch(`${url}/__sim/stream`, { signal: controller.signal });
  onCleanup(() => controller.abort());
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  const events: SseEvent[] = [];
  let buffer = '';
  let cursor = 0;
  async function next(predicate: (e: SseEvent) => boolean): Promise<SseEvent> {
    for (;;) {
      while (cursor < events.length) {
        const event = events[cursor++]!;
        if (predicate(event)) return event;
      }
      const { value, done } = await reader.read();
      if (done) throw new Error('the feed ended');
      buffer += value;
      let end = buffer.indexOf('\n\n');
      while (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event && data) events.push({ event, data: JSON.parse(data) });
        end = buffer.indexOf('\n\n');
      }
    }
  }
  return { res, next };
}

describe('chat page files', () => {
  it('serves the page at / and /chat as UTF-8 HTML, its assets under /chat/, nothing else', async () => {
    const sim = await simulator();
    const page = await fetch(`${sim.url}/`);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await page.text();
    expect(html).toContain('<meta charset="utf-8">');
    expect(html).toContain('src="/chat/chat.js"');
    expect(html).not.toMatch(/https?:\/\//); // no CDN: works offline
    expect((await fetch(`${sim.url}/chat`)).status).toBe(200);
    const js = await fetch(`${sim.url}/chat/markdown.js`);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await js.text()).toContain('export function renderMarkdown');
    const missing = await call(`${sim.url}/chat/..%2Fserver.ts`);
    expect(missing.status).toBe(404);
    expect(missing.body.message).toContain('no file');
  });

  it('lists the apps without their secrets', async () => {
    const sim = await simulator();
    const apps = await call(`${sim.url}/__sim/apps`);
    expect(apps.body).toEqual({
      apps: [
        { accountId: 'main', clientId: 'dingtestapp' },
        { accountId: 'other', clientId: 'dingotherapp' },
      ],
      demo: false,
    });
    expect(apps.text).not.toContain(APP.clientSecret);
  });
});

describe('the live feed (GET /__sim/stream)', () => {
  it('streams a message through delivery, redelivery, ACK and the reported outcome, then the reply', async () => {
    const sim = await simulator({ callbackAckTimeoutMs: 100 });
    const client = await RawStreamClient.connect(sim);
    const feed = await openFeed(sim.url);
    expect(feed.res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    await feed.next((e) => e.event === 'ready');
    const injected = sim.injectMessage({
      account: 'main',
      conversationType: '2',
      conversationTitle: '测试群',
      sender: { staffId: 'u1', nick: '张三' },
      text: 'hi 👋',
      atBot: false,
    });
    const isIt = (e: SseEvent) => e.event === 'message' && e.data.messageId === injected.messageId;
    const delivered = await feed.next(isIt);
    expect(delivered.data).toMatchObject({
      state: 'delivered',
      text: 'hi 👋',
      senderNick: '张三',
      conversationTitle: '测试群',
      atBot: false,
      deliveries: 1,
      redeliveries: 0,
    });
    const first = await client.waitForFrame((f) => f.headers.topic === TOPIC_ROBOT);
    // No ACK within 100 ms: the simulator redelivers, and the page hears of it.
    const redelivered = await feed.next((e) => isIt(e) && e.data.redeliveries === 1);
    expect(redelivered.data.state).toBe('delivered');
    client.ack(first);
    expect((await feed.next((e) => isIt(e) && e.data.state === 'acked')).data.ackedAt).toEqual(
      expect.any(Number),
    );
    const reported = await call(`${sim.url}/__sim/outcomes`, {
      body: { messageId: injected.messageId, status: 'dropped', reason: 'mention_required' },
    });
    expect(reported.status).toBe(200);
    const dropped = await feed.next((e) => isIt(e) && e.data.outcome !== undefined);
    expect(dropped.data.outcome).toEqual({
      status: 'dropped',
      reason: 'mention_required',
      at: expect.any(Number),
    });
    // A later duplicate does not hide why the message was dropped.
    sim.recordOutcome({ messageId: injected.messageId, status: 'duplicate', reason: 'completed' });
    expect(sim.outcomes()).toEqual([expect.objectContaining({ status: 'dropped' })]);
    const webhook = (injected.sessionWebhook as string).replace(/^https?:\/\/[^/]+/, sim.url);
    await call(webhook, { body: { msgtype: 'text', text: { content: '收到 ✅' } } });
    const reply = await feed.next((e) => e.event === 'reply');
    expect(reply.data).toMatchObject({ via: 'webhook', text: '收到 ✅', account: 'main' });
    expect(reply.data.raw).toBeUndefined();
  });

  it('sends a new page everything so far, and connection changes as they happen', async () => {
    const sim = await simulator();
    await RawStreamClient.connect(sim);
    const injected = sim.injectMessage({
      conversationType: '1',
      sender: { staffId: 'u2' },
      text: 'earlier',
    });
    const feed = await openFeed(sim.url);
    const earlier = await feed.next((e) => e.event === 'message');
    expect(earlier.data.messageId).toBe(injected.messageId);
    const initial = await feed.next((e) => e.event === 'connections');
    expect(initial.data).toEqual([expect.objectContaining({ account: 'main', state: 'open' })]);
    await feed.next((e) => e.event === 'ready');
    sim.drop(initial.data[0].id);
    const after = await feed.next((e) => e.event === 'connections');
    expect(after.data[0].state).toBe('closed');
  });

  it('refuses malformed outcomes and outcomes of messages it never pushed', async () => {
    const sim = await simulator();
    const bad = await call(`${sim.url}/__sim/outcomes`, { body: { messageId: 'x', status: 'ok' } });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain('`status`');
    const unknown = await call(`${sim.url}/__sim/outcomes`, {
      body: { messageId: 'nope', status: 'handled' },
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.message).toContain('pushed no message "nope"');
  });
});

describe('AI cards on the live feed', () => {
  async function cardRig() {
    clearTokenCache();
    const sim = await simulator();
    // A DM from the user makes them known to the org directory (a DM card needs a known staffId).
    sim.injectMessage({ conversationType: '1', sender: { staffId: 'manager807' }, text: 'hi' });
    const api = new DingTalkApi({ ...APP, apiBase: sim.apiBase, maxAttempts: 1 });
    return { sim, cards: new CardApi(api, { maxAttempts: 1 }) };
  }
  const isCard = (id: string, more: (d: SseEvent['data']) => boolean = () => true) => {
    return (e: SseEvent) => e.event === 'card' && e.data.outTrackId === id && more(e.data);
  };

  it('sends a card event when a card is created, streams and closes, with its summary', async () => {
    const { sim, cards } = await cardRig();
    const feed = await openFeed(sim.url);
    await feed.next((e) => e.event === 'ready');
    await cards.create(
      'card_feed',
      'any.template.schema',
      { type: 'dm', staffId: 'manager807' },
      { flowStatus: FlowStatus.processing, msgContent: '', showStop: 'true' },
    );
    const created = await feed.next(isCard('card_feed'));
    expect(created.data).toEqual({
      outTrackId: 'card_feed',
      account: APP.accountId,
      space: { type: 'IM_ROBOT', id: 'manager807' },
      state: 'open',
      phase: 'thinking',
      content: '',
      flowStatus: '1',
      showStop: true,
      updates: 0,
      createdAt: expect.any(Number),
      link: '/__sim/cards/card_feed',
    });
    await cards.stream('card_feed', '**Hel', { finalize: false });
    const streaming = await feed.next(isCard('card_feed', (d) => d.content !== ''));
    expect(streaming.data).toMatchObject({ phase: 'streaming', content: '**Hel', updates: 1 });
    await cards.stream('card_feed', '**Hello** world', { finalize: true });
    await cards.update('card_feed', { flowStatus: FlowStatus.finished, showStop: 'false' });
    const closed = await feed.next(isCard('card_feed', (d) => d.state !== 'open'));
    expect(closed.data).toMatchObject({
      state: 'finished',
      phase: 'finished',
      content: '**Hello** world',
      showStop: false,
      updates: 3,
      closedAt: expect.any(Number),
    });
    // The link is the card's own route, with every update in order.
    const record = await call(`${sim.url}${closed.data.link}`);
    expect(record.status).toBe(200);
    expect(record.body.updates).toHaveLength(3);
    expect(record.body.params.msgContent).toBe('**Hello** world');
  });

  it('a group card carries its space; a failed card says so; a new page gets the cards first', async () => {
    const { sim, cards } = await cardRig();
    const { conversationId } = sim.injectMessage({
      conversationType: '2',
      conversationTitle: 'Cards',
      sender: { staffId: 'manager807' },
      text: 'hi',
      atBot: true,
    });
    await cards.create(
      'card_group',
      't',
      { type: 'group', conversationId },
      { flowStatus: FlowStatus.inputting, msgContent: 'partial' },
    );
    await cards.update('card_group', { flowStatus: FlowStatus.failed });
    const feed = await openFeed(sim.url);
    const first = await feed.next((e) => e.event === 'card' || e.event === 'ready');
    expect(first.event).toBe('card');
    expect(first.data).toMatchObject({
      outTrackId: 'card_group',
      space: { type: 'IM_GROUP', id: conversationId },
      state: 'failed',
      phase: 'failed',
      content: 'partial',
      showStop: false,
      updates: 1,
    });
    await feed.next((e) => e.event === 'ready');
    // A click on the card (its callback is recorded on it) is a change the page hears of too.
    sim.clickCard('card_group', { userId: 'manager807', action: 'stop' });
    const clicked = await feed.next(isCard('card_group'));
    expect(clicked.data.outTrackId).toBe('card_group');
  });

  it('the Stop click from a browser must come from this server’s page, as JSON', async () => {
    const { sim, cards } = await cardRig();
    await cards.create(
      'card_csrf',
      't',
      { type: 'dm', staffId: 'manager807' },
      {
        flowStatus: FlowStatus.inputting,
        msgContent: 'x',
        showStop: 'true',
      },
    );
    const route = `${sim.url}/__sim/cards/card_csrf/click`;
    const body = { userId: 'manager807', action: 'stop' };
    const crossSite = await call(route, { body, headers: { origin: 'http://evil.example' } });
    expect(crossSite.status).toBe(403);
    expect(crossSite.body.message).toContain('cross-origin');
    const host = new URL(sim.url).host;
    const plain = await call(route, {
      raw: JSON.stringify(body),
      headers: { origin: `http://${host}`, 'content-type': 'text/plain' },
    });
    expect(plain.status).toBe(403);
    expect(sim.card('card_csrf')!.callbacks).toEqual([]);
    const samePage = await call(route, { body, headers: { origin: `http://${host}` } });
    expect(samePage.status).toBe(200);
    expect(sim.card('card_csrf')!.callbacks).toEqual([
      expect.objectContaining({ userId: 'manager807', action: 'stop' }),
    ]);
  });
});

describe('demo owner routes (pairing panel)', () => {
  async function withOwner() {
    const sim = await simulator();
    const store = new MemoryStateStore();
    const started = await startPairing(
      store,
      { accountId: 'default', userId: 'stranger', nick: '李四' },
      { clock: { now: Date.now } },
    );
    if (started.status !== 'created') throw new Error(started.status);
    return { sim, store, code: started.request.code };
  }

  it('answers 404 naming demo mode when no demo is attached', async () => {
    const sim = await simulator();
    const res = await call(`${sim.url}/__sim/demo/pairings`);
    expect(res.status).toBe(404);
    expect(res.body.message).toContain('demo mode');
  });

  it('lists and approves through the same operation as `pairing approve`', async () => {
    const { sim, store, code } = await withOwner();
    const config = loadConfig({
      DINGTALK_CONFIG: JSON.stringify({ dm: { policy: 'pairing' } }),
      STATE_BACKEND: 'memory',
    });
    sim.setOwnerOperations(demoOwnerOperations(store, config));
    const listed = await call(`${sim.url}/__sim/demo/pairings`);
    expect(listed.body.requests).toEqual([
      expect.objectContaining({
        account: 'default',
        code,
        userId: 'stranger',
        nick: '李四',
        command: `dingtalk-channel pairing approve ${code}`,
      }),
    ]);
    const wrong = await call(`${sim.url}/__sim/demo/pairings/approve`, {
      body: { code: 'ZZZZZZZZ', notify: false },
    });
    expect(wrong.status).toBe(404);
    const approved = await call(`${sim.url}/__sim/demo/pairings/approve`, {
      body: { code: code.toLowerCase(), notify: false },
    });
    expect(approved.body).toMatchObject({ approved: true, code, userId: 'stranger' });
    expect(approved.body.lines[0]).toBe(
      `Approved ${code} for account default: stranger (李四) can now DM the bot.`,
    );
    expect((await call(`${sim.url}/__sim/demo/pairings`)).body.requests).toEqual([]);
  });

  it('refuses cross-origin and non-JSON approvals (a web page elsewhere cannot approve)', async () => {
    const { sim, store, code } = await withOwner();
    const config = loadConfig({ STATE_BACKEND: 'memory' });
    sim.setOwnerOperations(demoOwnerOperations(store, config));
    const crossSite = await call(`${sim.url}/__sim/demo/pairings/approve`, {
      body: { code },
      headers: { origin: 'http://evil.example' },
    });
    expect(crossSite.status).toBe(403);
    expect(crossSite.body.message).toContain('cross-origin');
    const form = await call(`${sim.url}/__sim/demo/pairings/approve`, {
      raw: `code=${code}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(form.status).toBe(403);
    expect((await call(`${sim.url}/__sim/demo/pairings`)).body.requests).toHaveLength(1);
  });
});
