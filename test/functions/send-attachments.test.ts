/**
 * Attachments in proactive sends (issue 16) against the simulator: `dingtalk-channel send
 * --image/--file` (local paths and URLs) and the send function's `attachments`, with the
 * same validation and errors; an attachment that cannot be sent fails the request before
 * anything is sent.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { handleSendRequest, resetSendFunction } from '../../functions/send/handler.js';
import { type CliIo, main } from '../../lib/cli/main.js';
import { clearTokenCache } from '../../lib/dingtalk/api.js';
import { type Simulator, startSimulator, TINY_PNG } from '../../lib/simulator/index.js';
import { type FileServer, startFileServer } from '../support/file-server.js';

const APP = {
  clientId: 'dingsendmedia',
  clientSecret: 'send-media-secret-1',
  accountId: 'default',
};
const TOKEN = 'send-token-media-0123456789abcdef0123';
const PDF = Buffer.from('%PDF-1.4 the weekly report\n');
let sim: Simulator;
let files: FileServer;
let env: NodeJS.ProcessEnv;
let dir: string;

beforeAll(async () => {
  sim = await startSimulator({ apps: [APP] });
  files = await startFileServer({
    '/weekly.pdf': { bytes: PDF, contentType: 'application/pdf' },
    '/missing.png': { status: 404 },
  });
  sim.injectMessage({ conversationType: '1', sender: { staffId: 'manager807' }, text: 'hi' });
  sim.injectMessage({
    conversationType: '2',
    conversationId: 'cidMediaRoom==',
    sender: { staffId: 'u2' },
    text: 'hi',
    atBot: true,
  });
  dir = await mkdtemp(join(tmpdir(), 'send-media-'));
  await writeFile(join(dir, 'chart.png'), TINY_PNG);
  env = {
    DINGTALK_CLIENT_ID: APP.clientId,
    DINGTALK_CLIENT_SECRET: APP.clientSecret,
    DINGTALK_API_BASE: sim.apiBase,
    DINGTALK_OAPI_BASE: sim.oapiBase,
    STATE_BACKEND: 'memory',
    SEND_TOKEN: TOKEN,
  };
});
afterAll(async () => {
  await sim.close();
  await files.close();
  await rm(dir, { recursive: true, force: true });
});
beforeEach(() => {
  clearTokenCache();
  resetSendFunction();
});

function io(): CliIo & { lines: string[]; errors: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  return { lines, errors, out: (l) => lines.push(l), err: (l) => errors.push(l), env };
}

const since = () => {
  const before = sim.outbox().length;
  return () =>
    sim
      .outbox()
      .slice(before)
      .map((e) => ({
        msgtype: e.msgtype,
        to: e.conversationId ?? e.userIds,
        attachments: e.attachments?.map((a) => `${a.type}:${a.name}:${a.size}`),
      }));
};

describe('dingtalk-channel send --image / --file', () => {
  it('sends the text, then a local image and a fetched file, in the order given', async () => {
    const sent = since();
    const out = io();
    const argv = [
      'send',
      'dingtalk:user:manager807',
      'Weekly',
      '--image',
      join(dir, 'chart.png'),
      `--file=${files.url('/weekly.pdf')}`,
    ];
    expect(await main(argv, out)).toBe(0);
    expect(out.lines.join('\n')).toContain('Sent 3 messages to user manager807');
    expect(sent()).toEqual([
      { msgtype: 'markdown', to: ['manager807'], attachments: undefined },
      { msgtype: 'image', to: ['manager807'], attachments: [`image:chart.png:${TINY_PNG.length}`] },
      { msgtype: 'file', to: ['manager807'], attachments: [`file:weekly.pdf:${PDF.length}`] },
    ]);
  });

  it('an image alone needs no text', async () => {
    const sent = since();
    expect(await main(['send', 'cidMediaRoom==', '--image', join(dir, 'chart.png')], io())).toBe(0);
    expect(sent()).toEqual([
      {
        msgtype: 'image',
        to: 'cidMediaRoom==',
        attachments: [`image:chart.png:${TINY_PNG.length}`],
      },
    ]);
  });

  it('a missing file is a usage error (exit 2); an unfetchable URL exits 1; nothing is sent', async () => {
    const sent = since();
    const missing = io();
    expect(await main(['send', 'manager807', 'x', '--file', join(dir, 'nope.pdf')], missing)).toBe(
      2,
    );
    expect(missing.errors.join('\n')).toContain('nope.pdf: no such file');
    const unfetchable = io();
    const argv = ['send', 'manager807', 'x', '--image', files.url('/missing.png')];
    expect(await main(argv, unfetchable)).toBe(1);
    expect(unfetchable.errors.join('\n')).toContain(
      'Nothing was sent: image missing.png could not be sent: it could not be fetched (HTTP 404)',
    );
    expect(sent()).toEqual([]);
  });
});

describe('the send function with attachments', () => {
  const post = (body: unknown) =>
    handleSendRequest(
      { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` }, body: JSON.stringify(body) },
      env,
    );

  it('sends base64 and URL attachments after the text', async () => {
    const sent = since();
    const result = await post({
      target: 'dingtalk:group:cidMediaRoom==',
      text: 'Nightly build',
      attachments: [
        { type: 'image', base64: TINY_PNG.toString('base64'), name: 'status.png' },
        { type: 'file', url: files.url('/weekly.pdf') },
      ],
    });
    expect(result).toEqual({ status: 200, body: { sent: 3 } });
    expect(sent().map((e) => e.attachments)).toEqual([
      undefined,
      [`image:status.png:${TINY_PNG.length}`],
      [`file:weekly.pdf:${PDF.length}`],
    ]);
  });

  it('refuses malformed attachments (400) and unsendable ones (400 attachment_failed), sending nothing', async () => {
    const sent = since();
    expect(
      await post({
        target: 'manager807',
        attachments: [{ type: 'video', url: 'https://x/y.mp4' }],
      }),
    ).toMatchObject({
      status: 400,
      body: { message: 'attachments[0].type must be "image" or "file"' },
    });
    expect(await post({ target: 'manager807', attachments: [{ type: 'file' }] })).toMatchObject({
      status: 400,
      body: { message: 'attachments[0] needs exactly one of url and base64' },
    });
    expect(await post({ target: 'manager807', attachments: 'report.pdf' })).toMatchObject({
      status: 400,
      body: { message: '`attachments` must be an array' },
    });
    sim.addFaults({ upload: { errcode: 40005 } });
    expect(
      await post({
        target: 'manager807',
        text: 'with a refused file',
        attachments: [{ type: 'file', url: files.url('/weekly.pdf') }],
      }),
    ).toMatchObject({
      status: 400,
      body: {
        error: 'attachment_failed',
        message:
          'Nothing was sent: file weekly.pdf could not be sent: DingTalk refused the file type.',
      },
    });
    expect(sent()).toEqual([]);
  });
});
