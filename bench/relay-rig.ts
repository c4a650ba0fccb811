/**
 * A relay under test: the simulator with N apps, the HTTP sink, and the relay child process
 * connected to both (RELAY_TARGET = the sink, HMAC-signed as in production).
 */
import type { Simulator } from '../lib/simulator/index.js';
import { type RelayProcess, spawnRelay } from './relay-process.js';
import { channelEnv, injectDm, startBenchSimulator } from './rig.js';
import { type HttpSink, startHttpSink } from './sink.js';

export interface RelayRig {
  sim: Simulator;
  sink: HttpSink;
  relay: RelayProcess;
  /** ACKs the simulator has received so far. */
  acked(): number;
  /** Injects DM number `i`, to account `i mod accounts`. */
  inject(i: number): void;
  close(): Promise<void>;
}

/** Starts simulator, sink and relay child; waits `settleMs` for the relay to go idle. */
export async function startRelayRig(
  accounts: number,
  options: { bundle?: string; nodeFlags?: string[]; settleMs?: number } = {},
): Promise<RelayRig> {
  const sim = await startBenchSimulator(accounts);
  const sink = await startHttpSink();
  let relay: RelayProcess;
  try {
    relay = await spawnRelay(
      channelEnv(sim, accounts, {
        RELAY_TARGET: sink.url,
        RELAY_HMAC_SECRET: 'bench-hmac-secret-not-a-real-one',
      }),
      {
        ...(options.bundle ? { bundle: options.bundle } : {}),
        ...(options.nodeFlags ? { nodeFlags: options.nodeFlags } : {}),
      },
    );
  } catch (err) {
    await sink.close();
    await sim.close();
    throw err;
  }
  await new Promise((resolve) => setTimeout(resolve, options.settleMs ?? 1_500));
  return {
    sim,
    sink,
    relay,
    acked: () => sim.stats().acks,
    inject: (i) => {
      injectDm(sim, i, i % accounts);
    },
    async close() {
      await relay.stop();
      await sink.close();
      await sim.close();
    },
  };
}
