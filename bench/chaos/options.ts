/**
 * Chaos run options: how many messages, the seed, the offered rate, how often faults fire, and
 * which kinds. Defaults make a bounded run (a few thousand messages, well under three minutes on
 * 2 cores); `parseChaosArgs` reads them from the command line and rejects unknown flags.
 */
import { parseArgs } from 'node:util';

/** Faults tied to one message, decided when it is injected. */
export const MESSAGE_FAULTS = [
  'handoff_reject', // the forwarder wrapper refuses the first 1–2 hand-offs (retryable)
  'crash_before_reply', // the store fails recording the reply: claimed, agent answered, nothing sent
  'crash_hard', // as if the process died after the claim: no reply written, claim not released
  'crash_after_reply', // the store fails completing the claim: reply sent, claim not completed
  'crash_after_handled', // the handler wrapper throws after the handler returned (before the ACK)
  'agent_timeout', // the agent outlasts its signal; the sender gets the short error reply
  'agent_overrun', // the agent ignores its signal and answers after the hand-off deadline
  'oversized_reply', // the agent answers 420 KB: cut to the reply bound, sent in many chunks, once
  'oversized_input', // the message text is over the input bound: one short note, no agent call
  'store_hang', // the store never answers the reply write: the deadline ends the attempt
  'card_stop', // card mode: the user clicks the card's Stop while it streams (a no-op elsewhere)
] as const;

/** Faults injected into the simulator (connections, DingTalk APIs) every `faultEvery` messages. */
export const TIMED_FAULTS = [
  'drop', // TCP reset of a stream connection
  'disconnect', // SYSTEM disconnect frame (make-before-break reconnect)
  'stall', // the server stops reading and writing; the client's heartbeat must notice
  'malformed_frame', // a non-JSON WebSocket frame on every open connection
  'gateway_error', // the next /connections/open calls answer 500
  'webhook_5xx', // the next session-webhook sends answer 503
  'webhook_300001', // the next session-webhook sends answer errcode 300001 (session gone)
  'openapi_qps', // the next OpenAPI calls answer 403 QpsLimit
  'flow_control', // the next batchSend lists its users as flow-controlled
  'expire_tokens', // every access token is invalidated
  'poison', // a robot payload without msgId (must be ACKed, never answered)
  'bad_key', // a msgId over 2 KB or a negative createAt: dropped as unparseable, ACKed, unanswered
  'no_route', // webhook expired and no staffId: a final failure, ACKed, nothing can be sent
  'rejected_recipient', // webhook expired, DingTalk refuses the DM recipient: final, ACKed
  'slow_webhook', // the next webhook post is delivered but answered after the client timeout
  // AI card faults (card-mode messages; issue 13):
  'card_create_refused', // the next createAndDeliver is refused (403 no permission): markdown fallback
  'card_stream_5xx', // the next card/streaming calls answer 500
  'card_qps', // the next card calls answer 403 QpsLimit
  'card_status_fail', // the next card/instances (status) call answers 500: the card stays open until a retry
  'card_slow', // the next card call takes effect at once but is answered after the attempt's deadline
] as const;

export type MessageFault = (typeof MESSAGE_FAULTS)[number];
export type TimedFault = (typeof TIMED_FAULTS)[number];
export type FaultKind = MessageFault | TimedFault;

export interface ChaosOptions {
  messages: number;
  seed: number;
  /** Offered messages per second (open loop). */
  rate: number;
  accounts: number;
  /** Share of messages sent in group chats (the rest are DMs). */
  groupShare: number;
  /**
   * Share answered in AI card mode: DMs of odd-numbered accounts (whose `replyMode` is `card`)
   * when above 0, and groups with this chance (through their `groups` entry).
   */
  cardShare: number;
  /** A timed fault fires every this many messages. */
  faultEvery: number;
  /** Share of messages that get a per-message fault. */
  messageFaultRate: number;
  /** The fault kinds in play (default: all). */
  faults: FaultKind[];
  /** The state store: in memory, or dynalite (DynamoDB's API, as `npm start` and AWS use). */
  store: 'memory' | 'dynalite';
  /** The handler's budget per message (in-process forwarder timeout). */
  handlerBudgetMs: number;
  /** Time of that budget kept back from the agent for sending the reply. */
  replyReserveMs: number;
  /** The simulator redelivers an unacked push after this long… */
  callbackAckTimeoutMs: number;
  /** …at most this many times (DingTalk's real count is unknown). */
  maxRedeliveries: number;
  /** Longest wait, after the last message, for every message to settle. */
  drainTimeoutMs: number;
}

export const DEFAULT_CHAOS_OPTIONS: ChaosOptions = {
  messages: 3_000,
  seed: 1,
  rate: 150,
  accounts: 2,
  groupShare: 0.25,
  cardShare: 0.5,
  faultEvery: 20,
  messageFaultRate: 0.15,
  faults: [...MESSAGE_FAULTS, ...TIMED_FAULTS],
  store: 'memory',
  handlerBudgetMs: 6_000,
  replyReserveMs: 3_000,
  callbackAckTimeoutMs: 3_000,
  maxRedeliveries: 10,
  drainTimeoutMs: 90_000,
};

/** The small, fast configuration `npm test` runs (and `npm run chaos:quick`). */
export const QUICK_CHAOS_OPTIONS: Partial<ChaosOptions> = {
  messages: 150,
  rate: 100,
  faultEvery: 6,
  messageFaultRate: 0.2,
  handlerBudgetMs: 3_000,
  replyReserveMs: 1_500,
  callbackAckTimeoutMs: 2_000,
  drainTimeoutMs: 30_000,
};

