import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manualClock } from '../../lib/clock.js';
import { startPairing } from '../../lib/policy/index.js';
import type { TestDynalite } from '../support/dynalite.js';
import { freshTable, runBin, startTestDynalite } from './support.js';

let db: TestDynalite;
beforeAll(async () => {
  db = await startTestDynalite();
});
afterAll(async () => {
  await db.close();
});

describe('§3 Pairing: the dingtalk-channel executable', () => {
  it('pairing list --json reads DynamoDB named by the environment; exit codes carry through', async () => {
    const { store, env } = await freshTable(db);
    const started = await startPairing(
      store,
      { accountId: 'default', userId: 'alice', nick: 'Alice' },
      { clock: manualClock(Date.now()) },
    );
    const code = (started as { request: { code: string } }).request.code;
    const childEnv = { ...env, AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x' };

    const listed = await runBin(['pairing', 'list', '--json'], childEnv);
    expect(listed.stderr).not.toMatch(/error/i);
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual([
      expect.objectContaining({ code, userId: 'alice', nick: 'Alice' }),
    ]);

    const missing = await runBin(['pairing', 'approve', 'ZZZZ2222'], childEnv);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(
      'No pending pairing request with code ZZZZ2222 for account default',
    );

    const usage = await runBin(['pairing', 'approve'], childEnv);
    expect(usage.code).toBe(2);
  });
});
