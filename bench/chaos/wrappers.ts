/**
 * Faults around the handler, injected through the ports the pipeline already has (no change to
 * the code under test): a StateStore that fails chosen dedup writes (a crash between claim and
 * reply, or between reply and completion), a Forwarder that refuses chosen hand-offs retryably,
 * a MessageHandler that throws after the real handler returned (a crash before the ACK), and an
 * Agent that outlasts or ignores its deadline. Each fault fires once per message, so the retry
 * that follows must finish the job without a lost or second reply.
 */
import { createEchoAgent } from '../../lib/agent/echo.js';
import {
  type Agent,
  type AgentCallOptions,
  AgentError,
  type AgentReply,
  type AgentRequest,
} from '../../lib/agent/port.js';
import { sleep } from '../../lib/dingtalk/http.js';
import { ChannelError, errorSummary } from '../../lib/errors.js';
import type { Forwarder, HandleOutcome, MessageHandler } from '../../lib/forward/port.js';
import { keys } from '../../lib/state/keys.js';
import type { StateStore, WriteResult } from '../../lib/state/port.js';
import type { MessageFault } from './options.js';

/** Which message gets which fault, what fired, and what the handler said about each message. */
export class FaultBook {
  private readonly byMsgId = new Map<string, MessageFault>();
  private readonly byMessageId = new Map<string, MessageFault>();
  private readonly byDedupPk = new Map<string, string>();
  private readonly fired = new Set<string>();
  readonly firedCounts: Partial<Record<MessageFault, number>> = {};
  /** Per msgId: every handler attempt's outcome or error code, in order. */
  readonly attempts = new Map<string, string[]>();
  /** Handler calls still running (including ones the forwarder stopped waiting for). */
  inflight = 0;

  assign(fault: MessageFault, ids: { accountId: string; msgId: string; messageId: string }): void {
    this.byMsgId.set(ids.msgId, fault);
    this.byMessageId.set(ids.messageId, fault);
    this.byDedupPk.set(keys.dedupClaim(ids.accountId, ids.msgId).pk, ids.msgId);
  }

  faultOfMsgId(msgId: string): MessageFault | undefined {
    return this.byMsgId.get(msgId);
  }

  faultOfMessageId(messageId: string): MessageFault | undefined {
    return this.byMessageId.get(messageId);
  }

  msgIdOfDedupPk(pk: string): string | undefined {
    return this.byDedupPk.get(pk);
  }

  /** True the first time a fault's `step` is asked for this id: each step fires once. */
  fire(id: string, fault: MessageFault, step = 'main'): boolean {
    const key = `${fault}#${step}#${id}`;
    if (this.fired.has(key)) return false;
    this.fired.add(key);
    if (step === 'main') this.firedCounts[fault] = (this.firedCounts[fault] ?? 0) + 1;
    return true;
  }

  hasFired(id: string, fault: MessageFault, step = 'main'): boolean {
    return this.fired.has(`${fault}#${step}#${id}`);
  }

  recordAttempt(msgId: string, result: string): void {
    const list = this.attempts.get(msgId) ?? [];
    list.push(result);
    this.attempts.set(msgId, list);
  }
}

const chaosFailure = (what: string) =>
  new ChannelError('chaos_injected', `chaos: ${what} (injected fault)`, { retryable: true });

/**
 * A store that fails, once per message, the dedup write recording the reply (crash before the
 * reply), the one completing the claim (crash after the reply), or the reply write and then the
 * claim's release (a hard crash: the claim is left in progress, as a dead process leaves it).
 */
export function chaosStore(inner: StateStore, book: FaultBook): StateStore {
  return {
    get: (pk, sk, options) => inner.get(pk, sk, options),
    put: (item, condition, options) => inner.put(item, condition, options),
    delete(pk, sk, condition, options) {
      // A dead process never releases its claim: it stays in progress until its lease runs out.
      const msgId = book.msgIdOfDedupPk(pk);
      if (
        msgId &&
        book.hasFired(msgId, 'crash_hard') &&
        book.fire(msgId, 'crash_hard', 'release')
      ) {
        return Promise.reject(chaosFailure('store lost at release'));
      }
      return inner.delete(pk, sk, condition, options);
    },
    query: (pk, options) => inner.query(pk, options),
    close: () => inner.close(),
    update(pk, sk, set, condition, options) {
      const msgId = book.msgIdOfDedupPk(pk);
      const fault = msgId ? book.faultOfMsgId(msgId) : undefined;
      if (msgId && fault === 'crash_hard' && typeof set.reply === 'string') {
        if (book.fire(msgId, fault)) return Promise.reject(chaosFailure('process died'));
      }
      if (msgId && fault === 'crash_before_reply' && typeof set.reply === 'string') {
        if (book.fire(msgId, fault)) return Promise.reject(chaosFailure('store lost at reply'));
      }
      if (msgId && fault === 'store_hang' && typeof set.reply === 'string') {
        // Never answers (and never applies): only the handler's deadline can end this call.
        if (book.fire(msgId, fault)) return new Promise<WriteResult>(() => undefined);
      }
      if (msgId && fault === 'crash_after_reply' && set.status === 'COMPLETED') {
        if (book.fire(msgId, fault))
          return Promise.reject(chaosFailure('store lost at completion'));
      }
      return inner.update(pk, sk, set, condition, options);
    },
  };
}

