/**
 * The fake DingTalk: one HTTP + WebSocket server on 127.0.0.1 (dingtalk-protocol.md §8).
 * Wires the parts together and implements the in-process `Simulator` API that mirrors the
 * `/__sim/` control routes. `close()` terminates every socket and clears every timer.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { z } from 'zod';
import { ChannelError } from '../errors.js';
import { type CardClickInput, clickCard } from './card-click.js';
import { CardBook, type SimCard } from './cards.js';
import {
  type ConnectionHooks,
  type ConnectionInfo,
  ConnectionRegistry,
  type StreamConnection,
} from './connections.js';
import type { SimContext } from './context.js';
import type { FaultResult, OutcomeInput, Simulator } from './control.js';
import { type AckMatch, Dispatcher } from './delivery.js';
import { Directory } from './directory.js';
import { type FaultInput, FaultPlan, parseFaultRequest } from './faults.js';
import { ChatFeed } from './feed.js';
import { parseUpstream } from './frames.js';
import { TicketBook } from './gateway.js';
import type { InjectMessageInput } from './inbound-builder.js';
import { type InjectEventInput, injectEvent, injectMessage } from './inject.js';
import {
  type GatewayRequestRecord,
  Ledger,
  type OutboxEntry,
  type OutcomeRecord,
} from './ledger.js';
import {
  type ResolvedOptions,
  resolveOptions,
  type SimApp,
  type SimulatorOptions,
} from './options.js';
import type { OwnerOperations } from './owner.js';
import { QpsLimiter } from './qps.js';
import type { RawInjectInput } from './raw-inject.js';
import { routeRequest } from './router.js';
import { TokenStore } from './tokens.js';
import { handleUpgrade, refuseUpgrade } from './upgrade.js';
import { type Parsed, parseWith } from './validation.js';

const DEFAULT_WAIT_MS = 5_000;
const OutcomeSchema = z.strictObject({
  messageId: z.string().min(1),
  status: z.enum(['handled', 'dropped', 'duplicate', 'failed']),
  reason: z.string().min(1).max(200).optional(),
});
const MALFORMED_FRAME = 'this frame is not JSON {';

class SimulatorServer implements Simulator {
  readonly apps: readonly SimApp[];
  private readonly ctx: SimContext;
  private readonly ledger = new Ledger();
  private readonly registry = new ConnectionRegistry();
  private readonly http: Server;
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly feed: ChatFeed;
  private owner: OwnerOperations | undefined;
  private base = '';
  private closing?: Promise<void>;

  constructor(private readonly options: ResolvedOptions) {
    this.apps = options.apps;
    const { clock } = options;
    const faults = new FaultPlan();
    const cards = new CardBook(
      () => clock.now(),
      () => this.ledger.changed(),
    );
    this.feed = new ChatFeed(this.ledger, this.registry, cards);
    this.ctx = {
      options,
      ledger: this.ledger,
      directory: new Directory(clock, options.users, options.groups),
      tokens: new TokenStore(clock, options.tokenTtlSeconds),
      tickets: new TicketBook(clock, options.ticketTtlMs),
      faults,
      cards,
      qps: new QpsLimiter(clock, options.qpsPerApp),
      connections: this.registry,
      dispatcher: new Dispatcher(options, this.ledger, this.registry),
      feed: this.feed,
      owner: () => this.owner,
      baseUrl: () => this.base,
      findApp: (account) =>
        options.apps.find((a) => a.accountId === account || a.clientId === account),
      authenticate: (clientId, secret) =>
        options.apps.find((a) => a.clientId === clientId && a.clientSecret === secret),
    };
    const hooks: ConnectionHooks = {
      onUpstream: (conn, text) => this.onUpstream(conn, text),
      onClosed: (conn) => this.registry.retire(conn),
    };
    this.http = createServer((req, res) => routeRequest(this.ctx, this, req, res));
    this.http.on('upgrade', (req, socket, head) => {
      if (this.closing)
        return refuseUpgrade(socket, 503, 'ServiceUnavailable', 'simulator is closing');
      handleUpgrade(this.ctx, this.wss, hooks, req, socket, head);
    });
  }

  get url(): string {
    return this.base;
  }
  get gatewayUrl(): string {
    return `${this.base}/v1.0/gateway/connections/open`;
  }
  get apiBase(): string {
    return this.base;
  }
  get oapiBase(): string {
    return this.base;
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen(this.options.port, this.options.host, () => {
        this.http.off('error', reject);
        resolve();
      });
    });
    const { port } = this.http.address() as AddressInfo;
    const host = ['0.0.0.0', '::', ''].includes(this.options.host)
      ? '127.0.0.1'
      : this.options.host;
    this.base = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  }

  tryInjectMessage(body: unknown) {
    return injectMessage(this.ctx, body);
  }
  tryInjectEvent(body: unknown) {
    return injectEvent(this.ctx, body);
  }
  injectMessage(req: InjectMessageInput | RawInjectInput) {
    return orThrow(this.tryInjectMessage(req));
  }
  injectEvent(req: InjectEventInput) {
    return orThrow(this.tryInjectEvent(req));
  }
  tryClickCard(outTrackId: string, body: unknown) {
    return clickCard(this.ctx, outTrackId, body);
  }
  clickCard(outTrackId: string, click: CardClickInput) {
    return orThrow(this.tryClickCard(outTrackId, click));
  }

  tryAddFaults(body: unknown): Parsed<FaultResult> {
    const parsed = parseFaultRequest(body);
    if (!parsed.ok) return parsed;
    const request = parsed.value;
    const target = request.malformedFrame?.connectionId;
    if (target !== undefined && this.registry.get(target)?.state !== 'open') {
      return {
        ok: false,
        error: `invalid fault request: \`malformedFrame.connectionId\`: no open connection "${target}"`,
      };
    }
    this.ctx.faults.add(request);
    const result: FaultResult = { pending: this.ctx.faults.pending() };
    if (request.expireTokens) result.tokensExpired = this.ctx.tokens.expireAll();
    if (request.malformedFrame) {
      const targets = target
        ? [this.registry.get(target)!]
        : this.registry.open().filter((c) => c.state === 'open');
      const text = request.malformedFrame.text ?? MALFORMED_FRAME;
      result.malformedFrameSentTo = targets.filter((c) => c.sendRaw(text)).map((c) => c.id);
    }
    this.ledger.changed();
    return { ok: true, value: result };
  }
  addFaults(spec: FaultInput): FaultResult {
    return orThrow(this.tryAddFaults(spec));
  }
  tryRecordOutcome(body: unknown): Parsed<OutcomeRecord> {
    const parsed = parseWith(OutcomeSchema, body, 'outcome');
    if (!parsed.ok) return parsed;
    const { messageId, status, reason } = parsed.value;
    if (!this.ledger.inbound.some((r) => r.messageId === messageId)) {
      return {
        ok: false,
        error: `invalid outcome: \`messageId\`: the simulator pushed no message "${messageId}"`,
      };
    }
    const record: OutcomeRecord = {
      messageId,
      status,
      ...(reason ? { reason } : {}),
      at: Date.now(),
    };
    this.ledger.recordOutcome(record);
    return { ok: true, value: record };
  }
  recordOutcome(outcome: OutcomeInput): OutcomeRecord {
    return orThrow(this.tryRecordOutcome(outcome));
  }
  outcomes() {
    return [...this.ledger.outcomes.values()];
  }
  setOwnerOperations(owner: OwnerOperations | undefined): void {
    this.owner = owner;
  }
  pendingFaults() {
    return this.ctx.faults.pending();
  }
  clearFaults(): void {
    this.ctx.faults.clear();
  }

  inbound() {
    return [...this.ledger.inbound];
  }
  outbox(since = 0) {
    return this.ledger.outboxSince(since);
  }
  uploads() {
    return [...this.ledger.uploads];
  }
  acks() {
    return [...this.ledger.acks];
  }
  cards(): SimCard[] {
    return this.ctx.cards.list();
  }
  card(outTrackId: string): SimCard | undefined {
    const card = this.ctx.cards.get(outTrackId);
    return card ? structuredClone(card) : undefined;
  }
  connections() {
    return this.registry.all().map((c) => c.info());
  }
  pingViolations() {
    return [...this.ledger.pingViolations];
  }
  stats() {
    return { ...this.ledger.stats };
  }
  gatewayRequests(options: { maskSecrets?: boolean } = {}): GatewayRequestRecord[] {
    return this.ledger.gatewayRequests.map((r) => ({
      ...r,
      headers: { ...r.headers },
      body: options.maskSecrets ? maskClientSecret(r.body) : r.body,
    }));
  }

  disconnect(id: string): boolean {
    return this.connection(id).disconnect();
  }
  drop(id: string): boolean {
    return this.connection(id).drop();
  }
  stall(id: string): boolean {
    return this.connection(id).stall();
  }

  waitFor<T>(probe: () => T | undefined, timeoutMs = DEFAULT_WAIT_MS, what = 'a condition') {
    return this.ledger.waitFor(probe, timeoutMs, () => what);
  }
  waitForOutbox(
    predicateOrCount: number | ((entry: OutboxEntry) => boolean),
    timeoutMs = DEFAULT_WAIT_MS,
  ): Promise<OutboxEntry[]> {
    const probe =
      typeof predicateOrCount === 'number'
        ? () =>
            this.ledger.outbox.length >= predicateOrCount ? [...this.ledger.outbox] : undefined
        : () => {
            const matching = this.ledger.outbox.filter(predicateOrCount);
            return matching.length > 0 ? matching : undefined;
          };
    const describe = () =>
      `${typeof predicateOrCount === 'number' ? `${predicateOrCount} outbox entries` : 'a matching outbox entry'} (outbox: ${JSON.stringify(this.ledger.outbox.map((e) => ({ via: e.via, msgtype: e.msgtype, text: e.text })))})`;
    return this.ledger.waitFor(probe, timeoutMs, describe);
  }
  waitForAck(messageId: string, timeoutMs = DEFAULT_WAIT_MS) {
    const probe = () => this.ledger.acks.find((a) => a.messageId === messageId && a.matched);
    return this.ledger.waitFor(probe, timeoutMs, () => `an ACK of ${messageId}`);
  }
  waitForConnection(
    predicate: (conn: ConnectionInfo) => boolean = (c) => c.state === 'open',
    timeoutMs = DEFAULT_WAIT_MS,
  ) {
    const probe = () => this.connections().find(predicate);
    return this.ledger.waitFor(probe, timeoutMs, () => 'a matching connection');
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.feed.close();
    this.ledger.close();
    this.ctx.dispatcher.close();
    this.registry.terminateAll();
    this.wss.close();
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }

  private connection(id: string): StreamConnection {
    const conn = this.registry.get(id);
    if (!conn) throw new ChannelError('not-found', `no connection "${id}"`);
    return conn;
  }

  /** Every upstream frame is recorded; non-JSON or id-less frames are counted and ignored (§8.1). */
  private onUpstream(conn: StreamConnection, text: string): void {
    const up = parseUpstream(text);
    if ('error' in up) {
      this.ledger.stats.malformedUpstream += 1;
      this.options.logger.warn('sim.upstream.malformed', {
        connectionId: conn.id,
        reason: up.error,
      });
      this.ledger.changed();
      return;
    }
    conn.acks += 1;
    const system = conn.matchSystemAck(up.messageId, up.data);
    const match: AckMatch = system
      ? { kind: system.kind, matched: true, topic: system.kind, latencyMs: system.latencyMs }
      : this.ctx.dispatcher.onAck(conn, up);
    this.ledger.recordAck({
      receivedAt: Date.now(),
      connectionId: conn.id,
      account: conn.app.accountId,
      messageId: up.messageId,
      code: up.code,
      message: up.message,
      data: up.data,
      frame: up.frame,
      ...match,
    });
  }
}

function orThrow<T>(result: Parsed<T>): T {
  if (result.ok) return result.value;
  throw new ChannelError('invalid-request', result.error);
}

function maskClientSecret(body: string): string {
  try {
    const secret = (JSON.parse(body) as { clientSecret?: unknown }).clientSecret;
    return typeof secret === 'string' && secret !== '' ? body.split(secret).join('***') : body;
  } catch {
    return body;
  }
}

/** Starts a fake DingTalk on 127.0.0.1 (port 0 by default) and resolves once it listens. */
export async function startSimulator(options?: SimulatorOptions): Promise<Simulator> {
  const sim = new SimulatorServer(resolveOptions(options));
  await sim.listen();
  return sim;
}