const ALL_FAULTS: readonly string[] = [...MESSAGE_FAULTS, ...TIMED_FAULTS];

/** Fills defaults and checks ranges; throws an Error naming each bad option. */
export function resolveChaosOptions(input: Partial<ChaosOptions> = {}): ChaosOptions {
  const options = { ...DEFAULT_CHAOS_OPTIONS, ...input };
  const issues: string[] = [];
  const positiveInts = [
    'messages',
    'rate',
    'accounts',
    'faultEvery',
    'handlerBudgetMs',
    'callbackAckTimeoutMs',
    'drainTimeoutMs',
  ] as const;
  for (const key of positiveInts) {
    if (!Number.isInteger(options[key]) || options[key] < 1) {
      issues.push(`--${kebab(key)} must be a positive integer`);
    }
  }
  if (!Number.isInteger(options.seed)) issues.push('--seed must be an integer');
  if (!Number.isInteger(options.maxRedeliveries) || options.maxRedeliveries < 0) {
    issues.push('--max-redeliveries must be a non-negative integer');
  }
  for (const key of ['groupShare', 'cardShare', 'messageFaultRate'] as const) {
    if (!(options[key] >= 0 && options[key] <= 1)) issues.push(`--${kebab(key)} must be in 0..1`);
  }
  if (!(options.replyReserveMs >= 0 && options.replyReserveMs < options.handlerBudgetMs)) {
    issues.push('--reply-reserve-ms must be at least 0 and less than --handler-budget-ms');
  }
  if (options.store !== 'memory' && options.store !== 'dynalite') {
    issues.push('--store must be memory or dynalite');
  }
  if (options.messages > 9_000) {
    issues.push('--messages must be at most 9000 (the simulator keeps the last 10,000 pushes)');
  }
  const unknown = options.faults.filter((f) => !ALL_FAULTS.includes(f));
  if (unknown.length > 0) {
    issues.push(`--faults: unknown kind(s) ${unknown.join(', ')}; known: ${ALL_FAULTS.join(', ')}`);
  }
  if (issues.length > 0) throw new Error(`invalid chaos options:\n  ${issues.join('\n  ')}`);
  return options;
}

export const CHAOS_HELP = `Usage: npm run chaos -- [options]

Sends messages through the full local path (simulator → relay → in-process handler → webhook /
OpenAPI) while injecting faults, then reconciles what was sent with what was answered.
Exits 1 if any message is lost or answered twice.

  --messages N            messages to send (default ${DEFAULT_CHAOS_OPTIONS.messages})
  --seed N                RNG seed; the same seed replays the same run (default 1)
  --rate N                offered messages per second (default ${DEFAULT_CHAOS_OPTIONS.rate})
  --accounts N            DingTalk apps / stream clients (default ${DEFAULT_CHAOS_OPTIONS.accounts})
  --card-share F          share of messages answered in AI card mode (default ${DEFAULT_CHAOS_OPTIONS.cardShare})
  --fault-every N         a connection/API fault every N messages (default ${DEFAULT_CHAOS_OPTIONS.faultEvery})
  --message-fault-rate F  share of messages with a handler/agent fault (default ${DEFAULT_CHAOS_OPTIONS.messageFaultRate})
  --faults a,b,…          only these kinds (default all): ${ALL_FAULTS.join(', ')}
  --store memory|dynalite the state store (default memory)
  --max-redeliveries N    how often the simulator redelivers an unacked push (default ${DEFAULT_CHAOS_OPTIONS.maxRedeliveries})
  --quick                 the small configuration npm test runs (${QUICK_CHAOS_OPTIONS.messages} messages)
  --json                  print the result as JSON
  -h, --help              this text`;

/** Parses `npm run chaos` arguments. */
export function parseChaosArgs(args: string[]): {
  options: ChaosOptions;
  json: boolean;
  help: boolean;
} {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      messages: { type: 'string' },
      seed: { type: 'string' },
      rate: { type: 'string' },
      accounts: { type: 'string' },
      'card-share': { type: 'string' },
      'fault-every': { type: 'string' },
      'message-fault-rate': { type: 'string' },
      'max-redeliveries': { type: 'string' },
      faults: { type: 'string' },
      store: { type: 'string' },
      quick: { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const input: Partial<ChaosOptions> = values.quick ? { ...QUICK_CHAOS_OPTIONS } : {};
  const number = (flag: string, value: string | undefined) => {
    if (value === undefined) return undefined;
    const parsed = Number(value);
    if (value.trim() === '' || !Number.isFinite(parsed)) {
      throw new Error(`invalid chaos options:\n  --${flag} must be a number, got "${value}"`);
    }
    return parsed;
  };
  const set = <K extends keyof ChaosOptions>(key: K, value: ChaosOptions[K] | undefined) => {
    if (value !== undefined) input[key] = value;
  };
  set('messages', number('messages', values.messages));
  set('seed', number('seed', values.seed));
  set('rate', number('rate', values.rate));
  set('accounts', number('accounts', values.accounts));
  set('cardShare', number('card-share', values['card-share']));
  set('faultEvery', number('fault-every', values['fault-every']));
  set('messageFaultRate', number('message-fault-rate', values['message-fault-rate']));
  set('maxRedeliveries', number('max-redeliveries', values['max-redeliveries']));
  if (values.store !== undefined) input.store = values.store as ChaosOptions['store'];
  if (values.faults !== undefined) {
    input.faults = values.faults
      .split(',')
      .map((f) => f.trim())
      .filter(Boolean) as FaultKind[];
  }
  return {
    options: resolveChaosOptions(input),
    json: values.json === true,
    help: values.help === true,
  };
}

function kebab(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}
