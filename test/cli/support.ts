/**
 * Running the `dingtalk-channel` CLI in-process for tests: `main(argv, io)` with an env object,
 * stdout/stderr captured. A dynalite per test file stands in for DynamoDB; each test gets its
 * own table so tests never share state.
 */
import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { vi } from 'vitest';
import { main } from '../../lib/cli/main.js';
import type { StateStore } from '../../lib/state/port.js';
import { startTestDynalite, type TestDynalite } from '../support/dynalite.js';

export interface CliRun {
  code: number;
  out: string;
  err: string;
}

/** Runs the CLI with `env` as its whole environment. */
export async function runCli(argv: string[], env: NodeJS.ProcessEnv): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, {
    out: (line) => out.push(line),
    err: (line) => err.push(line),
    env,
  });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/**
 * The AWS SDK reads credentials from the process environment, not from the CLI's env object;
 * dynalite accepts any, so tests provide dummy ones there.
 */
export function stubAwsCredentials(): void {
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'test');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test');
}

let tableSeq = 0;

/** A fresh table on the dynalite, and the CLI environment that names it. */
export async function freshTable(
  db: TestDynalite,
  dingtalk: Record<string, unknown> = {},
): Promise<{ store: StateStore; env: NodeJS.ProcessEnv }> {
  const tableName = `cli-test-${++tableSeq}`;
  const store = await db.openStore({ tableName });
  const env: NodeJS.ProcessEnv = {
    STATE_BACKEND: 'dynamodb',
    DYNAMODB_ENDPOINT: db.endpoint,
    STATE_TABLE: tableName,
    AWS_REGION: 'us-east-1',
    DINGTALK_CONFIG: JSON.stringify({ channels: { dingtalk } }),
  };
  return { store, env };
}

export { startTestDynalite };

/** A loopback port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const BIN = fileURLToPath(new URL('../../bin/dingtalk-channel.js', import.meta.url));

/** Runs the real executable as a child process with exactly `env` (plus PATH). */
export function runBin(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env: { PATH: process.env.PATH, ...env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? Number((error as { code?: unknown }).code ?? 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