/** A forwarder that refuses the first two hand-offs of chosen messages, retryably. */
export function chaosForwarder(inner: Forwarder, book: FaultBook): Forwarder {
  return {
    kind: inner.kind,
    async forward(event, signal) {
      if (book.faultOfMessageId(event.messageId) === 'handoff_reject') {
        const refuse =
          book.fire(event.messageId, 'handoff_reject') ||
          book.fire(event.messageId, 'handoff_reject', 'again');
        if (refuse) {
          return { accepted: false, reason: 'chaos: hand-off refused', retryable: true };
        }
      }
      return inner.forward(event, signal);
    },
    ...(inner.close ? { close: () => inner.close!() } : {}),
  };
}

/**
 * The real handler, counted and recorded; chosen messages "crash" after it returned. `around`
 * runs each attempt in a scope (the card ledger charges its card calls to it).
 */
export function chaosHandler(
  inner: MessageHandler,
  book: FaultBook,
  around: <T>(msgId: string, run: () => Promise<T>) => Promise<T> = (_id, run) => run(),
): MessageHandler {
  return async (event, context) => {
    const msgId = msgIdOf(event.data) ?? event.messageId;
    book.inflight += 1;
    let outcome: HandleOutcome;
    try {
      outcome = await around(msgId, () => inner(event, context));
    } catch (err) {
      book.recordAttempt(msgId, `error:${errorSummary(err).code}`);
      throw err;
    } finally {
      book.inflight -= 1;
    }
    book.recordAttempt(msgId, `${outcome.status}${outcome.reason ? `:${outcome.reason}` : ''}`);
    if (
      book.faultOfMsgId(msgId) === 'crash_after_handled' &&
      book.fire(msgId, 'crash_after_handled')
    ) {
      throw chaosFailure('crashed after handling, before the ACK');
    }
    return outcome;
  };
}

/**
 * The echo agent, except that chosen messages time out or overrun their deadline once. A turn
 * that shows progress (card mode, `onText`) streams from `streaming` instead, when given.
 */
export function chaosAgent(
  book: FaultBook,
  overrunMs: number,
  streaming?: Agent,
  clickStop?: (request: AgentRequest) => void,
): Agent {
  const echo = createEchoAgent();
  return {
    ...echo,
    name: 'chaos-echo',
    async respond(request, options) {
      const fault = book.faultOfMsgId(request.messageId);
      if (fault === 'agent_timeout' && book.fire(request.messageId, fault)) {
        // Outlasts the deadline but honours the signal, as a well-behaved adapter does.
        await sleep(overrunMs, options.signal).catch(() => undefined);
        throw new AgentError('agent_timeout', 'chaos: the agent did not answer in time');
      }
      if (fault === 'oversized_reply' && book.fire(request.messageId, fault)) {
        // 420 KB, each line naming the message (numbered, so no two chunks are alike).
        const token = request.text.split(/\s/)[0] ?? '';
        const lines = Array.from(
          { length: 14_000 },
          (_, i) => `${token} line ${i} of a long answer`,
        );
        const text = lines.join('\n');
        // A card shows it as it grows: its first 20 KB, then the rest as markdown.
        options.onText?.(text.slice(0, 2_000));
        options.onText?.(text);
        return { text };
      }
      if (fault === 'card_stop' && options.onText && clickStop) {
        if (book.fire(request.messageId, fault)) return stoppedTurn(request, options, clickStop);
      }
      if (fault === 'agent_overrun' && book.fire(request.messageId, fault)) {
        // Ignores the signal: answers after the hand-off has been given up on.
        await sleep(overrunMs);
        if (options.onText && streaming) {
          return streaming.respond(request, { ...options, signal: new AbortController().signal });
        }
      }
      if (options.onText && streaming) return streaming.respond(request, options);
      return echo.respond(request, options);
    },
  };
}

/** How long the Stop click is waited for before the turn just answers (a lost click). */
const STOP_WAIT_MS = 2_000;

/**
 * A turn the user stops: the echo shows in the card, the Stop button is clicked (through the
 * simulator's click route, so the callback goes through the relay), and the agent call waits to
 * be cancelled; a click that does not get through (a fault, a lost frame) lets it answer.
 */
async function stoppedTurn(
  request: AgentRequest,
  options: AgentCallOptions,
  clickStop: (request: AgentRequest) => void,
): Promise<AgentReply> {
  const text = `Echo agent: ${request.text}`;
  options.onText?.(text);
  // The card's create and its record go out on the first text; click once they are there.
  await sleep(300, options.signal).catch(() => undefined);
  if (!options.signal.aborted) clickStop(request);
  await sleep(STOP_WAIT_MS, options.signal).catch(() => undefined);
  if (options.signal.aborted) throw new AgentError('agent_timeout', 'chaos: the call was aborted');
  return { text: `${text} (the Stop click did not arrive)` };
}

function msgIdOf(data: string): string | undefined {
  try {
    const value = JSON.parse(data) as { msgId?: unknown };
    return typeof value?.msgId === 'string' ? value.msgId : undefined;
  } catch {
    return undefined;
  }
}
