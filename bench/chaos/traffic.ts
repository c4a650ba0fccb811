/**
 * Sends the plan into the simulator at the offered rate: each message (registering its fault in
 * the FaultBook), and the timed faults between them through the simulator's control API.
 */
import type { Simulator } from '../../lib/simulator/index.js';
import type { TimedFault } from './options.js';
import type { ChaosPlan, PlannedMessage } from './plan.js';
import type { Rng } from './rng.js';
import type { FaultBook } from './wrappers.js';

/** A message as injected: the plan plus the ids the simulator gave it. */
export interface SentMessage extends PlannedMessage {
  msgId: string;
  messageId: string;
  conversationId: string;
}

const CARD_PATHS = [
  '/v1.0/card/instances/createAndDeliver',
  '/v1.0/card/streaming',
  '/v1.0/card/instances',
];
/** A `card_slow` answer comes this late (longer than any attempt's deadline plus grace). */
export const CARD_SLOW_MS = 8_000;

/** A payload nothing can answer (no msgId, bad keys, no route): it must be ACKed, never answered. */
export interface SentPoison {
  messageId: string;
}

/** The chaos run's webhook timeout; `slow_webhook` answers after twice this. */
export const CHAOS_WEBHOOK_TIMEOUT_MS = 2_000;

export interface Traffic {
  sent: SentMessage[];
  poison: SentPoison[];
  /** Timed faults that found something to act on (e.g. an open connection to drop). */
  timedFired: Partial<Record<TimedFault, number>>;
}

