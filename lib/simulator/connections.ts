/**
 * One accepted Stream WebSocket and the registry of them.
 *
 * Lifecycle of a connection (§2.3, §8.1):
 *   open ──disconnect()──► draining ──disconnectGraceMs──► closed (server closes the socket)
 *   open ──stall()──► stalled (socket paused: no reads, no pongs, no pushes)
 *   any  ──drop()──► closed (TCP reset)        any ──client closes──► closed
 * Only `open` connections receive pushes and SYSTEM pings.
 */
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import type { DownstreamFrame, FrameType, Subscription } from '../dingtalk/payload.js';
import { systemFrame } from './frames.js';
import { randomUUID } from './ids.js';
import type { Ledger } from './ledger.js';
import type { ResolvedOptions, SimApp } from './options.js';

export type ConnectionState = 'open' | 'draining' | 'stalled' | 'closed';

/** A connection as the control API reports it. */
export interface ConnectionInfo {
  id: string;
  account: string;
  clientId: string;
  state: ConnectionState;
  subscriptions: Subscription[];
  ua: string;
  openedAt: number;
  closedAt?: number;
  closeCode?: number;
  pushes: number;
  acks: number;
  pingsSent: number;
  pingViolations: number;
}

export interface ConnectionHooks {
  /** A text frame arrived from the client. */
  onUpstream(conn: StreamConnection, text: string): void;
  onClosed(conn: StreamConnection): void;
}

interface PendingPing {
  data: string;
  sentAt: number;
  timer: NodeJS.Timeout;
}

const WS_OPEN = 1;

/** What a SYSTEM ACK answered, for the ACK log. */
export interface SystemAckMatch {
  kind: 'ping' | 'disconnect';
  latencyMs: number;
}

export class StreamConnection {
  readonly id = randomUUID();
  readonly openedAt = Date.now();
  state: ConnectionState = 'open';
  closedAt?: number;
  closeCode?: number;
  pushes = 0;
  acks = 0;
  pingsSent = 0;
  pingViolations = 0;
  private readonly timers = new Set<NodeJS.Timeout>();
  private pingInterval?: NodeJS.Timeout;
  private readonly pendingPings = new Map<string, PendingPing>();
  private disconnectSent?: { messageId: string; at: number };

  constructor(
    readonly app: SimApp,
    readonly subscriptions: Subscription[],
    readonly ua: string,
    private readonly ws: WebSocket,
    private readonly socket: Duplex,
    private readonly options: ResolvedOptions,
    private readonly ledger: Ledger,
    private readonly hooks: ConnectionHooks,
  ) {
    ws.on('message', (data, isBinary) => {
      if (this.state === 'stalled') return;
      hooks.onUpstream(this, isBinary ? '' : data.toString());
    });
    ws.on('close', (code) => this.onClose(code));
    ws.on('error', (err) => options.logger.warn('sim.connection.error', { id: this.id, err }));
    if (options.pingIntervalMs > 0) {
      this.pingInterval = setInterval(() => this.sendPing(), options.pingIntervalMs);
    }
    if (options.rotateAfterMs > 0) this.later(options.rotateAfterMs, () => this.disconnect());
  }

  /** Whether a push of this type and topic may go to this connection now. */
  canTake(type: Exclude<FrameType, 'SYSTEM'>, topic: string): boolean {
    if (this.state !== 'open' || this.ws.readyState !== WS_OPEN) return false;
    return this.subscriptions.some((s) =>
      type === 'EVENT'
        ? s.type === 'EVENT' && (s.topic === '*' || s.topic === topic)
        : s.type === 'CALLBACK' && s.topic === topic,
    );
  }

  /** Sends a frame as JSON text; false when the socket is not open. */
  send(frame: DownstreamFrame): boolean {
    return this.sendRaw(JSON.stringify(frame));
  }

  /** Sends raw text; the only non-JSON text ever sent is the `malformedFrame` fault. */
  sendRaw(text: string): boolean {
    if (this.ws.readyState !== WS_OPEN) return false;
    this.ws.send(text);
    return true;
  }

  /**
   * Sends SYSTEM `disconnect`, stops delivering at once, closes after `disconnectGraceMs`
   * (PEDIA: "服务端在静默10s之后会主动断开 tcp 连接"). False unless the connection was open.
   */
  disconnect(reason = 'connection is expired'): boolean {
    if (this.state !== 'open') return false;
    this.state = 'draining';
    const frame = systemFrame('disconnect', { reason }, Date.now());
    this.disconnectSent = { messageId: frame.headers.messageId, at: Date.now() };
    this.send(frame);
    this.ledger.stats.disconnectsSent += 1;
    this.later(this.options.disconnectGraceMs, () => this.ws.close(1000, 'connection is expired'));
    this.ledger.changed();
    return true;
  }

