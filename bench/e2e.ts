/**
 * End to end, push → reply, through `npm start`'s path (relay → in-process forwarder → handler →
 * session webhook, embedded dynalite store) with an agent that answers instantly (echo), and the
 * inline baseline (inline-baseline.ts) given the same messages and the same agent.
 * Latency: open loop at a fixed rate, from the simulator sending the push to the simulator
 * receiving the reply (attributed by conversation: every message comes from its own sender).
 * Throughput: a closed loop (≤ 64 unanswered), replies per second.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEchoAgent } from '../lib/agent/index.js';
import { loadConfig } from '../lib/config/index.js';
import { createLogger } from '../lib/log.js';
import { runRelay } from '../lib/relay/run.js';
import type { Simulator } from '../lib/simulator/index.js';
import { countingStore } from '../lib/state/counting.js';
import { createStateStore } from '../lib/state/index.js';
import { startInlineBot } from './inline-baseline.js';
import { closedLoop, openLoop } from './load.js';
import { benchApp, channelEnv, injectDm, startBenchSimulator } from './rig.js';
import { type Summary, summarize } from './stats.js';

export interface EndToEndOptions {
  rate: number;
  messages: number;
  throughputMessages: number;
}

export interface EndToEndSide {
  name: 'relay (npm start path)' | 'inline baseline';
  replyLatencyMs: Summary & { rate: number };
  ackLatencyMs: Summary;
  repliesPerSec: number;
  unanswered: number;
  perMessage: { storeOps: number; apiCalls: number; paidApiCalls: number };
}

export interface EndToEndResult {
  ours: EndToEndSide;
  inline: EndToEndSide;
}

/** A running channel under test; `perMessage` is read after the measured messages. */
interface Subject {
  perMessage(messages: number): EndToEndSide['perMessage'];
  stop(): Promise<void>;
}

export async function benchEndToEnd(options: EndToEndOptions): Promise<EndToEndResult> {
  const ours = await measure('relay (npm start path)', options, startOurs);
  const inline = await measure('inline baseline', options, startInline);
  return { ours, inline };
}

async function startOurs(sim: Simulator): Promise<Subject> {
  const stateDir = mkdtempSync(join(tmpdir(), 'dingtalk-bench-'));
  const config = loadConfig(
    channelEnv(sim, 1, {
      RELAY_TARGET: 'inprocess',
      STATE_BACKEND: 'local',
      STATE_DIR: stateDir,
    }),
    { requireCredentials: true },
  );
  const logger = createLogger({ level: 'silent' });
  const store = countingStore(
    await createStateStore(
      { backend: 'local', tableName: config.settings.state.table, stateDir },
      { logger },
    ),
  );
  const calls = { all: 0, paid: 0 };
  const running = await runRelay(config, {
    logger,
    healthHost: '127.0.0.1',
    runtime: {
      store,
      agent: createEchoAgent(),
      onApiCall: (call) => {
        calls.all += 1;
        if (call.paid) calls.paid += 1;
      },
    },
  });
  return {
    perMessage: (n) => ({
      storeOps: store.total() / n,
      apiCalls: calls.all / n,
      paidApiCalls: calls.paid / n,
    }),
    async stop() {
      await running.stop();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

async function startInline(sim: Simulator): Promise<Subject> {
  const app = benchApp(0);
  const bot = await startInlineBot({
    gatewayUrl: sim.gatewayUrl,
    clientId: app.clientId,
    clientSecret: app.clientSecret,
    agent: createEchoAgent(),
  });
  return {
    perMessage: () => ({ storeOps: 0, apiCalls: 1, paidApiCalls: 0 }),
    stop: () => bot.stop(),
  };
}

async function measure(
  name: EndToEndSide['name'],
  options: EndToEndOptions,
  start: (sim: Simulator) => Promise<Subject>,
): Promise<EndToEndSide> {
  const sim = await startBenchSimulator(1);
  const subject = await start(sim);
  try {
    const replies = () => sim.stats().webhookSends + sim.stats().openapiCalls;
    await runClosed(sim, 0, 200, replies); // warm-up
    const started = performance.now();
    await runClosed(sim, 200, options.throughputMessages, replies);
    const repliesPerSec = options.throughputMessages / ((performance.now() - started) / 1000);
    const offset = 200 + options.throughputMessages;
    const ackSeq = sim.acks().at(-1)?.seq ?? 0;
    const outboxSeq = sim.outbox().at(-1)?.seq ?? 0;
    const before = replies();
    const injected: { messageId: string; conversationId: string }[] = [];
    await openLoop({
      rate: options.rate,
      total: options.messages,
      inject: (i) => injected.push(injectDm(sim, offset + i)),
    });
    await sim
      .waitFor(() => (replies() - before >= options.messages ? true : undefined), 30_000)
      .catch(() => undefined); // unanswered messages are reported, not thrown
    const latency = replyLatencies(sim, injected, outboxSeq);
    return {
      name,
      replyLatencyMs: { ...summarize(latency.samples), rate: options.rate },
      ackLatencyMs: summarize(
        sim
          .acks()
          .filter((a) => a.seq > ackSeq && a.kind === 'callback' && a.matched)
          .map((a) => a.latencyMs ?? Number.NaN),
      ),
      repliesPerSec,
      unanswered: latency.unanswered,
      perMessage: subject.perMessage(options.messages + options.throughputMessages + 200),
    };
  } finally {
    await subject.stop();
    await sim.close();
  }
}

function runClosed(sim: Simulator, offset: number, total: number, replies: () => number) {
  const before = replies();
  return closedLoop({
    sim,
    total,
    window: 64,
    inject: (i) => injectDm(sim, offset + i),
    completed: () => replies() - before,
  });
}

/** Push → first reply in the message's conversation, in ms (the simulator's clock on both ends). */
function replyLatencies(
  sim: Simulator,
  injected: { messageId: string; conversationId: string }[],
  outboxSeq: number,
): { samples: number[]; unanswered: number } {
  const firstReply = new Map<string, number>();
  for (const entry of sim.outbox(outboxSeq)) {
    if (entry.conversationId && !firstReply.has(entry.conversationId)) {
      firstReply.set(entry.conversationId, entry.at);
    }
  }
  const pushedAt = new Map(sim.inbound().map((r) => [r.messageId, r.deliveries[0]?.at]));
  const samples: number[] = [];
  let unanswered = 0;
  for (const message of injected) {
    const replied = firstReply.get(message.conversationId);
    const pushed = pushedAt.get(message.messageId);
    if (replied === undefined || pushed === undefined) unanswered += 1;
    else samples.push(replied - pushed);
  }
  return { samples, unanswered };
}
