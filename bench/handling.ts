/**
 * Message handling overhead: the real handler (parse → dedup claim → policy → session turn →
 * agent → webhook reply → complete) on events built from what the simulator pushed, one message
 * at a time so nothing queues, minus the agent's own time (the echo agent, timed by a wrapper).
 * Also counts, per message, store operations and DingTalk API calls (paid ones separately).
 */
import { type Agent, createEchoAgent } from '../lib/agent/index.js';
import { loadConfig } from '../lib/config/index.js';
import type { MessageEvent } from '../lib/forward/port.js';
import { createLogger } from '../lib/log.js';
import { createMessageHandler } from '../lib/pipeline/index.js';
import { createRuntime } from '../lib/runtime/index.js';
import type { Simulator } from '../lib/simulator/index.js';
import { countingStore } from '../lib/state/counting.js';
import type { StateStore } from '../lib/state/port.js';
import { channelEnv, injectDm, startBenchSimulator } from './rig.js';
import { type Summary, summarize } from './stats.js';
import { openBenchStore, type StoreKind } from './stores.js';

export interface HandlingResult {
  store: StoreKind;
  messages: number;
  overheadMs: Summary;
  agentMs: Summary;
  /** Of the overhead, the time spent waiting on the store (summed per message). */
  storeMs: Summary;
  perMessage: {
    storeOps: number;
    /** Sequential store round trips (operations in flight together count once). */
    storeRounds: number;
    apiCalls: number;
    paidApiCalls: number;
  };
  /** A DM from a new sender at pairing capacity: dropped by policy. */
  perDrop: { storeOps: number; outcome: string };
  outcomes: Record<string, number>;
}

const WARMUP = 50;

/** Wraps a store so the time spent waiting on it is known (its round trips, for dynalite). */
function timedStore(inner: StateStore, clock: { ms: number }): StateStore {
  const timed =
    <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      const start = performance.now();
      try {
        return await fn(...args);
      } finally {
        clock.ms += performance.now() - start;
      }
    };
  return {
    get: timed((pk, sk, options) => inner.get(pk, sk, options)),
    put: timed((item, condition, options) => inner.put(item, condition, options)),
    update: timed((pk, sk, set, condition, options) =>
      inner.update(pk, sk, set, condition, options),
    ),
    delete: timed((pk, sk, condition, options) => inner.delete(pk, sk, condition, options)),
    query: timed((pk, options) => inner.query(pk, options)),
    close: () => inner.close(),
  };
}

/** Wraps an agent so the time spent inside `respond` is known. */
function timedAgent(inner: Agent, samples: number[]): Agent {
  return {
    ...inner,
    async respond(request, options) {
      const start = performance.now();
      try {
        return await inner.respond(request, options);
      } finally {
        samples.push(performance.now() - start);
      }
    },
  };
}

/** Runs `messages` DMs (each from a new sender, so each opens its own session) through the handler. */
export async function benchHandling(kind: StoreKind, messages: number): Promise<HandlingResult> {
  // No stream client connects: the bench builds each event from the push the simulator recorded.
  const sim = await startBenchSimulator(1, { queueWhenOffline: false });
  const opened = await openBenchStore(kind);
  const storeClock = { ms: 0 };
  const store = countingStore(timedStore(opened.store, storeClock));
  const agentSamples: number[] = [];
  const calls = { all: 0, paid: 0 };
  try {
    const rt = await createRuntime(loadConfig(channelEnv(sim, 1)), {
      store,
      agent: timedAgent(createEchoAgent(), agentSamples),
      logger: createLogger({ level: 'silent' }),
      onApiCall: (call) => {
        calls.all += 1;
        if (call.paid) calls.paid += 1;
      },
    });
    const handle = createMessageHandler(rt);
    const overhead: number[] = [];
    const storeTime: number[] = [];
    const outcomes: Record<string, number> = {};
    for (let i = 0; i < WARMUP + messages; i++) {
      if (i === WARMUP) {
        store.reset();
        calls.all = 0;
        calls.paid = 0;
        agentSamples.length = 0;
      }
      const event = pushedEvent(sim, i);
      const agentBefore = agentSamples.length;
      const storeBefore = storeClock.ms;
      const start = performance.now();
      const outcome = await handle(event, { deadline: Date.now() + 30_000 });
      const elapsed = performance.now() - start;
      if (i < WARMUP) continue;
      const agentTime = agentSamples.slice(agentBefore).reduce((a, b) => a + b, 0);
      overhead.push(elapsed - agentTime);
      storeTime.push(storeClock.ms - storeBefore);
      const key = `${outcome.status}${outcome.reason ? `:${outcome.reason}` : ''}`;
      outcomes[key] = (outcomes[key] ?? 0) + 1;
    }
    return {
      store: kind,
      messages,
      overheadMs: summarize(overhead),
      agentMs: summarize(agentSamples),
      storeMs: summarize(storeTime),
      perMessage: {
        storeOps: store.total() / messages,
        storeRounds: store.rounds() / messages,
        apiCalls: calls.all / messages,
        paidApiCalls: calls.paid / messages,
      },
      outcomes,
      perDrop: await measureDrops(sim, store),
    };
  } finally {
    await opened.close();
    await sim.close();
  }
}

const DROPS = 50;

/**
 * Store operations per dropped message: the pairing policy with its three request slots taken,
 * then DMs from new senders (each one refused at capacity without a reply or a record).
 */
async function measureDrops(
  sim: Simulator,
  store: ReturnType<typeof countingStore>,
): Promise<HandlingResult['perDrop']> {
  const env = channelEnv(sim, 1);
  const config = JSON.parse(env.DINGTALK_CONFIG!) as Record<string, unknown>;
  env.DINGTALK_CONFIG = JSON.stringify({ ...config, dm: { policy: 'pairing' } });
  const rt = await createRuntime(loadConfig(env), {
    store,
    agent: createEchoAgent(),
    logger: createLogger({ level: 'silent' }),
  });
  const handle = createMessageHandler(rt);
  const first = 1_000_000; // senders no earlier message used
  for (let i = first; i < first + 3; i++)
    await handle(pushedEvent(sim, i), { deadline: Date.now() + 30_000 });
  store.reset();
  let outcome = '';
  for (let i = first + 3; i < first + 3 + DROPS; i++) {
    const o = await handle(pushedEvent(sim, i), { deadline: Date.now() + 30_000 });
    outcome = `${o.status}:${o.reason ?? ''}`;
  }
  return { storeOps: store.total() / DROPS, outcome };
}

/** Injects DM `i` and returns the event the relay would forward for the push. */
function pushedEvent(sim: Simulator, i: number): MessageEvent {
  const injected = injectDm(sim, i);
  const record = sim.inbound().at(-1)!;
  return {
    version: 1,
    accountId: record.account,
    messageId: injected.messageId,
    data: JSON.stringify(record.payload),
    receivedAt: Date.now(),
  };
}
