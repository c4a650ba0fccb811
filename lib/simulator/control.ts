/** The simulator's public, in-process API and the control surface the `/__sim/` routes use. */
import type { CardClicked, CardClickInput, ClickResult } from './card-click.js';
import type { SimCard } from './cards.js';
import type { ConnectionInfo } from './connections.js';
import type { FaultInput } from './faults.js';
import type { InjectMessageInput } from './inbound-builder.js';
import type { InjectEventInput, InjectedEvent, InjectedMessage } from './inject.js';
import type {
  AckRecord,
  GatewayRequestRecord,
  InboundRecord,
  OutboxEntry,
  OutcomeRecord,
  PingViolation,
  SimulatorStats,
  UploadRecord,
} from './ledger.js';
import type { SimApp } from './options.js';
import type { OwnerOperations } from './owner.js';
import type { RawInjectInput } from './raw-inject.js';
import type { Parsed } from './validation.js';

/** An outcome as the channel reports it: `{ messageId, status, reason? }`. */
export interface OutcomeInput {
  messageId: string;
  status: OutcomeRecord['status'];
  reason?: string;
}

/** What `addFaults` did. */
export interface FaultResult {
  pending: Record<string, unknown[]>;
  tokensExpired?: number;
  malformedFrameSentTo?: string[];
}

/** The operations behind the `/__sim/` routes. */
export interface SimulatorControl {
  tryInjectMessage(body: unknown): Parsed<InjectedMessage>;
  tryInjectEvent(body: unknown): Parsed<InjectedEvent>;
  tryAddFaults(body: unknown): Parsed<FaultResult>;
  /** Records what the channel did with a pushed message (`POST /__sim/outcomes`). */
  tryRecordOutcome(body: unknown): Parsed<OutcomeRecord>;
  outcomes(): OutcomeRecord[];
  inbound(): InboundRecord[];
  outbox(since?: number): OutboxEntry[];
  /** Every successful `media/upload` (name, type, size, media id; `GET /__sim/uploads`). */
  uploads(): UploadRecord[];
  acks(): AckRecord[];
  /** Every AI card with its space, updates in order and state (`GET /__sim/cards`). */
  cards(): SimCard[];
  /** One AI card by outTrackId (`GET /__sim/cards/<outTrackId>`), or undefined. */
  card(outTrackId: string): SimCard | undefined;
  /** Clicks a card button: pushes the card callback frame (`POST /__sim/cards/<id>/click`). */
  tryClickCard(outTrackId: string, body: unknown): ClickResult;
  connections(): ConnectionInfo[];
  gatewayRequests(options?: { maskSecrets?: boolean }): GatewayRequestRecord[];
  pingViolations(): PingViolation[];
  stats(): SimulatorStats;
  pendingFaults(): Record<string, unknown[]>;
  clearFaults(): void;
  disconnect(id: string): boolean;
  drop(id: string): boolean;
  stall(id: string): boolean;
}

/** A running fake DingTalk. Methods that take input throw ChannelError('invalid-request') on bad input. */
export interface Simulator extends SimulatorControl {
  /** Base URL, e.g. `http://127.0.0.1:PORT`. */
  readonly url: string;
  /** `${url}/v1.0/gateway/connections/open`. */
  readonly gatewayUrl: string;
  /** Stands in for https://api.dingtalk.com. */
  readonly apiBase: string;
  /** Stands in for https://oapi.dingtalk.com. */
  readonly oapiBase: string;
  readonly apps: readonly SimApp[];
  /** A built message, or with `raw` a captured payload replayed exactly as given. */
  injectMessage(req: InjectMessageInput | RawInjectInput): InjectedMessage;
  injectEvent(req: InjectEventInput): InjectedEvent;
  /** Clicks a button on a card (throws on a bad click or an unknown card). */
  clickCard(outTrackId: string, click: CardClickInput): CardClicked;
  addFaults(spec: FaultInput): FaultResult;
  /** Records a message's outcome as the channel reports it; throws on a bad record. */
  recordOutcome(outcome: OutcomeInput): OutcomeRecord;
  /** Lends the chat page the demo's owner operations (pairing panel); undefined detaches them. */
  setOwnerOperations(owner: OwnerOperations | undefined): void;
  /** Resolves with the outbox once it holds `count` entries, or the matching entries once one matches. */
  waitForOutbox(
    predicateOrCount: number | ((entry: OutboxEntry) => boolean),
    timeoutMs?: number,
  ): Promise<OutboxEntry[]>;
  /** Resolves with the first matched ACK for this messageId. */
  waitForAck(messageId: string, timeoutMs?: number): Promise<AckRecord>;
  /** Resolves with the first connection (open by default) matching the predicate. */
  waitForConnection(
    predicate?: (conn: ConnectionInfo) => boolean,
    timeoutMs?: number,
  ): Promise<ConnectionInfo>;
  /** Resolves with the first non-undefined `probe()` result, re-checked on every change. */
  waitFor<T>(probe: () => T | undefined, timeoutMs?: number, what?: string): Promise<T>;
  /** Terminates every socket, clears every timer, closes the server. */
  close(): Promise<void>;
}
