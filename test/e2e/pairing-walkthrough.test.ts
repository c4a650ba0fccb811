/**
 * The owner's walk-through (channel-semantics.md §2, §3) through the real pipeline, dynalite and
 * the CLI as a child process: an unknown DM sender gets exactly one challenge, `pairing approve`
 * admits them, `allow remove` shuts them out again.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestChannel, TEST_APP, type TestChannel } from '../support/channel.js';

const run = promisify(execFile);
let ch: TestChannel;
let cliEnv: NodeJS.ProcessEnv;
const SENDER = { staffId: 'newcomer42', nick: '新同事' };

beforeAll(async () => {
  ch = await startTestChannel({ store: 'dynalite', channel: { dm: { policy: 'pairing' } } });
  cliEnv = {
    ...process.env,
    DINGTALK_CLIENT_ID: TEST_APP.clientId,
    DINGTALK_CLIENT_SECRET: TEST_APP.clientSecret,
    DINGTALK_CONFIG: '',
    DINGTALK_CONFIG_FILE: '',
    STATE_BACKEND: 'dynamodb',
    DYNAMODB_ENDPOINT: ch.dynamo!.endpoint,
    STATE_TABLE: ch.dynamo!.tableName,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    LOG_LEVEL: 'silent',
  };
});
afterAll(() => ch.close());

async function dm(text: string) {
  const before = ch.sim.outbox().length;
  const { event } = ch.inject({ conversationType: '1', sender: SENDER, text });
  const outcome = await ch.handle(event);
  return { outcome, replies: ch.sim.outbox().slice(before) };
}

const cli = (...args: string[]) =>
  run(process.execPath, ['bin/dingtalk-channel.js', ...args], { env: cliEnv });

describe('pairing walk-through', () => {
  let code = '';

  it('challenges an unknown sender exactly once', async () => {
    const first = await dm('hello?');
    expect(first.replies).toHaveLength(1);
    const text = first.replies[0]!.text;
    code = /\b([A-HJ-NP-Z2-9]{8})\b/.exec(text)?.[1] ?? '';
    expect(code).toHaveLength(8);
    expect(text).toContain('newcomer42');
    expect(text).toContain(`dingtalk-channel pairing approve ${code}`);

    const again = await dm('anyone there?');
    expect(again.replies).toEqual([]);
    expect(again.outcome).toMatchObject({ status: 'dropped', reason: 'pairing_pending' });
  });

  it('lists the request and admits the sender with `pairing approve` (child process)', async () => {
    const listed = JSON.parse((await cli('pairing', 'list', '--json')).stdout) as {
      code: string;
      userId: string;
    }[];
    expect(listed).toEqual([expect.objectContaining({ code, userId: 'newcomer42' })]);
    const approved = await cli('pairing', 'approve', code.toLowerCase());
    expect(approved.stdout).toContain('newcomer42');

    const admitted = await dm('now?');
    expect(admitted.replies).toMatchObject([{ text: expect.stringContaining('Echo agent: now?') }]);
  });

  it('shuts them out again with `allow remove`', async () => {
    await cli('allow', 'remove', 'newcomer42');
    const after = await dm('still here?');
    expect(after.replies.some((r) => r.text.includes('Echo agent'))).toBe(false);
    // Not on any list any more: pairing starts over with a fresh code.
    expect(after.replies).toHaveLength(1);
    expect(after.replies[0]!.text).not.toContain(code);
  });

  it('refuses an unknown code with exit 1 and a specific message', async () => {
    const result = await cli('pairing', 'approve', 'ABCD2345').catch(
      (err: { code: number; stderr: string }) => err,
    );
    expect(result).toMatchObject({ code: 1 });
    expect((result as { stderr: string }).stderr).toContain(
      'No pending pairing request with code ABCD2345 for account default',
    );
  });
});
