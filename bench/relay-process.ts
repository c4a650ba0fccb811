/**
 * The relay as the container runs it, in a child process of its own, so its memory and CPU time
 * are its own, not the simulator's or the benchmark's. The child runs the relay bundle (what the
 * container image runs; relay-bundle.ts) or, without one, `dingtalk-channel relay` through tsx.
 * A preloaded probe (memory-probe.mjs) reports process.memoryUsage() over IPC; CPU time is read
 * from /proc (Linux; NaN elsewhere).
 */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { RelayStatus } from '../lib/relay/relay.js';

const CLI = fileURLToPath(new URL('../bin/dingtalk-channel.js', import.meta.url));
const PROBE = fileURLToPath(new URL('./memory-probe.mjs', import.meta.url));
const START_TIMEOUT_MS = 30_000;
const MB = 1024 * 1024;

/** Memory of the child in MB. */
export interface ChildMemory {
  rssMb: number;
  heapUsedMb: number;
}

export interface RelayProcess {
  pid: number;
  healthUrl: string;
  /** Memory now; with `gc`, after a full garbage collection (the live heap). */
  memory(options?: { gc?: boolean }): Promise<ChildMemory>;
  /** User + system CPU time used so far, in ms. */
  cpuMs(): number;
  status(): Promise<RelayStatus>;
  /** SIGTERM, then wait for the exit (SIGKILL after 10 s). */
  stop(): Promise<void>;
}

/** Starts the relay with `env` and resolves once it prints its health URL (all accounts up). */
export async function spawnRelay(
  env: Record<string, string>,
  options: { bundle?: string; nodeFlags?: string[] } = {},
): Promise<RelayProcess> {
  const entry = options.bundle ? [options.bundle] : [CLI, 'relay'];
  // `nodeFlags`: the flags a host starts the relay with (the FC relay's command), measured as is.
  const flags = ['--expose-gc', ...(options.nodeFlags ?? []), '--import', PROBE];
  const child = spawn(process.execPath, [...flags, ...entry], {
    env: { ...process.env, ...env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const output: string[] = [];
  child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const healthUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error('relay did not start in time')),
      START_TIMEOUT_MS,
    );
    createInterface({ input: child.stdout! }).on('line', (line) => {
      output.push(line);
      const url = /health (http:\/\/\S+)\/healthz/.exec(line)?.[1];
      if (!url) return;
      clearTimeout(timer);
      resolve(url);
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`relay exited (${code}) before it was ready:\n${output.join('\n')}`));
    });
  });
  const pid = child.pid!;
  let probeId = 0;
  return {
    pid,
    healthUrl,
    memory: (opts = {}) =>
      new Promise((resolve, reject) => {
        const id = ++probeId;
        const timer = setTimeout(() => reject(new Error('memory probe did not answer')), 10_000);
        const onMessage = (m: { type?: string; id?: number; rss: number; heapUsed: number }) => {
          if (m?.type !== 'memory' || m.id !== id) return;
          clearTimeout(timer);
          child.off('message', onMessage);
          resolve({ rssMb: m.rss / MB, heapUsedMb: m.heapUsed / MB });
        };
        child.on('message', onMessage);
        child.send({ type: 'memory', id, gc: opts.gc === true });
      }),
    cpuMs: () => readCpuMs(pid),
    status: async () => (await (await fetch(`${healthUrl}/healthz`)).json()) as RelayStatus,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(kill);
    },
  };
}

let clockTicks: number | undefined;

function readCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
    return (ticks * 1000) / clockTicks;
  } catch {
    return Number.NaN;
  }
}
