/**
 * The chaos plan, fixed by the seed before anything runs: every message (account, DM or group,
 * a unique text, an optional per-message fault) and the timed faults between them. Each message
 * is alone in its conversation (its own DM sender, or its own group), so every reply, even the
 * agent's short error text, can be attributed to exactly one message.
 * The first faults of each list cycle through every enabled kind, so even a short run covers all.
 */
import {
  type ChaosOptions,
  type FaultKind,
  MESSAGE_FAULTS,
  type MessageFault,
  TIMED_FAULTS,
  type TimedFault,
} from './options.js';
import { type Rng, seededRng } from './rng.js';

export interface PlannedMessage {
  index: number;
  /** Unique text; the echo agent's reply contains it. */
  token: string;
  accountId: string;
  conversation: 'dm' | 'group';
  staffId: string;
  /** Groups only: the openConversationId (DMs get theirs from the simulator). */
  groupId?: string;
  /** Answered in an AI card (`replyMode: card` for its account or group). */
  card: boolean;
  fault?: MessageFault;
}

export interface PlannedTimedFault {
  /** Fires just before this message is injected. */
  beforeMessage: number;
  kind: TimedFault;
}

export interface ChaosPlan {
  messages: PlannedMessage[];
  timed: PlannedTimedFault[];
}

/** Builds the whole plan from the options' seed. */
export function planChaos(options: ChaosOptions): ChaosPlan {
  const rng = seededRng(options.seed);
  const enabled = (kinds: readonly FaultKind[]) => kinds.filter((k) => options.faults.includes(k));
  const nextMessageFault = coveringPicker(rng, enabled(MESSAGE_FAULTS) as MessageFault[]);
  const nextTimedFault = coveringPicker(rng, enabled(TIMED_FAULTS) as TimedFault[]);
  const messages: PlannedMessage[] = [];
  for (let index = 0; index < options.messages; index++) {
    const group = rng.chance(options.groupShare);
    const accountIndex = index % options.accounts;
    const card = group ? rng.chance(options.cardShare) : isCardAccount(accountIndex, options);
    const picked = rng.chance(options.messageFaultRate) ? nextMessageFault() : undefined;
    // A Stop click needs a card: on a markdown message it is dropped from the plan.
    const fault = picked === 'card_stop' && !card ? undefined : picked;
    const id = `s${options.seed}m${index}`;
    messages.push({
      index,
      token: `chaos-${id}`,
      accountId: `acct${accountIndex}`,
      conversation: group ? 'group' : 'dm',
      card,
      staffId: `staff-${id}`,
      ...(group ? { groupId: `cidChaos${id}==` } : {}),
      ...(fault ? { fault } : {}),
    });
  }
  const timed: PlannedTimedFault[] = [];
  for (let at = options.faultEvery; at < options.messages; at += options.faultEvery) {
    const kind = nextTimedFault();
    if (kind) timed.push({ beforeMessage: at, kind });
  }
  return { messages, timed };
}

/** Odd-numbered accounts reply in AI cards (when any share is asked for). */
export function isCardAccount(accountIndex: number, options: ChaosOptions): boolean {
  return options.cardShare > 0 && accountIndex % 2 === 1;
}

/** Yields every kind once (shuffled), then random kinds; undefined when none is enabled. */
function coveringPicker<T>(rng: Rng, kinds: T[]): () => T | undefined {
  const firstRound = rng.shuffle(kinds);
  return () => (kinds.length === 0 ? undefined : (firstRound.shift() ?? rng.pick(kinds)));
}

/** How many of each fault the plan holds. */
export function countPlannedFaults(plan: ChaosPlan): Partial<Record<FaultKind, number>> {
  const counts: Partial<Record<FaultKind, number>> = {};
  const add = (kind: FaultKind) => {
    counts[kind] = (counts[kind] ?? 0) + 1;
  };
  for (const m of plan.messages) if (m.fault) add(m.fault);
  for (const t of plan.timed) add(t.kind);
  return counts;
}
