/**
 * The production DingTalk Stream client for one account (dingtalk-protocol.md §3.6).
 *
 * Invariants (guarded by test/dingtalk/stream-conformance.test.ts):
 * - Connect is single-flight: at most one `/open` + handshake is under way per client.
 * - Failures back off exponentially with jitter, capped at 60 s; never the SDK's 1 s storm (B1).
 * - `stop()` cancels a pending reconnect and leaves no timer or socket behind (B2, B3).
 * - On a SYSTEM `disconnect` the new connection is opened first and the old one retired after
 *   the new one is up (make-before-break, §2.3); nothing pushed in the meantime is lost.
 * - Bad credentials stop the client with DingTalk's code (`invalidClientIdOrSecret`) instead of
 *   retrying silently forever (B4).
 * - A malformed frame is dropped, logged and counted; the connection stays up (B7).
 * - Robot messages go to one async handler; the caller ACKs when it decides (the relay acks only
 *   after a durable hand-off, channel-semantics.md §9).
 *
 * Connection timeline on `disconnect`:
 *
 *   old  ──open──────────── disconnect frame ──(draining: acks only)──── retired ──╳
 *   new                          └── /open ── handshake ── open ──(active)──────────────►
 */
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { ChannelError, errorSummary } from '../errors.js';
import { createLogger, type Logger, registerSecret } from '../log.js';
import { backoffDelay, type Random } from './backoff.js';
import { DEFAULT_GATEWAY_URL, type DownstreamFrame, TOPIC_CARD, TOPIC_ROBOT } from './payload.js';
import { StreamConnection } from './stream-connection.js';

export type StreamClientState =
  | 'idle'
  | 'connecting'
  | 'connected'
  | 'backing_off'
  | 'failed'
  | 'stopped';

/** One robot message as delivered by the stream; `ack()` tells DingTalk it was handled. */
export interface RobotDelivery {
  accountId: string;
  /** Stream `headers.messageId`: the same on a redelivery. */
  messageId: string;
  /** The robot payload (or card callback), still as the JSON text DingTalk sent. */
  data: string;
  /** The topic it came on: TOPIC_ROBOT, or TOPIC_CARD for a card callback. */
  topic: string;
  connectionId: string;
  receivedAt: number;
  /** Sends the ACK; false if the connection it came on is gone (DingTalk will redeliver). */
  ack(): boolean;
}

export interface StreamClientOptions {
  accountId: string;
  clientId: string;
  clientSecret: string;
  gatewayUrl?: string;
  onRobotMessage: (delivery: RobotDelivery) => Promise<void> | void;
  /** Card callbacks (button clicks); given, the client subscribes to TOPIC_CARD as well. */
  onCardCallback?: (delivery: RobotDelivery) => Promise<void> | void;
  logger?: Logger;
  random?: Random;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  heartbeatIntervalMs?: number;
  heartbeatTimeoutMs?: number;
  gatewayTimeoutMs?: number;
  /** How long a retired connection may keep running for in-flight ACKs. */
  retireGraceMs?: number;
}

export interface StreamClientStatus {
  accountId: string;
  state: StreamClientState;
  lastError?: { code: string; message: string; at: string };
  connectedSince?: string;
  connections: number;
  counters: {
    received: number;
    acked: number;
    ackFailed: number;
    malformedFrames: number;
    reconnects: number;
    gatewayCalls: number;
    handlerErrors: number;
  };
}

const FATAL_CODES = new Set(['invalidClientIdOrSecret']);

export class StreamClient {
  private readonly options: Required<
    Omit<StreamClientOptions, 'logger' | 'random' | 'onCardCallback'>
  > &
    Pick<StreamClientOptions, 'onCardCallback'>;
  private readonly log: Logger;
  private readonly random: Random;
  private state: StreamClientState = 'idle';
  private active?: StreamConnection;
  /** Connections replaced by a newer one, each with the timer that closes it. */
  private readonly retiring = new Map<StreamConnection, NodeJS.Timeout>();
  private connecting?: Promise<void>;
  private reconnectTimer?: NodeJS.Timeout;
  private attempt = 0;
  private lastError?: StreamClientStatus['lastError'];
  private connectedSince?: number;
  private firstConnect?: { resolve(): void; reject(err: unknown): void };
  private readonly counters: StreamClientStatus['counters'] = {
    received: 0,
    acked: 0,
    ackFailed: 0,
    malformedFrames: 0,
    reconnects: 0,
    gatewayCalls: 0,
    handlerErrors: 0,
  };

