/**
 * Relay memory: a fresh relay child per account count, idle RSS after start, then (with the most
 * accounts) many messages through it, measured at evenly spaced checkpoints. A leak shows as a
 * trend in the live heap (after a forced full GC) across the checkpoints, so growth is judged by
 * the least-squares slope over them rather than by two points, which GC noise can swing by MBs.
 * The first checkpoint comes after the heap has sized itself to the load.
 */
import { closedLoop } from './load.js';
import type { ChildMemory } from './relay-process.js';
import { type RelayRig, startRelayRig } from './relay-rig.js';

export interface MemoryOptions {
  /** Account counts to measure idle (each in a fresh relay). */
  accountCounts: number[];
  /** Messages through the relay with the most accounts. */
  messages: number;
  /** Memory is read every this many messages. */
  checkpointEvery: number;
  bundle?: string;
  /** Node flags the relay runs with (e.g. the FC relay's command, infra/aliyun). */
  nodeFlags?: string[];
}

export interface MemoryCheckpoint extends ChildMemory {
  messages: number;
}

export interface MemoryResult {
  idle: { accounts: number; rssMb: number; heapUsedMb: number }[];
  load: {
    accounts: number;
    messages: number;
    checkpoints: MemoryCheckpoint[];
    /** Live-heap trend over the checkpoints, bytes per message (least squares). */
    heapSlopeBytesPerMsg: number;
  };
}

export async function benchMemory(options: MemoryOptions): Promise<MemoryResult> {
  const counts = [...options.accountCounts].sort((a, b) => a - b);
  const idle: MemoryResult['idle'] = [];
  let load: MemoryResult['load'] | undefined;
  for (const accounts of counts) {
    const rig = await startRelayRig(accounts, {
      ...(options.bundle ? { bundle: options.bundle } : {}),
      ...(options.nodeFlags ? { nodeFlags: options.nodeFlags } : {}),
    });
    try {
      const memory = await rig.relay.memory({ gc: true });
      idle.push({ accounts, rssMb: memory.rssMb, heapUsedMb: memory.heapUsedMb });
      if (accounts === counts.at(-1)) load = await loadRun(rig, accounts, options);
    } finally {
      await rig.close();
    }
  }
  return { idle, load: load! };
}

async function loadRun(
  rig: RelayRig,
  accounts: number,
  options: MemoryOptions,
): Promise<MemoryResult['load']> {
  const before = rig.acked();
  const checkpoints: MemoryCheckpoint[] = [];
  for (let from = 0; from < options.messages; from += options.checkpointEvery) {
    const to = Math.min(options.messages, from + options.checkpointEvery);
    await closedLoop({
      sim: rig.sim,
      total: to - from,
      window: 256,
      inject: (i) => rig.inject(from + i),
      completed: () => rig.acked() - before - from,
    });
    checkpoints.push({ messages: to, ...(await rig.relay.memory({ gc: true })) });
  }
  return {
    accounts,
    messages: options.messages,
    checkpoints,
    heapSlopeBytesPerMsg: slope(checkpoints.map((c) => [c.messages, c.heapUsedMb * 1024 ** 2])),
  };
}

/** Least-squares slope of y over x (0 for fewer than two points). */
function slope(points: [number, number][]): number {
  if (points.length < 2) return 0;
  const n = points.length;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const sxy = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const sxx = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  return sxx === 0 ? 0 : sxy / sxx;
}
