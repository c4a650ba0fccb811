/**
 * Hosts the packaged functions as FC 3.0 would, for the entry tests: the zip is unpacked into
 * a code directory, a built-in-runtime instance is a child process (fc-runtime.cjs) with the
 * function's environment, and the relay runs as the custom runtime starts it (its command and
 * args from the template, in the code directory, listening on the runtime port).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { unzip } from '../../../infra/scripts/read-zip.js';

const RUNTIME = fileURLToPath(new URL('./fc-runtime.cjs', import.meta.url));

/** Unpacks `zip` into a fresh directory (FC's /code). */
export async function unpack(zip: Buffer, prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `${prefix}-`));
  for (const [name, data] of unzip(zip)) {
    await mkdir(dirname(join(dir, name)), { recursive: true });
    await writeFile(join(dir, name), data);
  }
  return dir;
}

/** One warm instance of a built-in-runtime function. */
export interface FcInstance {
  invoke(
    event: string,
    context: Record<string, unknown>,
  ): Promise<{ result?: unknown; error?: string }>;
  close(): Promise<void>;
}

/** Starts an instance of the function in `codeDir` with `env` (FC's environment variables). */
export function startInstance(codeDir: string, env: NodeJS.ProcessEnv): FcInstance {
  const child = spawn(process.execPath, [RUNTIME, codeDir], {
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const waiting: ((line: string) => void)[] = [];
  const stderr: string[] = [];
  child.stderr?.on('data', (c: Buffer) => stderr.push(c.toString()));
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (line.startsWith('{"result"') || line.startsWith('{"error"')) waiting.shift()?.(line);
  });
  return {
    invoke: (event, context) =>
      new Promise((resolve, reject) => {
        if (child.exitCode !== null) reject(new Error(`instance exited: ${stderr.join('')}`));
        waiting.push((line) => resolve(JSON.parse(line)));
        child.stdin?.write(`${JSON.stringify({ event, context })}\n`);
      }),
    close: () => stop(child),
  };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(kill);
}

/** A free TCP port on 127.0.0.1 (the custom runtime's port must be known before start). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  return typeof address === 'object' && address ? address.port : 0;
}

/** A custom-runtime instance: `command args…` started in `codeDir`, as FC does. */
export function startCustomRuntime(
  codeDir: string,
  command: { args: string[] },
  env: NodeJS.ProcessEnv,
): { child: ChildProcess; output: string[]; close(): Promise<void> } {
  // FC runs Command (its Node 20) with Args; here the Node running the tests stands in for it.
  const child = spawn(process.execPath, command.args, {
    cwd: codeDir,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  child.stdout?.on('data', (c: Buffer) => output.push(c.toString()));
  child.stderr?.on('data', (c: Buffer) => output.push(c.toString()));
  return { child, output, close: () => stop(child) };
}

/** Polls FC's health check (HTTP GET on the port) until it answers 200. */
export async function waitHealthy(url: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await fetch(url)).status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`health check ${url} never answered 200`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Removes directories made by `unpack`. */
export const removeDirs = (dirs: string[]) =>
  Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