/** Injects every planned message at `rate`/s, firing the timed faults on schedule. */
export async function sendTraffic(
  sim: Simulator,
  plan: ChaosPlan,
  deps: { rate: number; rng: Rng; book: FaultBook },
): Promise<Traffic> {
  const traffic: Traffic = { sent: [], poison: [], timedFired: {} };
  const timed = [...plan.timed];
  // A connection fault finds no open connection while the client reconnects: it waits for one.
  let deferred: TimedFault[] = [];
  const fire = (kind: TimedFault) => {
    if (!fireTimedFault(sim, kind, deps.rng, traffic)) return false;
    traffic.timedFired[kind] = (traffic.timedFired[kind] ?? 0) + 1;
    return true;
  };
  const start = performance.now();
  let next = 0;
  while (next < plan.messages.length) {
    const due = Math.floor(((performance.now() - start) / 1000) * deps.rate) + 1;
    for (; next < Math.min(due, plan.messages.length); next++) {
      deferred = deferred.filter((kind) => !fire(kind));
      while (timed[0] && timed[0].beforeMessage <= next) {
        const kind = timed.shift()!.kind;
        if (!fire(kind)) deferred.push(kind);
      }
      traffic.sent.push(injectPlanned(sim, plan.messages[next]!, deps.book));
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  for (let tries = 0; deferred.length > 0 && tries < 100; tries++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    deferred = deferred.filter((kind) => !fire(kind));
  }
  return traffic;
}

function injectPlanned(sim: Simulator, m: PlannedMessage, book: FaultBook): SentMessage {
  const sender = { staffId: m.staffId, nick: `Chaos ${m.index}` };
  // Over the pipeline's input bound (20,000 characters): the sender gets one short note.
  const text = m.fault === 'oversized_input' ? `${m.token} ${'长'.repeat(21_000)}` : m.token;
  const injected =
    m.conversation === 'dm'
      ? sim.injectMessage({ account: m.accountId, conversationType: '1', sender, text })
      : sim.injectMessage({
          account: m.accountId,
          conversationType: '2',
          conversationId: m.groupId,
          conversationTitle: `Chaos group ${m.index}`,
          sender,
          text,
          atBot: true,
        });
  const sent: SentMessage = {
    ...m,
    msgId: injected.msgId,
    messageId: injected.messageId,
    conversationId: injected.conversationId,
  };
  if (m.fault) book.assign(m.fault, sent);
  if (m.fault === 'oversized_input') book.fire(sent.msgId, m.fault); // it fires in the payload itself
  return sent;
}

/** Carries out one timed fault; false when there was nothing to act on. */
function fireTimedFault(sim: Simulator, kind: TimedFault, rng: Rng, traffic: Traffic): boolean {
  const open = sim.connections().filter((c) => c.state === 'open');
  const someOpen = () => (open.length > 0 ? rng.pick(open).id : undefined);
  switch (kind) {
    case 'drop':
    case 'disconnect':
    case 'stall': {
      const id = someOpen();
      if (!id) return false;
      if (kind === 'drop') return sim.drop(id);
      return kind === 'disconnect' ? sim.disconnect(id) : sim.stall(id);
    }
    case 'malformed_frame':
      return (sim.addFaults({ malformedFrame: {} }).malformedFrameSentTo ?? []).length > 0;
    case 'gateway_error':
      sim.addFaults({ gateway: { count: 1, status: 500 }, handshake: { count: 1, status: 400 } });
      return true;
    case 'webhook_5xx':
      sim.addFaults({ webhook: { count: rng.int(1, 3), status: 503 } });
      return true;
    case 'webhook_300001':
      sim.addFaults({ webhook: { count: rng.int(1, 3), errcode: 300001 } });
      return true;
    case 'openapi_qps':
      sim.addFaults({ openapi: { count: rng.int(1, 2) } });
      return true;
    case 'flow_control':
      sim.addFaults({ flowControl: { count: 1 } });
      return true;
    case 'expire_tokens':
      sim.addFaults({ expireTokens: true });
      return true;
    case 'slow_webhook':
      sim.addFaults({ webhook: { count: 1, delayMs: CHAOS_WEBHOOK_TIMEOUT_MS * 2 } });
      return true;
    case 'card_create_refused':
      sim.addFaults({
        openapi: {
          path: '/v1.0/card/instances/createAndDeliver',
          status: 403,
          code: 'Forbidden.AccessDenied.AccessTokenPermissionDenied',
        },
      });
      return true;
    case 'card_stream_5xx':
      sim.addFaults({
        openapi: {
          path: '/v1.0/card/streaming',
          status: 500,
          code: 'ServiceUnavailable',
          count: rng.int(1, 3),
        },
      });
      return true;
    case 'card_qps':
      sim.addFaults({
        openapi: { path: rng.pick(CARD_PATHS), count: rng.int(1, 3) },
      });
      return true;
    case 'card_status_fail':
      sim.addFaults({
        openapi: { path: '/v1.0/card/instances', status: 500, code: 'ServiceUnavailable' },
      });
      return true;
    case 'card_slow':
      // Past the attempt's deadline and its grace: the channel never sees this answer.
      sim.addFaults({ slowOpenapi: { path: rng.pick(CARD_PATHS), delayMs: CARD_SLOW_MS } });
      return true;
    case 'poison':
    case 'bad_key':
    case 'no_route':
    case 'rejected_recipient': {
      const n = traffic.poison.length;
      const injected = sim.injectMessage({
        conversationType: '1',
        sender: { staffId: `${kind}-${n}` },
        text: `a payload nobody can answer (${kind})`,
        extra: unanswerable(kind, n),
      });
      traffic.poison.push({ messageId: injected.messageId });
      return true;
    }
  }
}

/** The payload fields that make a message unanswerable in the way `kind` names. */
function unanswerable(kind: 'poison' | 'bad_key' | 'no_route' | 'rejected_recipient', n: number) {
  const expired = Date.now() - 60 * 60_000; // the webhook is past its expiry: only the OpenAPI is left
  switch (kind) {
    case 'poison':
      return { msgId: null };
    case 'bad_key':
      return n % 2 === 0 ? { msgId: `msg${'k'.repeat(2_100)}` } : { createAt: -1 };
    case 'no_route':
      return {
        senderStaffId: null,
        senderId: `$:LWCP_v1:$ext${n}`,
        sessionWebhookExpiredTime: expired,
      };
    case 'rejected_recipient':
      return { senderStaffId: `left-the-company-${n}`, sessionWebhookExpiredTime: expired };
  }
}