  /** TCP reset: the client sees the socket die without a close frame. */
  drop(): boolean {
    if (this.state === 'closed') return false;
    const socket = this.socket as Duplex & { resetAndDestroy?: () => void };
    if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
    else this.ws.terminate();
    return true;
  }

  /** Stops reading (so no ACKs and no pongs) and stops writing to the socket. */
  stall(): boolean {
    if (this.state !== 'open' && this.state !== 'draining') return false;
    this.state = 'stalled';
    this.ws.pause();
    this.ledger.changed();
    return true;
  }

  /** Closes at once, for simulator shutdown. */
  terminate(): void {
    this.ws.terminate();
    this.clearTimers();
  }

  /**
   * Matches an upstream frame to a SYSTEM frame sent here: an outstanding ping (a wrong echo is
   * a violation) or the `disconnect`, which PY and GO ACK although no reply is needed (§2.2).
   */
  matchSystemAck(messageId: string, data: unknown): SystemAckMatch | undefined {
    if (this.disconnectSent?.messageId === messageId) {
      return { kind: 'disconnect', latencyMs: Date.now() - this.disconnectSent.at };
    }
    const pending = this.pendingPings.get(messageId);
    if (!pending) return undefined;
    this.pendingPings.delete(messageId);
    clearTimeout(pending.timer);
    if (data !== pending.data) this.violation(messageId, 'mismatch');
    return { kind: 'ping', latencyMs: Date.now() - pending.sentAt };
  }

  info(): ConnectionInfo {
    return {
      id: this.id,
      account: this.app.accountId,
      clientId: this.app.clientId,
      state: this.state,
      subscriptions: this.subscriptions.map((s) => ({ ...s })),
      ua: this.ua,
      openedAt: this.openedAt,
      closedAt: this.closedAt,
      closeCode: this.closeCode,
      pushes: this.pushes,
      acks: this.acks,
      pingsSent: this.pingsSent,
      pingViolations: this.pingViolations,
    };
  }

  private sendPing(): void {
    if (this.state !== 'open') return;
    const frame = systemFrame('ping', { opaque: randomUUID() }, Date.now());
    const messageId = frame.headers.messageId;
    const timer = setTimeout(() => {
      this.pendingPings.delete(messageId);
      this.violation(messageId, 'timeout');
    }, this.options.pingAckTimeoutMs);
    this.pendingPings.set(messageId, { data: frame.data, sentAt: Date.now(), timer });
    this.pingsSent += 1;
    this.ledger.stats.pingsSent += 1;
    this.send(frame);
  }

  private violation(messageId: string, reason: 'timeout' | 'mismatch'): void {
    this.pingViolations += 1;
    this.ledger.recordPingViolation({ at: Date.now(), connectionId: this.id, messageId, reason });
  }

  private later(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    this.timers.add(timer);
  }

  private clearTimers(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const ping of this.pendingPings.values()) clearTimeout(ping.timer);
    this.pendingPings.clear();
    if (this.pingInterval) clearInterval(this.pingInterval);
    this.pingInterval = undefined;
  }

  private onClose(code: number): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.closedAt = Date.now();
    this.closeCode = code;
    this.clearTimers();
    this.ledger.stats.connectionsClosed += 1;
    this.hooks.onClosed(this);
    this.ledger.changed();
  }
}

const MAX_CLOSED_KEPT = 200;

/** Every live connection, plus the most recently closed ones for the control API. */
export class ConnectionRegistry {
  private readonly live = new Map<string, StreamConnection>();
  private readonly closed: StreamConnection[] = [];

  add(conn: StreamConnection): void {
    this.live.set(conn.id, conn);
  }

  /** Moves a connection to the closed list. */
  retire(conn: StreamConnection): void {
    this.live.delete(conn.id);
    this.closed.push(conn);
    if (this.closed.length > MAX_CLOSED_KEPT) this.closed.shift();
  }

  get(id: string): StreamConnection | undefined {
    return this.live.get(id) ?? this.closed.find((c) => c.id === id);
  }

  /** Live connections of the app that may take this push now. */
  deliverable(app: SimApp, type: Exclude<FrameType, 'SYSTEM'>, topic: string): StreamConnection[] {
    return [...this.live.values()].filter((c) => c.app === app && c.canTake(type, topic));
  }

  /** Connections not yet closed. */
  open(): StreamConnection[] {
    return [...this.live.values()];
  }

  all(): StreamConnection[] {
    return [...this.closed, ...this.live.values()].sort((a, b) => a.openedAt - b.openedAt);
  }

  terminateAll(): void {
    for (const conn of this.live.values()) conn.terminate();
  }
}
