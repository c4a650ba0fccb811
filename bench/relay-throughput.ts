/**
 * Relay hand-off: one account's stream into a local HTTP sink that answers 202.
 * - sustained rate: a closed loop (≤ 256 outstanding, below the relay's 64 + 256 queue bound);
 *   the relay's CPU time per message gives the rate one core could carry, because on a 2-core
 *   machine the simulator and sink share the cores with the relay;
 * - push→ACK latency at a fixed offered rate (open loop), as the simulator measured it: from
 *   sending the push frame to receiving the ACK frame.
 */
import { closedLoop, openLoop } from './load.js';
import { startRelayRig } from './relay-rig.js';
import { type Summary, summarize } from './stats.js';

export interface RelayThroughputOptions {
  messages: number;
  latencyRate: number;
  latencyMessages: number;
  bundle?: string;
}

export interface RelayThroughputResult {
  messages: number;
  seconds: number;
  /** Measured end to end on this machine (simulator and sink included). */
  msgsPerSec: number;
  relayCpuUsPerMsg: number;
  /** 1 s of relay CPU / CPU per message: the rate one core could carry. */
  oneCoreMsgsPerSec: number;
  ackLatencyMs: Summary & { rate: number };
  idleRssMb: number;
  shed: number;
  failed: number;
}

export async function benchRelayThroughput(
  options: RelayThroughputOptions,
): Promise<RelayThroughputResult> {
  const rig = await startRelayRig(1, options.bundle ? { bundle: options.bundle } : {});
  try {
    const idle = await rig.relay.memory({ gc: true });
    // Warm-up: JIT and connection pools, not measured.
    await runClosed(rig, 0, 1_000);
    const cpuBefore = rig.relay.cpuMs();
    const started = performance.now();
    await runClosed(rig, 1_000, options.messages);
    const seconds = (performance.now() - started) / 1000;
    const cpuMs = rig.relay.cpuMs() - cpuBefore;
    const ackSeq = rig.sim.acks().at(-1)?.seq ?? 0;
    const before = rig.acked();
    const offset = 1_000 + options.messages;
    await openLoop({
      rate: options.latencyRate,
      total: options.latencyMessages,
      inject: (i) => rig.inject(offset + i),
    });
    await rig.sim.waitFor(
      () => (rig.acked() - before >= options.latencyMessages ? true : undefined),
      60_000,
      'ACKs of the latency run',
    );
    const latencies = rig.sim
      .acks()
      .filter((a) => a.seq > ackSeq && a.kind === 'callback' && a.matched)
      .map((a) => a.latencyMs ?? Number.NaN);
    const counters = (await rig.relay.status()).accounts[0]?.relay;
    const usPerMsg = (cpuMs * 1000) / options.messages;
    return {
      messages: options.messages,
      seconds,
      msgsPerSec: options.messages / seconds,
      relayCpuUsPerMsg: usPerMsg,
      oneCoreMsgsPerSec: 1e6 / usPerMsg,
      ackLatencyMs: { ...summarize(latencies), rate: options.latencyRate },
      idleRssMb: idle.rssMb,
      shed: counters?.shed ?? 0,
      failed: counters?.failed ?? 0,
    };
  } finally {
    await rig.close();
  }
}

async function runClosed(
  rig: Awaited<ReturnType<typeof startRelayRig>>,
  offset: number,
  total: number,
): Promise<void> {
  const before = rig.acked();
  await closedLoop({
    sim: rig.sim,
    total,
    window: 256,
    inject: (i) => rig.inject(offset + i),
    completed: () => rig.acked() - before,
  });
}
