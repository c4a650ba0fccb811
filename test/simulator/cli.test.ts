import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { type CliIo, main } from '../../lib/cli/main.js';
import { StreamClient } from '../../lib/dingtalk/stream-client.js';
import { memoryLogger } from '../../lib/log.js';
import { DEMO_APP } from '../../lib/simulator/index.js';
import { call, closeAll, onCleanup } from './helpers.js';

afterEach(closeAll);

function memoryIo(): CliIo & { outLines: string[]; errLines: string[] } {
  const outLines: string[] = [];
  const errLines: string[] = [];
  return {
    outLines,
    errLines,
    out: (l) => outLines.push(l),
    err: (l) => errLines.push(l),
    env: {},
  };
}

function firstLine(child: ChildProcess): Promise<string> {
  const lines = createInterface({ input: child.stdout! });
  return new Promise((resolve, reject) => {
    lines.once('line', (line) => {
      lines.close();
      resolve(line);
    });
    child.once('exit', (code) => reject(new Error(`simulator exited early with ${code}`)));
  });
}

describe('dingtalk-channel simulator', () => {
  it('runs as a child process: prints its URL first, serves the control API, exits 0 on SIGTERM', async () => {
    const child = spawn(process.execPath, ['bin/dingtalk-channel.js', 'simulator', '--port', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LOG_LEVEL: 'silent' },
    });
    onCleanup(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    const line = await firstLine(child);
    const url = /^DingTalk simulator listening on (http:\/\/127\.0\.0\.1:\d+)$/.exec(line)?.[1];
    expect(url).toBeDefined();
    const injected = await call(`${url}/__sim/messages`, {
      body: { conversationType: '1', sender: { staffId: 'manager807' }, text: 'from the cli test' },
    });
    expect(injected.status).toBe(200);
    const messages = await call(`${url}/__sim/messages`);
    expect(messages.body).toEqual([
      expect.objectContaining({ messageId: injected.body.messageId, state: 'queued' }),
    ]);
    // A connected client receives the queued message; its ACK shows up in /__sim/acks.
    const client = new StreamClient({
      accountId: DEMO_APP.accountId ?? 'default',
      clientId: DEMO_APP.clientId,
      clientSecret: DEMO_APP.clientSecret,
      gatewayUrl: `${url}/v1.0/gateway/connections/open`,
      logger: memoryLogger(),
      onRobotMessage: (delivery) => {
        delivery.ack();
      },
    });
    onCleanup(() => client.stop());
    await client.start();
    let acks = await call(`${url}/__sim/acks`);
    for (let i = 0; i < 100 && acks.body.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
      acks = await call(`${url}/__sim/acks`);
    }
    expect(acks.body).toEqual([
      expect.objectContaining({ messageId: injected.body.messageId, kind: 'callback', code: 200 }),
    ]);
    await client.stop();

    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const [code] = await exited;
    expect(code).toBe(0);
  });

  it.each([
    [['--port', 'abc'], '--port'],
    [['--port', '70000'], '--port'],
    [['--app', 'no-colon'], '--app'],
    [['--app', 'id:'], '--app'],
    [['--bogus'], 'bogus'],
    [['positional'], 'positional'],
  ])('exits 2 with a usage message for %j', async (args, mention) => {
    const io = memoryIo();
    expect(await main(['simulator', ...args], io)).toBe(2);
    expect(io.errLines.join('\n')).toContain(mention);
    expect(io.errLines.join('\n')).toContain('Usage: dingtalk-channel simulator');
  });

  it('prints help and exits 0 for --help', async () => {
    const io = memoryIo();
    expect(await main(['simulator', '--help'], io)).toBe(0);
    expect(io.outLines.join('\n')).toContain('--app clientId:clientSecret');
  });
});
