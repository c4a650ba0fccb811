/**
 * Running the real deployment tooling in tests: osls (`serverless`) as a child process, offline,
 * with no AWS credentials or profile from the developer's machine, telemetry and notifications
 * off, in a throwaway service directory so two runs never share `.esbuild/` or `.serverless/`.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SERVERLESS_BIN } from '../../infra/scripts/isolated-service.js';

export { type IsolatedService, isolatedService } from '../../infra/scripts/isolated-service.js';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Environment for a child that must not find (or reach for) real AWS credentials. */
export function isolatedEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    SLS_TELEMETRY_DISABLED: '1',
    SLS_NOTIFICATIONS_MODE: 'off',
    SLS_DEPRECATION_DISABLE: '*',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    // Point the shared config files somewhere empty: no profile of the developer's can leak in.
    AWS_CONFIG_FILE: join(tmpdir(), 'dingtalk-channel-no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(tmpdir(), 'dingtalk-channel-no-aws-credentials'),
    ...extra,
  };
}

/** Runs `serverless <args>` in `serviceDir` (see isolatedService) with `env` (see isolatedEnv). */
export function runServerless(
  args: string[],
  options: { env: NodeJS.ProcessEnv; serviceDir: string; timeoutMs?: number },
): Promise<RunResult> {
  return runNode([SERVERLESS_BIN, ...args], {
    env: options.env,
    cwd: options.serviceDir,
    timeoutMs: options.timeoutMs ?? 240_000,
  });
}

/** Runs `node <args>` in the repository. */
export function runNode(
  args: string[],
  options: { env: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number },
): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      args,
      {
        cwd: options.cwd ?? REPO_ROOT,
        env: options.env,
        timeout: options.timeoutMs ?? 60_000,
        maxBuffer: 32 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const code = error ? Number((error as { code?: unknown }).code ?? 1) : 0;
        resolve({ code: Number.isNaN(code) ? 1 : code, stdout, stderr });
      },
    );
  });
}

/** A temporary directory outside the repository; `remove()` deletes it. */
export async function tempDir(prefix: string): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `${prefix}-`));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}
