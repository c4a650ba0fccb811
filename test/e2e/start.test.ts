/**
 * `npm start` as a new user meets it: a child process in demo mode (no credentials), the printed
 * curl commands run exactly as printed, echo replies read back from /__sim/outbox, an owner
 * command from "another terminal" against the same embedded store, then SIGTERM → exit 0.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const stateDir = mkdtempSync(join(tmpdir(), 'dingtalk-start-'));
const env = {
  ...process.env,
  PORT: '0',
  DINGTALK_SIMULATOR_PORT: '0',
  STATE_DIR: stateDir,
  LOG_LEVEL: 'warn',
  DINGTALK_CLIENT_ID: '',
  DINGTALK_CLIENT_SECRET: '',
  DINGTALK_CONFIG: '',
  DINGTALK_CONFIG_FILE: '',
};
let child: ChildProcess;
const lines: string[] = [];

/** Resolves once a printed line matches; rejects if the process exits first. */
function waitForLine(pattern: RegExp): Promise<string> {
  const seen = lines.find((l) => pattern.test(l));
  if (seen) return Promise.resolve(seen);
  return new Promise((resolve, reject) => {
    const onLine = (line: string) => {
      if (pattern.test(line)) resolve(line);
    };
    reader.on('line', onLine);
    child.once('exit', (code) =>
      reject(new Error(`start exited early (${code}): ${lines.join('\n')}`)),
    );
  });
}
let reader: ReturnType<typeof createInterface>;

beforeAll(async () => {
  child = spawn(process.execPath, ['bin/dingtalk-channel.js', 'start'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  reader = createInterface({ input: child.stdout! });
  reader.on('line', (line) => lines.push(line));
  await waitForLine(/Ctrl-C stops/);
}, 30_000);

afterAll(() => {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  rmSync(stateDir, { recursive: true, force: true });
});

const printedCurls = () =>
  lines.filter((l) => l.trim().startsWith('curl -s -X POST')).map((l) => l.trim());
const outboxCurl = () => lines.find((l) => /curl -s http.*\/__sim\/outbox$/.test(l))!.trim();

async function outboxUntil(count: number) {
  for (let i = 0; i < 100; i++) {
    const { stdout } = await run('sh', ['-c', outboxCurl()]);
    const entries = JSON.parse(stdout) as { text: string; conversationId: string; via: string }[];
    if (entries.length >= count) return entries;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('no reply in the outbox');
}

describe('npm start (demo mode)', () => {
  it('prints the health URL, the simulator URL and copy-pasteable commands', async () => {
    expect(lines[0]).toContain('demo mode');
    const health = /Health:\s+(http:\/\/\S+)\/healthz/.exec(lines.join('\n'))?.[1];
    expect(health).toBeDefined();
    const ready = await fetch(`${health}/readyz`);
    expect(ready.status).toBe(200);
    expect(printedCurls()).toHaveLength(2);
    const chat = /Chat page:\s+(http:\/\/\S+)/.exec(lines.join('\n'))?.[1];
    const page = await fetch(chat!);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await page.text()).toContain('/chat/chat.js');
  });

  it('answers the printed DM and group curls with echo replies', async () => {
    const [dmCurl, groupCurl] = printedCurls();
    const dm = JSON.parse((await run('sh', ['-c', dmCurl!])).stdout) as { conversationId: string };
    const group = JSON.parse((await run('sh', ['-c', groupCurl!])).stdout) as {
      conversationId: string;
    };
    const outbox = await outboxUntil(2);
    const dmReply = outbox.find((e) => e.conversationId === dm.conversationId);
    const groupReply = outbox.find((e) => e.conversationId === group.conversationId);
    expect(dmReply).toMatchObject({
      via: 'webhook',
      text: expect.stringContaining('Echo agent: hello bot'),
    });
    expect(groupReply).toMatchObject({
      via: 'webhook',
      text: expect.stringContaining('Echo agent: hello group'),
    });
    expect(groupReply?.text).toContain('@manager807');
  });

  it('lets owner commands reach the running store from another process', async () => {
    const { stdout } = await run(
      process.execPath,
      ['bin/dingtalk-channel.js', 'allow', 'add', 'colleague42'],
      { env },
    );
    expect(stdout).toContain('colleague42');
    const list = await run(
      process.execPath,
      ['bin/dingtalk-channel.js', 'allow', 'list', '--json'],
      { env },
    );
    expect(JSON.parse(list.stdout)).toEqual([expect.objectContaining({ userId: 'colleague42' })]);
  });

  it('shuts down cleanly on SIGTERM', async () => {
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const [code] = await exited;
    expect(code).toBe(0);
    expect(lines.at(-1)).toBe('Stopped.');
  });
});
