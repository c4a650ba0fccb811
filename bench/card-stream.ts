/**
 * Streamed AI card replies (issue 13): ours (the real handler in card mode, default card
 * settings) and the peer pattern (card-peer.ts) side by side, the same streaming agent (the
 * http agent adapter reading a local webhook that streams the contract's server-sent events)
 * and the same simulator.
 *
 * - first visible content: the simulator's time of the card's first create/update with
 *   non-empty content, minus the time the agent wrote its first token (the webhook writes the
 *   first event as it answers; both clocks are this process's `Date.now`);
 * - paid card calls per reply, counted at the simulator (the create plus every recorded
 *   update): a slow long answer (many tokens, spaced) and a fast long answer (all at once).
 */
import { createHttpAgent } from '../lib/agent/http.js';
import type { Agent } from '../lib/agent/port.js';
import { loadConfig } from '../lib/config/index.js';
import { DingTalkApi } from '../lib/dingtalk/api.js';
import { CardApi, outTrackIdFor } from '../lib/dingtalk/cards.js';
import type { MessageEvent } from '../lib/forward/port.js';
import { createLogger } from '../lib/log.js';
import { createMessageHandler } from '../lib/pipeline/index.js';
import { createRuntime } from '../lib/runtime/index.js';
import type { SimCard, Simulator } from '../lib/simulator/index.js';
import { MemoryStateStore } from '../lib/state/memory.js';
import { type FakeAgentHttp, startFakeAgentHttp } from '../test/support/fake-agent-http.js';
import { pushedEvent } from '../test/support/pushed-event.js';
import { peerCardReply } from './card-peer.js';
import { benchApp, channelEnv, startBenchSimulator } from './rig.js';
import { type Summary, summarize } from './stats.js';

/** One kind of answer: `replies` of `tokens` token chunks, `gapMs` apart, `concurrency` at a time. */
export interface AnswerShape {
  replies: number;
  tokens: number;
  gapMs: number;
  concurrency: number;
}

export interface CardStreamSizes {
  latency: AnswerShape;
  slowLong: AnswerShape;
  fastLong: AnswerShape;
}

export interface CardStrategyResult {
  /** Agent's first token → first visible card content (ms). */
  firstVisibleMs: Summary;
  /** Paid card calls per reply. */
  calls: { latency: Summary; slowLong: Summary; fastLong: Summary };
  /** Cards not finished at the end (must be 0). */
  unfinished: number;
  /** Cards whose final content is not the whole answer (must be 0). */
  wrongContent: number;
}

export interface CardStreamResult {
  budget: number;
  minIntervalMs: number;
  shapes: CardStreamSizes;
  ours: CardStrategyResult;
  peer: CardStrategyResult;
}

type Scenario = keyof CardStreamSizes;
const TEMPLATE = 'dingtalk-channel.ai-card.schema';

interface Run {
  sim: Simulator;
  hook: FakeAgentHttp;
  agent: Agent;
  /** Message text → when the webhook wrote its first token. */
  firstToken: Map<string, number>;
  shapeOf: Map<string, AnswerShape>;
  close(): Promise<void>;
}

const tokensOf = (shape: AnswerShape) => Array.from({ length: shape.tokens }, (_, i) => `tok${i} `);

async function startRun(): Promise<Run> {
  const sim = await startBenchSimulator(1);
  const firstToken = new Map<string, number>();
  const shapeOf = new Map<string, AnswerShape>();
  const hook = await startFakeAgentHttp({
    respond: (req) => {
      const shape = shapeOf.get(req.body.text);
      if (!shape) return { status: 400, body: 'unknown bench message' };
      // The first event is written as this answer is sent (the fake writes it right away).
      firstToken.set(req.body.text, Date.now());
      return { stream: tokensOf(shape), gapMs: shape.gapMs };
    },
  });
  const agent = createHttpAgent({
    url: hook.url,
    keepsHistory: true,
    history: { maxTurns: 0, maxChars: 0 },
  });
  return {
    sim,
    hook,
    agent,
    firstToken,
    shapeOf,
    async close() {
      await hook.close();
      await sim.close();
    },
  };
}