  constructor(options: StreamClientOptions) {
    if (!options.clientId || !options.clientSecret) {
      throw new ChannelError(
        'config',
        `account "${options.accountId}" has no clientId or clientSecret`,
      );
    }
    registerSecret(options.clientSecret);
    this.options = {
      gatewayUrl: DEFAULT_GATEWAY_URL,
      backoffBaseMs: 1000,
      backoffMaxMs: 60_000,
      heartbeatIntervalMs: 30_000,
      heartbeatTimeoutMs: 90_000,
      gatewayTimeoutMs: 10_000,
      retireGraceMs: 5_000,
      ...withoutUndefined(options),
    } as StreamClient['options'];
    this.random = options.random ?? Math.random;
    this.log = (options.logger ?? createLogger()).child({ account: options.accountId });
  }

  /** Starts connecting. Resolves once connected (or stopped); rejects (and stops) on bad credentials. */
  start(): Promise<void> {
    if (this.state === 'stopped')
      return Promise.reject(new ChannelError('stopped', 'client was stopped'));
    const first = new Promise<void>((resolve, reject) => {
      this.firstConnect = { resolve, reject };
    });
    void this.connect();
    return first;
  }

  /** Closes every socket and cancels every timer. Safe to call twice. */
  async stop(): Promise<void> {
    this.setState('stopped');
    this.clearReconnectTimer();
    // A stop before the first connection is not an error for whoever awaits start().
    this.firstConnect?.resolve();
    this.firstConnect = undefined;
    await this.connecting?.catch(() => undefined);
    for (const timer of this.retiring.values()) clearTimeout(timer);
    const all = [...this.retiring.keys(), ...(this.active ? [this.active] : [])];
    this.active = undefined;
    this.retiring.clear();
    await Promise.all(all.map((c) => c.close()));
  }

  status(): StreamClientStatus {
    return {
      accountId: this.options.accountId,
      state: this.state,
      ...(this.lastError ? { lastError: this.lastError } : {}),
      ...(this.connectedSince
        ? { connectedSince: new Date(this.connectedSince).toISOString() }
        : {}),
      connections: (this.active ? 1 : 0) + this.retiring.size,
      counters: { ...this.counters },
    };
  }

