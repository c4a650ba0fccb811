/**
 * One DingTalk Stream WebSocket, built on the pinned SDK (`dingtalk-stream@2.1.5`) but with the
 * parts that misbehave replaced (dingtalk-protocol.md §3.4, §3.6):
 *
 * - `getEndpoint()` calls a configurable gateway URL (§1.4) and reports gateway errors with
 *   DingTalk's code instead of throwing an axios error that `connect()` swallows (B4).
 * - `_connect()` opens the socket without the SDK's reconnect timers (B1, B2), without its 8 s
 *   keepAlive interval that leaks on every reconnect (B3) and without its console output. Our own
 *   heartbeat runs one interval per socket: ws ping every ~30 s, dead after ~90 s without a pong.
 * - `onDownStream()` survives frames that are not JSON (B7) and reports SYSTEM `disconnect`
 *   frames (B5) so the owner can do a make-before-break reconnect.
 * - Each instance gets its own `subscriptions` array (B6).
 *
 * The SDK still does the protocol work it gets right: the ping echo ACK and the EVENT ACK
 * (`onSystem`, `onEvent`), and the ACK envelope (`socketCallBackResponse`).
 * Nothing here reconnects: the owning StreamClient decides when to open a new connection.
 */
import { DWClient, type DWClientDownStream } from 'dingtalk-stream';
import WebSocket from 'ws';
import { DingTalkApiError } from '../errors.js';
import { callDingTalk } from './http.js';
import { type DownstreamFrame, type Subscription, TOPIC_CARD, TOPIC_ROBOT } from './payload.js';

export interface ConnectionEvents {
  /** A robot CALLBACK arrived; the owner ACKs it (or not) through `ack()`. */
  robotMessage(frame: DownstreamFrame): void;
  /**
   * A card CALLBACK (TOPIC_CARD, a button click) arrived; the owner ACKs it. Given, the
   * connection subscribes to the card topic too (in its own subscriptions array, B6).
   */
  cardCallback?(frame: DownstreamFrame): void;
  /** The server announced it will close this connection (SYSTEM `disconnect`). */
  disconnectFrame(reason: string): void;
  /** A frame that is not JSON, or not a frame, arrived; it was dropped. */
  malformedFrame(size: number, error: string): void;
  /** The socket closed (for any reason) after it had opened. */
  closed(code: number, reason: string): void;
}

export interface ConnectionOptions {
  clientId: string;
  clientSecret: string;
  gatewayUrl: string;
  heartbeatIntervalMs: number;
  heartbeatTimeoutMs: number;
  gatewayTimeoutMs: number;
  events: ConnectionEvents;
}

const GATEWAY_ENDPOINT = 'gateway/connections/open';

type SdkInternals = { dw_url?: string; socket?: WebSocket };

export class StreamConnection extends DWClient {
  readonly id: string;
  private readonly options: ConnectionOptions;
  private heartbeatTimer?: NodeJS.Timeout;
  private lastPongAt = 0;
  private opened = false;

  constructor(id: string, options: ConnectionOptions) {
    // The d.ts omits `subscriptions` and `autoReconnect` (B9); a fresh array per instance (B6).
    const sdkOptions = {
      clientId: options.clientId,
      clientSecret: options.clientSecret,
      keepAlive: false,
      autoReconnect: false,
      subscriptions: [{ type: 'EVENT', topic: '*' }] as Subscription[],
    };
    super(sdkOptions as ConstructorParameters<typeof DWClient>[0]);
    this.id = id;
    this.options = options;
    this.registerCallbackListener(TOPIC_ROBOT, (frame) =>
      options.events.robotMessage(frame as unknown as DownstreamFrame),
    );
    const { cardCallback } = options.events;
    if (cardCallback) {
      this.registerCallbackListener(TOPIC_CARD, (frame) =>
        cardCallback(frame as unknown as DownstreamFrame),
      );
    }
  }

  private get internals(): SdkInternals {
    return this as unknown as SdkInternals;
  }

  /** The open socket, if any. */
  get socketState(): number {
    return this.internals.socket?.readyState ?? WebSocket.CLOSED;
  }

