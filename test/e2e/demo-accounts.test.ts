/**
 * Demo mode is the whole product in miniature: a configuration with several accounts runs
 * against one simulated app per account, and the owner commands from "another terminal" work
 * against the running demo completely (`send`, `pairing approve --notify`), finding it through
 * `<stateDir>/demo.json`. The demo and the commands share only the state directory and the
 * environment, as two terminals would; the commands run through the CLI's own `main`.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DemoHandle, startDemo } from '../../lib/cli/demo.js';
import { main } from '../../lib/cli/main.js';
import { loadConfig } from '../../lib/config/index.js';
import { memoryLogger } from '../../lib/log.js';
import { ACCESS_APPROVED_TEXT } from '../../lib/policy/pairing.js';

const stateDir = mkdtempSync(join(tmpdir(), 'dingtalk-demo-accounts-'));
const env: NodeJS.ProcessEnv = {
  PATH: process.env.PATH,
  PORT: '0',
  DINGTALK_SIMULATOR_PORT: '0',
  STATE_DIR: stateDir,
  LOG_LEVEL: 'warn',
  DINGTALK_CONFIG: JSON.stringify({
    dm: { policy: 'open', allowFrom: ['*'] },
    accounts: { alpha: {}, beta: { dm: { policy: 'pairing' } } },
  }),
};
let demo: DemoHandle;

async function cli(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (l) => out.push(l), err: (l) => err.push(l), env });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

beforeAll(async () => {
  demo = await startDemo(env, loadConfig(env), {
    logger: memoryLogger('warn'),
    simulatorLogger: memoryLogger('warn'),
    healthHost: '127.0.0.1',
  });
});

afterAll(async () => {
  await demo?.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

describe('demo mode with several accounts', () => {
  it('simulates one app per account and connects every account', async () => {
    expect(demo.sim.apps.map((a) => a.accountId)).toEqual(['alpha', 'beta']);
    expect(demo.running.relay.status()).toMatchObject({
      ready: true,
      accounts: [
        expect.objectContaining({ accountId: 'alpha', state: 'connected' }),
        expect.objectContaining({ accountId: 'beta', state: 'connected' }),
      ],
    });
    const injected = demo.sim.injectMessage({
      account: 'alpha',
      conversationType: '1',
      sender: { staffId: 'manager807' },
      text: 'hello alpha',
    });
    const [reply] = await demo.sim.waitForOutbox(
      (e) => e.conversationId === injected.conversationId,
    );
    expect(reply).toMatchObject({ account: 'alpha', text: expect.stringContaining('hello alpha') });
    const outcome = await demo.sim.waitFor(() =>
      demo.sim.outcomes().find((o) => o.messageId === injected.messageId),
    );
    expect(outcome.status).toBe('handled');
  });

  it('lets `send` from another terminal reach the demo, per account', async () => {
    const sent = await cli(
      'send',
      '--account',
      'beta',
      'dingtalk:user:manager807',
      '你好 from the owner',
    );
    expect(sent.err).toBe('');
    expect(sent.code).toBe(0);
    expect(sent.out).toBe('Sent 1 message to user manager807 (account beta).');
    const [entry] = await demo.sim.waitForOutbox((e) => e.text === '你好 from the owner');
    expect(entry).toMatchObject({ via: 'openapi', account: 'beta', userIds: ['manager807'] });
  });

  it('lets `pairing approve --notify` approve and notify through the demo', async () => {
    const injected = demo.sim.injectMessage({
      account: 'beta',
      conversationType: '1',
      sender: { staffId: 'stranger9', nick: '王五' },
      text: 'may I?',
    });
    const [challenge] = await demo.sim.waitForOutbox(
      (e) => e.conversationId === injected.conversationId,
    );
    const code = /Pairing code: ([A-Z0-9]{8})/.exec(challenge!.text)?.[1];
    expect(challenge!.text).toContain(`dingtalk-channel pairing approve ${code} --account beta`);
    const approved = await cli('pairing', 'approve', code!, '--account', 'beta', '--notify');
    expect(approved.err).toBe('');
    expect(approved.out).toContain(`Approved ${code} for account beta: stranger9 (王五)`);
    expect(approved.out).toContain('Sent stranger9 a message saying their access was approved.');
    const [notice] = await demo.sim.waitForOutbox((e) => e.text === ACCESS_APPROVED_TEXT);
    expect(notice).toMatchObject({ via: 'openapi', account: 'beta', userIds: ['stranger9'] });
  });

  it('forgets the demo once it stops: the commands ask for credentials again', async () => {
    await demo.stop();
    expect(existsSync(join(stateDir, 'demo.json'))).toBe(false);
    const sent = await cli('send', '--account', 'beta', 'dingtalk:user:manager807', 'hi');
    expect(sent.code).toBe(2);
    expect(sent.err).toContain('clientId');
  });
});