  /** Single-flight: every caller shares the attempt under way. */
  private connect(): Promise<void> {
    if (this.state === 'stopped' || this.state === 'failed') return Promise.resolve();
    this.connecting ??= this.openConnection().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async openConnection(): Promise<void> {
    this.clearReconnectTimer();
    if (!this.active) this.setState('connecting');
    const connection = this.newConnection();
    try {
      this.counters.gatewayCalls += 1;
      await connection.getEndpoint();
      if (this.isStopped()) return;
      await connection._connect();
    } catch (err) {
      await connection.close(0);
      this.onConnectFailed(err);
      return;
    }
    if (this.isStopped()) {
      await connection.close();
      return;
    }
    this.promote(connection);
  }

  private newConnection(): StreamConnection {
    const id = randomUUID();
    const connection: StreamConnection = new StreamConnection(id, {
      clientId: this.options.clientId,
      clientSecret: this.options.clientSecret,
      gatewayUrl: this.options.gatewayUrl,
      heartbeatIntervalMs: this.options.heartbeatIntervalMs,
      heartbeatTimeoutMs: this.options.heartbeatTimeoutMs,
      gatewayTimeoutMs: this.options.gatewayTimeoutMs,
      events: {
        robotMessage: (frame) =>
          this.deliver(connection, frame, TOPIC_ROBOT, this.options.onRobotMessage),
        ...(this.options.onCardCallback
          ? {
              cardCallback: (frame: DownstreamFrame) =>
                this.deliver(connection, frame, TOPIC_CARD, this.options.onCardCallback!),
            }
          : {}),
        disconnectFrame: (reason) => this.onDisconnectFrame(connection, reason),
        malformedFrame: (size, error) => {
          this.counters.malformedFrames += 1;
          this.log.warn('stream.frame_malformed', { connection: id, size, error });
        },
        closed: (code, reason) => this.onClosed(connection, code, reason),
      },
    });
    return connection;
  }

  /** The new connection is up: it takes over; a previous one (if any) is retired. */
  private promote(connection: StreamConnection): void {
    const previous = this.active;
    this.active = connection;
    this.attempt = 0;
    this.lastError = undefined;
    this.connectedSince = Date.now();
    this.setState('connected');
    this.log.info('stream.connected', { connection: connection.id });
    if (previous) this.retire(previous);
    this.firstConnect?.resolve();
    this.firstConnect = undefined;
  }

  private retire(connection: StreamConnection): void {
    const timer = setTimeout(() => {
      this.retiring.delete(connection);
      void connection.close();
    }, this.options.retireGraceMs);
    this.retiring.set(connection, timer);
  }

  private onConnectFailed(err: unknown): void {
    const { code, message } = errorSummary(err);
    this.lastError = { code, message, at: new Date().toISOString() };
    if (FATAL_CODES.has(code)) {
      this.log.error('stream.credentials_rejected', { code, message });
      this.setState('failed');
      this.firstConnect?.reject(err);
      this.firstConnect = undefined;
      return;
    }
    if (this.isStopped()) return;
    // A failed make-before-break attempt retries the same way; the draining socket keeps
    // carrying ACKs until the server closes it.
    this.scheduleReconnect(code, message);
  }

  private scheduleReconnect(code: string, message: string): void {
    const delay = backoffDelay(
      this.attempt,
      { baseMs: this.options.backoffBaseMs, maxMs: this.options.backoffMaxMs },
      this.random,
    );
    this.attempt += 1;
    if (!this.active) this.setState('backing_off');
    this.log.warn('stream.reconnect_scheduled', {
      delayMs: delay,
      attempt: this.attempt,
      code,
      message,
    });
    this.clearReconnectTimer();
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.counters.reconnects += 1;
      void this.connect();
    }, delay);
  }

  private onDisconnectFrame(connection: StreamConnection, reason: string): void {
    this.log.info('stream.disconnect_frame', { connection: connection.id, reason });
    if (connection !== this.active || this.isStopped()) return;
    this.counters.reconnects += 1;
    void this.connect();
  }

  private onClosed(connection: StreamConnection, code: number, reason: string): void {
    const retireTimer = this.retiring.get(connection);
    if (retireTimer) {
      clearTimeout(retireTimer);
      this.retiring.delete(connection);
      return;
    }
    if (this.isStopped()) return;
    if (connection !== this.active) return;
    this.active = undefined;
    this.connectedSince = undefined;
    this.log.warn('stream.closed', { connection: connection.id, code, reason });
    if (this.connecting) return; // a replacement is already on its way
    this.scheduleReconnect('closed', `socket closed (${code})`);
  }

  private deliver(
    connection: StreamConnection,
    frame: DownstreamFrame,
    topic: string,
    handler: (delivery: RobotDelivery) => Promise<void> | void,
  ): void {
    const messageId = frame.headers?.messageId;
    if (typeof messageId !== 'string' || !messageId || typeof frame.data !== 'string') {
      this.counters.malformedFrames += 1;
      this.log.warn('stream.callback_malformed', { connection: connection.id });
      return;
    }
    this.counters.received += 1;
    let acked = false;
    const delivery: RobotDelivery = {
      accountId: this.options.accountId,
      messageId,
      data: frame.data,
      topic,
      connectionId: connection.id,
      receivedAt: Date.now(),
      ack: () => {
        if (acked) return true;
        acked = this.ackOn(connection, messageId);
        return acked;
      },
    };
    Promise.resolve()
      .then(() => handler(delivery))
      .catch((err) => {
        this.counters.handlerErrors += 1;
        this.log.error('stream.handler_failed', { messageId, error: errorSummary(err) });
      });
  }

  /** ACK on the connection the push came on; if it is gone, on the active one. */
  private ackOn(connection: StreamConnection, messageId: string): boolean {
    const target = connection.socketState === WebSocket.OPEN ? connection : this.active;
    const ok = target?.ack(messageId) ?? false;
    if (ok) this.counters.acked += 1;
    else this.counters.ackFailed += 1;
    return ok;
  }

  private isStopped(): boolean {
    return this.state === 'stopped' || this.state === 'failed';
  }

  private setState(state: StreamClientState): void {
    if (this.state === 'stopped' || this.state === state) return;
    this.state = state;
  }

  private clearReconnectTimer(): void {
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
  }
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