/** Runs `count` jobs, `concurrency` at a time. */
async function pool(count: number, concurrency: number, job: (i: number) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    while (next < count) await job(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

/** Where a card first showed content: its create, or its first update carrying some. */
export function firstVisibleAt(card: SimCard): number | undefined {
  if (card.createParams.msgContent) return card.createdAt;
  const update = card.updates.find((u) =>
    u.kind === 'streaming' ? Boolean(u.content) : Boolean(u.params?.msgContent),
  );
  return update?.at;
}

/** The card's paid calls: its create and every update the simulator recorded. */
const callsOf = (card: SimCard) => 1 + card.updates.length;

interface Reply {
  text: string;
  outTrackId: string;
  scenario: Scenario;
}

function strategyResult(run: Run, replies: Reply[]): CardStrategyResult {
  const cards = new Map(run.sim.cards().map((c) => [c.outTrackId, c]));
  const visible: number[] = [];
  const calls: Record<Scenario, number[]> = { latency: [], slowLong: [], fastLong: [] };
  let unfinished = 0;
  let wrongContent = 0;
  for (const reply of replies) {
    const card = cards.get(reply.outTrackId);
    if (card?.state !== 'finished') {
      unfinished += 1;
      continue;
    }
    const shape = run.shapeOf.get(reply.text)!;
    if (card.params.msgContent?.trim() !== tokensOf(shape).join('').trim()) wrongContent += 1;
    calls[reply.scenario].push(callsOf(card));
    const seen = firstVisibleAt(card);
    const token = run.firstToken.get(reply.text);
    if (reply.scenario === 'latency' && seen !== undefined && token !== undefined) {
      visible.push(seen - token);
    }
  }
  return {
    firstVisibleMs: summarize(visible),
    calls: {
      latency: summarize(calls.latency),
      slowLong: summarize(calls.slowLong),
      fastLong: summarize(calls.fastLong),
    },
    unfinished,
    wrongContent,
  };
}

/** Ours: the real handler with `replyMode: card` and the card schema's defaults. */
async function runOurs(sizes: CardStreamSizes) {
  const run = await startRun();
  try {
    const config = loadConfig(
      channelEnv(run.sim, 1, {
        DINGTALK_REPLY_MODE: 'card',
      }),
    );
    const rt = await createRuntime(config, {
      store: new MemoryStateStore(),
      agent: run.agent,
      logger: createLogger({ level: 'silent' }),
    });
    const handle = createMessageHandler(rt);
    const replies: Reply[] = [];
    for (const scenario of Object.keys(sizes) as Scenario[]) {
      const shape = sizes[scenario];
      await pool(shape.replies, shape.concurrency, async (i) => {
        const text = `ours ${scenario} ${i}`;
        run.shapeOf.set(text, shape);
        const event = injectEvent(run.sim, text, `ours-${scenario}-${i}`);
        const msgId = (JSON.parse(event.data) as { msgId: string }).msgId;
        await handle(event, { deadline: Date.now() + 60_000 });
        replies.push({ text, outTrackId: outTrackIdFor(event.accountId, msgId), scenario });
      });
    }
    return {
      result: strategyResult(run, replies),
      card: config.accounts[0]!.card,
    };
  } finally {
    await run.close();
  }
}

/** The peer pattern through the same card client and simulator. */
async function runPeer(sizes: CardStreamSizes): Promise<CardStrategyResult> {
  const run = await startRun();
  try {
    const app = benchApp(0);
    const cards = new CardApi(
      new DingTalkApi({
        clientId: app.clientId,
        clientSecret: app.clientSecret,
        apiBase: run.sim.apiBase,
        oapiBase: run.sim.oapiBase,
      }),
      { maxAttempts: 1 },
    );
    const replies: Reply[] = [];
    for (const scenario of Object.keys(sizes) as Scenario[]) {
      const shape = sizes[scenario];
      await pool(shape.replies, shape.concurrency, async (i) => {
        const text = `peer ${scenario} ${i}`;
        const staffId = `peer-${scenario}-${i}`;
        run.shapeOf.set(text, shape);
        injectEvent(run.sim, text, staffId); // the sender exists in the org, as for ours
        const outTrackId = `peer_${scenario}_${i}`;
        await peerCardReply({
          cards,
          agent: run.agent,
          request: {
            accountId: app.accountId,
            messageId: outTrackId,
            sessionKey: `dingtalk:${app.accountId}:dm:${staffId}`,
            text,
            media: [],
            sender: { id: staffId },
            conversation: { id: `cid-${staffId}`, type: 'dm' },
            history: [],
          },
          outTrackId,
          templateId: TEMPLATE,
          space: { type: 'dm', staffId },
          signal: AbortSignal.timeout(60_000),
        });
        replies.push({ text, outTrackId, scenario });
      });
    }
    return strategyResult(run, replies);
  } finally {
    await run.close();
  }
}

function injectEvent(sim: Simulator, text: string, staffId: string): MessageEvent {
  const injected = sim.injectMessage({
    account: benchApp(0).accountId,
    conversationType: '1',
    sender: { staffId, nick: staffId },
    text,
  });
  return pushedEvent(sim, injected.messageId);
}

/** Measures both strategies, ours first. */
export async function benchCardStream(sizes: CardStreamSizes): Promise<CardStreamResult> {
  const ours = await runOurs(sizes);
  const peer = await runPeer(sizes);
  return {
    budget: ours.card.maxCalls,
    minIntervalMs: ours.card.minIntervalMs,
    shapes: sizes,
    ours: ours.result,
    peer,
  };
}
