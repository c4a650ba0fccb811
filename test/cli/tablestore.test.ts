/**
 * Owner commands against Tablestore, end to end through real processes: the
 * `dingtalk-channel tablestore-fake` subcommand serves a fake instance, and
 * `STATE_BACKEND=tablestore … dingtalk-channel pairing list` reads it like it reads DynamoDB.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_DEFAULTS } from '../../lib/cli/tablestore-fake-command.js';
import { manualClock } from '../../lib/clock.js';
import { startPairing } from '../../lib/policy/index.js';
import { TablestoreStateStore } from '../../lib/state/tablestore.js';
import { runBin } from './support.js';

const BIN = fileURLToPath(new URL('../../bin/dingtalk-channel.js', import.meta.url));
const TABLE = 'cli_state';

let child: ChildProcess;
let endpoint: string;

beforeAll(async () => {
  child = spawn(process.execPath, [BIN, 'tablestore-fake', '--table', TABLE], {
    env: { PATH: process.env.PATH },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const first = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`tablestore-fake exited with ${code}`)));
  });
  endpoint = /listening on (\S+)/.exec(first)?.[1] ?? '';
}, 60_000);

afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
});

const envFor = (secret = FAKE_DEFAULTS.accessKeySecret): NodeJS.ProcessEnv => ({
  STATE_BACKEND: 'tablestore',
  TABLESTORE_ENDPOINT: endpoint,
  TABLESTORE_INSTANCE: FAKE_DEFAULTS.instance,
  ALIBABA_CLOUD_ACCESS_KEY_ID: FAKE_DEFAULTS.accessKeyId,
  ALIBABA_CLOUD_ACCESS_KEY_SECRET: secret,
  STATE_TABLE: TABLE,
  DINGTALK_CONFIG: JSON.stringify({ channels: { dingtalk: {} } }),
});

describe('owner commands on Tablestore', () => {
  it('tablestore-fake prints its endpoint first; pairing list/approve behave as on DynamoDB', async () => {
    expect(endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const store = new TablestoreStateStore({
      endpoint,
      instance: FAKE_DEFAULTS.instance,
      tableName: TABLE,
      accessKeyId: FAKE_DEFAULTS.accessKeyId,
      accessKeySecret: FAKE_DEFAULTS.accessKeySecret,
    });
    const started = await startPairing(
      store,
      { accountId: 'default', userId: 'alice', nick: 'Alice' },
      { clock: manualClock(Date.now()) },
    );
    await store.close();
    const code = (started as { request: { code: string } }).request.code;

    const listed = await runBin(['pairing', 'list', '--json'], envFor());
    expect(listed.stderr).toBe('');
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual([
      expect.objectContaining({ code, userId: 'alice', nick: 'Alice' }),
    ]);

    const missing = await runBin(['pairing', 'approve', 'ZZZZ2222'], envFor());
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('No pending pairing request with code ZZZZ2222');

    const approved = await runBin(['pairing', 'approve', code], envFor());
    expect(approved.code).toBe(0);
    const after = await runBin(['pairing', 'list', '--json'], envFor());
    expect(JSON.parse(after.stdout)).toEqual([]);
  });

  it('a wrong secret is a clear refusal naming the store, never showing the secret', async () => {
    const denied = await runBin(['pairing', 'list'], envFor('not-the-secret-0042'));
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain(`Tablestore table "${TABLE}"`);
    expect(denied.stderr).toContain('OTSAuthFailed');
    expect(denied.stderr).not.toContain('not-the-secret-0042');
  });

  it('STATE_BACKEND=tablestore without an endpoint is a configuration error (exit 2)', async () => {
    const { TABLESTORE_ENDPOINT: _, ...env } = envFor();
    const result = await runBin(['pairing', 'list'], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('TABLESTORE_ENDPOINT');
  });
});
