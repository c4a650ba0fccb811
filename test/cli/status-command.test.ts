/**
 * `dingtalk-channel status` against a running demo (embedded store, found through demo.json):
 * accounts, connection state, pending pairings and the last hour's relay counters after a
 * known sequence; then with the channel stopped, the store's facts still print and the relay
 * is reported unreachable instead of failing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DemoHandle, startDemo } from '../../lib/cli/demo.js';
import { main } from '../../lib/cli/main.js';
import { loadConfig } from '../../lib/config/index.js';
import { memoryLogger } from '../../lib/log.js';

const stateDir = mkdtempSync(join(tmpdir(), 'dingtalk-status-'));
const env: NodeJS.ProcessEnv = {
  PATH: process.env.PATH,
  PORT: '0',
  DINGTALK_SIMULATOR_PORT: '0',
  STATE_DIR: stateDir,
  LOG_LEVEL: 'warn',
  DINGTALK_CONFIG: JSON.stringify({
    dm: { policy: 'pairing', allowFrom: ['boss'] },
    groupPolicy: 'open',
    accounts: { main: {}, spare: { enabled: false } },
  }),
};
let demo: DemoHandle;

async function cli(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (l) => out.push(l), err: (l) => err.push(l), env });
  return { code, out, err };
}

beforeAll(async () => {
  demo = await startDemo(env, loadConfig(env), {
    logger: memoryLogger('warn'),
    simulatorLogger: memoryLogger('warn'),
    healthHost: '127.0.0.1',
  });
  const { sim } = demo;
  const answered = sim.injectMessage({
    conversationType: '1',
    sender: { staffId: 'boss' },
    text: 'hi',
  });
  const stranger = sim.injectMessage({
    conversationType: '1',
    sender: { staffId: 'stranger', nick: '路人' },
    text: 'hello?',
  });
  const ignored = sim.injectMessage({
    conversationType: '2',
    sender: { staffId: 'boss' },
    text: 'no mention',
    atBot: false,
  });
  for (const id of [answered, stranger, ignored].map((m) => m.messageId)) await sim.waitForAck(id);
});

afterAll(async () => {
  await demo?.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

describe('dingtalk-channel status', () => {
  it('prints accounts, connection, pending pairings and the last hour for the running demo', async () => {
    const { code, out, err } = await cli('status');
    expect(err).toEqual([]);
    expect(code).toBe(0);
    expect(out[0]).toBe(`State: the local store in ${stateDir}`);
    expect(out[1]).toBe(`Relay: ${demo.running.health.url} (ready)`);
    const table = out.slice(out.indexOf('') + 1);
    expect(table[0]).toMatch(/^ACCOUNT\s+ENABLED\s+CONNECTION\s+PENDING PAIRINGS$/);
    expect(table[1]).toMatch(/^main \(default\)\s+yes\s+connected\s+1$/);
    expect(table[2]).toMatch(/^spare\s+no\s+-\s+\?$/);
    const hour = out.findIndex((l) => l.startsWith('Last hour'));
    expect(out[hour + 1]).toMatch(
      /^ACCOUNT\s+RECEIVED\s+DROPPED\s+HANDED OFF\s+ACKED\s+SHED\s+MALFORMED\s+FAILED$/,
    );
    expect(out[hour + 2]).toMatch(/^main\s+3\s+1\s+2\s+3\s+0\s+0\s+0$/);
  });

  it('--json carries the same facts', async () => {
    const { out } = await cli('status', '--json');
    const report = JSON.parse(out.join('\n'));
    expect(report.relay).toEqual({ url: demo.running.health.url, reachable: true, ready: true });
    expect(report.accounts).toEqual([
      expect.objectContaining({
        accountId: 'main',
        default: true,
        connection: 'connected',
        pendingPairings: 1,
        lastHour: expect.objectContaining({ received: 3, acked: 3, shed: 0 }),
      }),
      { accountId: 'spare', enabled: false, default: false },
    ]);
  });

  it('still reports the store when no relay runs, and says where it looked', async () => {
    await demo.stop();
    const { code, out } = await cli('status', '--health', 'http://127.0.0.1:9');
    expect(code).toBe(0);
    expect(out[1]).toMatch(/^Relay: not reachable at http:\/\/127\.0\.0\.1:9 \(/);
    expect(out.find((l) => l.startsWith('main'))).toMatch(/^main \(default\)\s+yes\s+\?\s+1$/);
    expect(out.some((l) => l.startsWith('Last hour'))).toBe(false);
  });

  it('refuses stray arguments as a usage error', async () => {
    const { code, err } = await cli('status', 'extra');
    expect(code).toBe(2);
    expect(err.join('\n')).toContain('Unexpected argument "extra"');
  });
});
