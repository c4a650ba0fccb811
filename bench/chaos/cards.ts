/**
 * Card mode in the chaos run (issue 13): which accounts and groups reply in AI cards, the
 * streaming agent behind them, and the ledger of paid card calls.
 *
 * - Config: odd-numbered accounts have `replyMode: card`; a group whose planned mode differs
 *   from its account's gets a `groups` entry saying so (the per-group override of §4).
 * - Agent: card-mode turns stream from the http agent adapter reading a local webhook that
 *   answers the contract's server-sent events (docs/agents.md "Streaming answers"), the echo
 *   text in pieces with varied spacing and, now and then, a slow start (the "thinking" card).
 * - Ledger: every card request the channel makes passes through the runtime's `fetch`, and is
 *   charged to the message (by `outTrackId`) and to the handler attempt running it (an
 *   AsyncLocalStorage scope set around each handler call), except 403 QPS refusals, which
 *   DingTalk refuses before doing anything (the card budget does not count them either), and
 *   stale-token refusals, which the API client retries once with a fresh token.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHttpAgent } from '../../lib/agent/http.js';
import type { Agent } from '../../lib/agent/port.js';
import { isQpsLimit } from '../../lib/dingtalk/http.js';
import {
  type FakeAgentHttp,
  type FakeAgentHttpAnswer,
  startFakeAgentHttp,
} from '../../test/support/fake-agent-http.js';
import type { ChaosOptions } from './options.js';
import { isCardAccount, type PlannedMessage } from './plan.js';

/**
 * The card settings of the run (the budget is the schema default). The run compresses time
 * (150 messages/s, half in cards), far past what one app may send DingTalk in a second, so the
 * channel's own QPS pacing (card.qpsPerApi) is lifted: it would only slow the run, which is about
 * faults, not rates (test/pipeline/card-qps.test.ts covers the pacing).
 */
export const CHAOS_CARD = {
  maxCalls: 5,
  minIntervalMs: 100,
  thinkingDelayMs: 300,
  qpsPerApi: 1_000,
} as const;

/** `channels.dingtalk` fields for card mode: per-account `replyMode` and group overrides. */
export function cardConfig(
  options: ChaosOptions,
  messages: readonly PlannedMessage[],
): { root: Record<string, unknown>; account: (index: number) => Record<string, unknown> } {
  const groupsOf = new Map<number, Record<string, { replyMode: 'card' | 'markdown' }>>();
  for (const m of messages) {
    if (m.conversation !== 'group' || !m.groupId) continue;
    const index = Number(m.accountId.replace('acct', ''));
    if (m.card === isCardAccount(index, options)) continue;
    const groups = groupsOf.get(index) ?? {};
    groups[m.groupId] = { replyMode: m.card ? 'card' : 'markdown' };
    groupsOf.set(index, groups);
  }
  return {
    root: { card: CHAOS_CARD },
    account: (index) => ({
      replyMode: isCardAccount(index, options) ? 'card' : 'markdown',
      ...(groupsOf.has(index) ? { groups: groupsOf.get(index) } : {}),
    }),
  };
}

/** A cheap stable hash, so each message's streaming shape is fixed by its text. */
function hashOf(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** The echo text in 3–10 pieces, 0–60 ms apart; one in eight starts after the thinking delay. */
export function streamedEcho(text: string): FakeAgentHttpAnswer {
  const answer = `Echo agent: ${text}`;
  const h = hashOf(text);
  const pieces = 3 + (h % 8);
  const size = Math.ceil(answer.length / pieces);
  const stream = Array.from({ length: pieces }, (_, i) => answer.slice(i * size, (i + 1) * size));
  const slowStart = h % 8 === 0;
  return {
    stream: stream.filter(Boolean),
    gapMs: (h >>> 8) % 61,
    ...(slowStart ? { delayMs: CHAOS_CARD.thinkingDelayMs + 200 } : {}),
  };
}

/** The local streaming webhook and the http agent adapter reading it. */
export async function startStreamingAgent(): Promise<{ agent: Agent; hook: FakeAgentHttp }> {
  const hook = await startFakeAgentHttp({ respond: (req) => streamedEcho(req.body.text) });
  const agent = createHttpAgent({
    url: hook.url,
    keepsHistory: true,
    history: { maxTurns: 0, maxChars: 0 },
  });
  return { agent, hook };
}

const AUTH_REFUSALS = ['InvalidAuthentication', 'AuthenticationFailed'];

interface Attempt {
  msgId: string;
  n: number;
}

/** Paid card calls per message and per handler attempt. */
export class CardLedger {
  private readonly scope = new AsyncLocalStorage<Attempt>();
  private readonly started = new Map<string, number>();
  /** outTrackId → calls charged. */
  readonly byCard = new Map<string, number>();
  /** `msgId#attempt` → calls charged. */
  readonly byAttempt = new Map<string, number>();
  /** Card requests refused with 403 QPS (not charged). */
  qpsRefused = 0;
  /** Card requests refused for a stale access token (not charged; retried with a new one). */
  authRefused = 0;

  /** Runs one handler attempt of `msgId`, so the card calls it makes are charged to it. */
  attempt<T>(msgId: string, run: () => Promise<T>): Promise<T> {
    const n = (this.started.get(msgId) ?? 0) + 1;
    this.started.set(msgId, n);
    return this.scope.run({ msgId, n }, run);
  }

  /** The runtime's fetch: the real one, with card requests charged. */
  readonly fetch: typeof fetch = async (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const path = new URL(url).pathname;
    if (!path.startsWith('/v1.0/card/')) return fetch(input, init);
    const outTrackId = outTrackIdOf(init?.body);
    const attempt = this.scope.getStore();
    let response: Response;
    try {
      response = await fetch(input, init);
    } catch (err) {
      // No answer (a slow call cut off by the deadline): DingTalk may well have taken it.
      this.charge(outTrackId, attempt);
      throw err;
    }
    if (response.status === 403 || response.status === 400) {
      const code = await response
        .clone()
        .json()
        .then((b: unknown) => (b as { code?: unknown } | null)?.code)
        .catch(() => '');
      if (typeof code === 'string' && isQpsLimit(code)) {
        this.qpsRefused += 1;
        return response;
      }
      // A stale token is refused at the door; the API client retries once with a fresh one.
      if (typeof code === 'string' && AUTH_REFUSALS.some((c) => code.startsWith(c))) {
        this.authRefused += 1;
        return response;
      }
    }
    this.charge(outTrackId, attempt);
    return response;
  };

  private charge(outTrackId: string | undefined, attempt: Attempt | undefined): void {
    if (outTrackId) this.byCard.set(outTrackId, (this.byCard.get(outTrackId) ?? 0) + 1);
    if (attempt) {
      const key = `${attempt.msgId}#${attempt.n}`;
      this.byAttempt.set(key, (this.byAttempt.get(key) ?? 0) + 1);
    }
  }
}

function outTrackIdOf(body: unknown): string | undefined {
  if (typeof body !== 'string') return undefined;
  try {
    const value = JSON.parse(body) as { outTrackId?: unknown };
    return typeof value.outTrackId === 'string' ? value.outTrackId : undefined;
  } catch {
    return undefined;
  }
}