  /** Asks the gateway for an endpoint and a single-use ticket (§1.1). */
  override async getEndpoint(): Promise<this> {
    const body = await callDingTalk<{ endpoint?: unknown; ticket?: unknown }>(
      GATEWAY_ENDPOINT,
      this.options.gatewayUrl,
      {
        body: {
          clientId: this.config.clientId,
          clientSecret: this.config.clientSecret,
          ua: this.config.ua ?? '',
          subscriptions: this.config.subscriptions,
        },
        timeoutMs: this.options.gatewayTimeoutMs,
      },
    );
    const { endpoint, ticket } = body;
    if (typeof endpoint !== 'string' || !endpoint || typeof ticket !== 'string' || !ticket) {
      throw new DingTalkApiError({
        code: 'endpoint_or_ticket_missing',
        message: 'the gateway answered without an endpoint or ticket',
        status: 200,
        endpoint: GATEWAY_ENDPOINT,
        retryable: true,
      });
    }
    this.internals.dw_url = `${endpoint}?ticket=${encodeURIComponent(ticket)}`;
    return this;
  }

  /** Opens the socket; resolves on `open`, rejects on a failed handshake. Never reconnects. */
  override _connect(): Promise<void> {
    const url = this.internals.dw_url;
    if (!url) return Promise.reject(new Error('getEndpoint() must run before _connect()'));
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, { rejectUnauthorized: true });
      this.internals.socket = socket;
      socket.on('open', () => {
        this.opened = true;
        this.connected = true;
        this.lastPongAt = Date.now();
        this.startHeartbeat(socket);
        resolve();
      });
      socket.on('pong', () => {
        this.lastPongAt = Date.now();
      });
      socket.on('message', (data) => {
        this.lastPongAt = Date.now();
        this.onDownStream(data.toString());
      });
      socket.on('error', (err) => {
        socket.terminate();
        if (!this.opened) reject(err);
      });
      socket.on('close', (code, reason) => {
        this.connected = false;
        this.stopHeartbeat();
        if (this.opened) this.options.events.closed(code, reason.toString());
        else reject(new Error(`socket closed before open (${code})`));
      });
    });
  }

  /** Frame dispatch that never throws (B7); SYSTEM `disconnect` is reported (B5). */
  override onDownStream(data: string): void {
    let frame: DownstreamFrame;
    try {
      frame = JSON.parse(data) as DownstreamFrame;
      if (
        !frame ||
        typeof frame !== 'object' ||
        !frame.headers ||
        typeof frame.headers !== 'object'
      ) {
        throw new Error('not a stream frame');
      }
    } catch (err) {
      this.options.events.malformedFrame(Buffer.byteLength(data), (err as Error).message);
      return;
    }
    const sdkFrame = frame as unknown as DWClientDownStream;
    try {
      if (frame.type === 'SYSTEM') {
        this.onSystem(sdkFrame);
        if (frame.headers.topic === 'disconnect') {
          this.options.events.disconnectFrame(disconnectReason(frame.data));
        }
      } else if (frame.type === 'EVENT') {
        this.onEvent(sdkFrame);
      } else if (frame.type === 'CALLBACK') {
        this.onCallback(sdkFrame);
      }
    } catch (err) {
      this.options.events.malformedFrame(Buffer.byteLength(data), (err as Error).message);
    }
  }

  /**
   * ACKs a CALLBACK on this socket (§2.2): `{"response":null}` for a robot message and for a
   * card callback alike (a card callback's response may carry card data; ours never does).
   * False when the socket is no longer open.
   */
  ack(messageId: string): boolean {
    if (this.socketState !== WebSocket.OPEN) return false;
    this.socketCallBackResponse(messageId, null);
    return true;
  }

  /** Closes the socket politely; `terminate` after `graceMs` if the close handshake stalls. */
  close(graceMs = 2000): Promise<void> {
    const socket = this.internals.socket;
    this.stopHeartbeat();
    if (!socket || socket.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => socket.terminate(), graceMs);
      socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      if (socket.readyState === WebSocket.CONNECTING) socket.terminate();
      else socket.close(1000, 'client closing');
    });
  }

  /** The SDK's disconnect() logs to the console and leaves timers; never use it. */
  override disconnect(): void {
    void this.close();
  }

  private startHeartbeat(socket: WebSocket): void {
    this.stopHeartbeat();
    this.heartbeatTimer = setInterval(() => {
      if (Date.now() - this.lastPongAt > this.options.heartbeatTimeoutMs) {
        socket.terminate();
        return;
      }
      if (socket.readyState === WebSocket.OPEN) socket.ping();
    }, this.options.heartbeatIntervalMs);
  }

  private stopHeartbeat(): void {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
  }
}

function disconnectReason(data: string): string {
  try {
    const parsed = JSON.parse(data) as { reason?: unknown };
    return typeof parsed.reason === 'string' ? parsed.reason : 'unknown';
  } catch {
    return 'unknown';
  }
}
