/**
 * The chat page in a real browser (headless system Chromium through playwright-core, no browser
 * download): the demo runs in this process (simulator + channel + echo agent, as `npm start`
 * runs it) and the test drives the page as a user would. DM → echo; group message without @ →
 * shown as ignored with the channel's reason; a stranger's DM → pairing challenge, approve from
 * the pairing panel → the "approved" DM and the next message answered. The page must log no
 * console error, and the screenshot must be a real PNG of the page. A second demo in card mode
 * (`DINGTALK_REPLY_MODE=card`, the real openai adapter streaming from the fake OpenAI server on
 * loopback) shows an AI card fill in and finish, and its Stop button cut a slow answer short.
 * Skipped, with the reason printed, only where no Chromium is installed.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DemoHandle, startDemo } from '../../lib/cli/demo.js';
import { loadConfig } from '../../lib/config/index.js';
import { memoryLogger } from '../../lib/log.js';
import { STOPPED_NOTE } from '../../lib/pipeline/card-turn.js';
import { ACCESS_APPROVED_TEXT } from '../../lib/policy/pairing.js';
import type { SimCard } from '../../lib/simulator/index.js';
import { type FakeOpenAi, lastUserText, startFakeOpenAi } from '../support/fake-openai.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) {
  console.warn(
    `chat-page browser test skipped: no Chromium at ${CHROMIUM} (apt-get install -y chromium)`,
  );
}

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const stateDir = mkdtempSync(join(tmpdir(), 'dingtalk-chat-'));
const profileDir = mkdtempSync(join(tmpdir(), 'dingtalk-chromium-'));
let demo: DemoHandle;
let browser: BrowserContext;
let page: Page;
const consoleErrors: string[] = [];

describe.skipIf(!hasChromium)('the chat page in Chromium', () => {
  beforeAll(async () => {
    const env = {
      PATH: process.env.PATH,
      PORT: '0',
      DINGTALK_SIMULATOR_PORT: '0',
      STATE_BACKEND: 'memory',
      STATE_DIR: stateDir,
      // manager807 is allowed by configuration; anyone else gets the pairing challenge.
      DINGTALK_CONFIG: JSON.stringify({
        dm: { policy: 'pairing', allowFrom: ['manager807'] },
        groupPolicy: 'open',
      }),
    };
    demo = await startDemo(env, loadConfig(env), {
      logger: memoryLogger('warn'),
      simulatorLogger: memoryLogger('warn'),
      healthHost: '127.0.0.1',
    });
    // A fresh profile directory: a persistent context is how playwright takes --user-data-dir.
    browser = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1200, height: 760 },
      args: CHROMIUM_ARGS,
    });
    page = browser.pages()[0] ?? (await browser.newPage());
    page.on('console', (msg) => {
      if (msg.type() === 'error') consoleErrors.push(msg.text());
    });
    page.on('pageerror', (err) => consoleErrors.push(err.message));
    await page.goto(demo.chatUrl);
    await page.waitForSelector('body[data-ready="true"]');
    await page.waitForSelector('#link-state.up');
  }, 30_000);

  afterAll(async () => {
    await browser?.close();
    await demo?.stop();
    rmSync(stateDir, { recursive: true, force: true });
    rmSync(profileDir, { recursive: true, force: true });
  });

  async function openConversation(type: '1' | '2', title = '') {
    await page.selectOption('#new-type', type);
    if (title) await page.fill('#new-title', title);
    await page.click('#new-conversation button[type="submit"]');
  }

  async function sendAs(staffId: string, nick: string, text: string) {
    await page.fill('#sender-id', staffId);
    await page.fill('#sender-nick', nick);
    await page.fill('#text', text);
    await page.press('#text', 'Enter');
  }

  const botReply = (text: string) =>
    page.locator('#messages li.msg.bot .bubble', { hasText: text });

  it('shows a DM with its delivery, ACK and the echo reply (Chinese and emoji intact)', async () => {
    await openConversation('1');
    await sendAs('manager807', '张三', '你好 bot 👋');
    await botReply('Echo agent: 你好 bot 👋').waitFor();
    const mine = page.locator('#messages li.msg.mine').last();
    await expect.poll(() => mine.getAttribute('data-state')).toBe('acked');
    expect(await mine.getAttribute('data-outcome')).toBe('handled');
    expect(await mine.locator('.chip').allTextContents()).toContain('ACKed');
    expect(await page.textContent('#chat-title')).toBe('DM: 张三');
  });

  it('shows a group message without @ as ignored, with the channel’s reason', async () => {
    await openConversation('2', '测试群 🎉');
    await sendAs('manager807', '张三', 'hello everyone');
    const ignored = page.locator('#messages li.msg.mine[data-outcome="dropped"]');
    await ignored.waitFor();
    expect(await ignored.getAttribute('data-reason')).toBe('mention_required');
    expect(await ignored.locator('.reason').textContent()).toBe('ignored: mention_required');
    expect(await page.locator('#messages li.msg.bot').count()).toBe(0);
    // The same group with @bot is answered (and the reply @-mentions the sender).
    await page.check('#at-bot');
    await page.fill('#at-others', 'colleague7');
    await sendAs('manager807', '张三', 'now with a mention');
    await botReply('Echo agent: now with a mention').waitFor();
    const mine = page.locator('#messages li.msg.mine').last();
    expect(await mine.locator('.mention').allTextContents()).toEqual(['@bot', '@colleague7']);
    await page.fill('#at-others', '');
    expect(await page.locator('#messages .mention', { hasText: '@manager807' }).count()).toBe(1);
  });

  it('approves a pairing from the panel and then answers the stranger', async () => {
    await openConversation('1');
    await sendAs('stranger42', '李四', 'let me in');
    await botReply('Pairing code:').waitFor();
    const request = page.locator('#pairings li[data-code]');
    await request.waitFor();
    const code = await request.getAttribute('data-code');
    expect(code).toMatch(/^[A-Z0-9]{8}$/);
    expect(await request.locator('code').textContent()).toBe(
      `dingtalk-channel pairing approve ${code}`,
    );
    expect(await botReply(`dingtalk-channel pairing approve ${code}`).count()).toBe(1);
    const challenged = page.locator('#messages li.msg.mine').last();
    expect(await challenged.getAttribute('data-reason')).toBe('pairing_challenge');
    await request.locator('button').click();
    await botReply(ACCESS_APPROVED_TEXT).waitFor();
    await expect.poll(() => page.locator('#pairings li[data-code]').count()).toBe(0);
    await sendAs('stranger42', '李四', 'second try');
    await botReply('Echo agent: second try').waitFor();
  });

  it('fault buttons: a dropped connection comes back, an expired webhook falls back to OpenAPI', async () => {
    const reconnects = () => demo.running.relay.status().accounts[0]!.counters.reconnects;
    const before = reconnects();
    await page.click('button[data-fault="drop"]');
    await page.locator('#fault-log li', { hasText: 'dropped 1 connection(s)' }).waitFor();
    await expect.poll(reconnects, { timeout: 10_000 }).toBeGreaterThan(before);
    await page.waitForSelector('#link-state.up');
    await page.click('button[data-fault="webhook"]');
    await page.locator('#fault-log li', { hasText: 'next sessionWebhook' }).waitFor();
    await page.click('#conversations li:first-child');
    await sendAs('manager807', '张三', 'after the fault');
    const reply = page.locator('#messages li.msg.bot', { hasText: 'Echo agent: after the fault' });
    await reply.waitFor();
    expect(await reply.getAttribute('data-via')).toBe('openapi');
    expect(await reply.locator('.who').textContent()).toContain('OpenAPI (paid)');
  });

  it('renders without console errors, in a real screenshot', async () => {
    const file = join(stateDir, 'chat-page.png');
    const png = await page.screenshot({ path: file, fullPage: true });
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    const width = png.readUInt32BE(16);
    const height = png.readUInt32BE(20);
    expect([width, height]).toEqual([1200, expect.any(Number)]);
    expect(height).toBeGreaterThanOrEqual(760);
    expect(readFileSync(file).length).toBeGreaterThan(10_000);
    if (process.env.CHAT_SCREENSHOT_OUT) {
      await page.screenshot({ path: process.env.CHAT_SCREENSHOT_OUT });
    }
    expect(consoleErrors).toEqual([]);
  });
});

describe.skipIf(!hasChromium)('AI cards on the chat page (card mode)', () => {
  const cardStateDir = mkdtempSync(join(tmpdir(), 'dingtalk-chat-cards-'));
  const cardProfileDir = mkdtempSync(join(tmpdir(), 'dingtalk-chromium-cards-'));
  let cardDemo: DemoHandle;
  let cardBrowser: BrowserContext;
  let ai: FakeOpenAi;
  let cardPage: Page;
  const errors: string[] = [];
  /** Long enough that the click always lands while it streams (a bound, not an assertion). */
  const slow = Array.from({ length: 400 }, (_, i) => `w${i} `);

  beforeAll(async () => {
    ai = await startFakeOpenAi({
      respond: (req) =>
        lastUserText(req).includes('slow')
          ? { stream: slow, gapMs: 25 }
          : { stream: ['Hello ', '**card** ', 'world ', 'done.'], gapMs: 250 },
    });
    const env = {
      PATH: process.env.PATH,
      PORT: '0',
      DINGTALK_SIMULATOR_PORT: '0',
      STATE_BACKEND: 'memory',
      STATE_DIR: cardStateDir,
      AGENT: 'openai',
      AGENT_BASE_URL: ai.baseUrl,
      AGENT_MODEL: 'fake-model',
      DINGTALK_REPLY_MODE: 'card',
      DINGTALK_CARD_MAX_CALLS: '50',
      DINGTALK_CARD_MIN_INTERVAL_MS: '100',
      DINGTALK_CARD_THINKING_DELAY_MS: '0',
      DINGTALK_CARD_STOP_POLL_MS: '200',
    };
    cardDemo = await startDemo(env, loadConfig(env), {
      logger: memoryLogger('warn'),
      simulatorLogger: memoryLogger('warn'),
      healthHost: '127.0.0.1',
    });
    cardBrowser = await chromium.launchPersistentContext(cardProfileDir, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1200, height: 760 },
      args: CHROMIUM_ARGS,
    });
    cardPage = cardBrowser.pages()[0] ?? (await cardBrowser.newPage());
    cardPage.on('console', (msg) => {
      if (msg.type() === 'error') errors.push(msg.text());
    });
    cardPage.on('pageerror', (err) => errors.push(err.message));
    await cardPage.goto(cardDemo.chatUrl);
    await cardPage.waitForSelector('body[data-ready="true"]');
    await cardPage.waitForSelector('#link-state.up');
    await cardPage.selectOption('#new-type', '1');
    await cardPage.click('#new-conversation button[type="submit"]');
  }, 30_000);

  afterAll(async () => {
    await cardBrowser?.close();
    await cardDemo?.stop();
    await ai?.close();
    rmSync(cardStateDir, { recursive: true, force: true });
    rmSync(cardProfileDir, { recursive: true, force: true });
  });

  async function ask(text: string) {
    await cardPage.fill('#sender-id', 'manager807');
    await cardPage.fill('#text', text);
    await cardPage.press('#text', 'Enter');
  }

  it('shows a streaming card fill in, rendered as markdown, and finish', async () => {
    await ask('tell me');
    const card = cardPage.locator('#messages li.msg.bot.card').last();
    await cardPage.locator('#messages li.msg.bot.card[data-phase="streaming"]').waitFor();
    const outTrackId = (await card.getAttribute('data-out-track-id'))!;
    // While it streams the card shows part of the answer and its Stop button.
    expect(await card.locator('.bubble').textContent()).not.toContain('done.');
    expect(await card.locator('button.stop').count()).toBe(1);
    await cardPage
      .locator(
        `#messages li.msg.bot.card[data-phase="finished"][data-out-track-id="${outTrackId}"]`,
      )
      .waitFor();
    expect(await card.locator('.bubble').textContent()).toBe('Hello card world done.');
    expect(await card.locator('.bubble strong').textContent()).toBe('card');
    expect(await card.locator('.phase').textContent()).toBe('finished');
    expect(await card.locator('button.stop').count()).toBe(0);
    // The link is the card's JSON record: the same content, its updates in order.
    const href = (await card.locator('a.card-link').getAttribute('href'))!;
    expect(href).toBe(`/__sim/cards/${encodeURIComponent(outTrackId)}`);
    const record = (await cardPage.evaluate(
      async (url) => (await fetch(url)).json(),
      href,
    )) as SimCard;
    expect(record).toMatchObject({ outTrackId, state: 'finished' });
    expect(record.params.msgContent).toBe('Hello **card** world done.');
    expect(record.updates.length).toBeGreaterThanOrEqual(2);
    // No markdown copy beside the card: the card is the reply.
    expect(await cardPage.locator('#messages li.msg.bot:not(.card)').count()).toBe(0);
  });

  it('shows a group card in its group (matched by the card’s space)', async () => {
    await cardPage.selectOption('#new-type', '2');
    await cardPage.fill('#new-title', '卡片群');
    await cardPage.click('#new-conversation button[type="submit"]');
    await cardPage.check('#at-bot');
    await ask('group question');
    const card = cardPage.locator('#messages li.msg.bot.card[data-phase="finished"]');
    await card.waitFor();
    expect(await card.locator('.bubble').textContent()).toBe('Hello card world done.');
    expect(await cardPage.textContent('#chat-title')).toBe('卡片群');
    const outTrackId = (await card.getAttribute('data-out-track-id'))!;
    expect(cardDemo.sim.card(outTrackId)!.space.type).toBe('IM_GROUP');
    // Back to the DM for the next test; the DM still shows only its own card.
    await cardPage.click('#conversations li:first-child');
    expect(await cardPage.locator('#messages li.msg.bot.card').count()).toBe(1);
  });

  it('stops a slow answer with the card’s Stop button', async () => {
    await ask('a slow one please');
    const streaming = cardPage.locator('#messages li.msg.bot.card[data-phase="streaming"]');
    await streaming.waitFor();
    const outTrackId = (await streaming.getAttribute('data-out-track-id'))!;
    const card = cardPage.locator(`#messages li.msg.bot.card[data-out-track-id="${outTrackId}"]`);
    await card.locator('button.stop').click();
    await cardPage
      .locator(
        `#messages li.msg.bot.card[data-phase="finished"][data-out-track-id="${outTrackId}"]`,
      )
      .waitFor({ timeout: 15_000 });
    const text = (await card.locator('.bubble').textContent()) ?? '';
    expect(text).toContain(STOPPED_NOTE);
    expect(text).not.toContain('w399');
    expect(await card.locator('button.stop').count()).toBe(0);
    // The click went to the simulator's click route as the DM's user.
    const recorded = cardDemo.sim.card(outTrackId)!;
    expect(recorded.callbacks).toEqual([
      expect.objectContaining({ userId: 'manager807', action: 'stop' }),
    ]);
    // The click's callback push is no chat message: no conversation appears for it.
    await cardPage
      .locator('#fault-log li', { hasText: `stop clicked on card ${outTrackId}` })
      .waitFor();
    expect(await cardPage.locator('#conversations li').allTextContents()).toEqual([
      '张DM: 张三',
      '卡卡片群',
    ]);
    if (process.env.CHAT_CARD_SCREENSHOT_OUT) {
      await cardPage.screenshot({ path: process.env.CHAT_CARD_SCREENSHOT_OUT });
    }
    expect(errors).toEqual([]);
  }, 20_000);
});
