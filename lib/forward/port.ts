/**
 * The Forwarder port (architecture.md "Ports"): how the relay hands one inbound robot message
 * to the message function. `accepted` means durable: the platform queued it (async invoke), or
 * it was processed (in-process). Only then does the relay ACK to DingTalk (channel-semantics §9).
 */
import { TOPIC_CARD, TOPIC_ROBOT } from '../dingtalk/payload.js';

/** One inbound robot message as the relay forwards it; the body every forwarder carries. */
export interface MessageEvent {
  version: 1;
  /** Which configured account (app) the message came to. */
  accountId: string;
  /** Stream `headers.messageId` (the same on DingTalk's redeliveries). */
  messageId: string;
  /** The robot payload exactly as DingTalk sent it (JSON text, dingtalk-protocol.md §4). */
  data: string;
  /** When the relay received it (epoch ms). */
  receivedAt: number;
  /**
   * The stream topic it came on: absent (or TOPIC_ROBOT) for a robot message, TOPIC_CARD for a
   * card callback (a button click, lib/pipeline/card-stop.ts). `data` is then the callback's.
   */
  topic?: string;
  /**
   * Retry metadata (style.md, Bolt): how many hand-offs of this message came before this one
   * (0 or absent = the first). Set by the relay for its own retries; platforms add theirs in
   * the handler context.
   */
  attempt?: number;
}

export type HandoffResult =
  | { accepted: true }
  | { accepted: false; reason: string; retryable: boolean };

export interface Forwarder {
  /** `inprocess`, `http`, `lambda`, `fc`, `fc2`. */
  readonly kind: string;
  /**
   * True when a hand-off is a local durable write that never waits on remote work (the inbox):
   * the relay then needs no hand-off slots for it, and a burst is never shed.
   */
  readonly local?: boolean;
  forward(event: MessageEvent, signal?: AbortSignal): Promise<HandoffResult>;
  close?(): Promise<void>;
}

/**
 * What the message function says about one event (the in-process forwarder maps it). Every
 * outcome means "done, acknowledge": `failed` is a final failure the pipeline already ended
 * (the sender was told where possible). A failure worth retrying is thrown instead.
 */
export type HandleOutcome =
  | { status: 'handled'; reason?: string }
  | { status: 'dropped'; reason: string }
  | { status: 'duplicate'; reason: string }
  | { status: 'failed'; reason: string };

/** What the platform tells the handler about this invocation. */
export interface HandleContext {
  /** Epoch ms by which the handler must have finished (the platform's limit minus a margin). */
  deadline: number;
  /** The platform's retry count for this invocation (0 = first), when the platform says. */
  attempt?: number;
}

/** The platform-neutral message handler every function entry calls. */
export type MessageHandler = (
  event: MessageEvent,
  context: HandleContext,
) => Promise<HandleOutcome>;

const EVENT_TOPICS = new Set([TOPIC_ROBOT, TOPIC_CARD]);

/** Checks the shape of an event received over the wire; returns a reason when it is not one. */
export function invalidEventReason(value: unknown): string | undefined {
  if (!value || typeof value !== 'object') return 'event must be a JSON object';
  const e = value as Record<string, unknown>;
  if (e.version !== 1) return 'event.version must be 1';
  for (const field of ['accountId', 'messageId', 'data'] as const) {
    if (typeof e[field] !== 'string' || e[field] === '')
      return `event.${field} must be a non-empty string`;
  }
  if (typeof e.receivedAt !== 'number') return 'event.receivedAt must be a number';
  if (e.topic !== undefined && !EVENT_TOPICS.has(e.topic as string))
    return `event.topic must be one of ${[...EVENT_TOPICS].join(', ')}`;
  if (e.attempt !== undefined && !(Number.isInteger(e.attempt) && (e.attempt as number) >= 0))
    return 'event.attempt must be a non-negative integer';
  return undefined;
}
