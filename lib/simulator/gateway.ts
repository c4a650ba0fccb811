/**
 * `POST /v1.0/gateway/connections/open` (§1.1, §8.1): checks the app credentials, remembers the
 * subscriptions and hands out a single-use ticket valid for `ticketTtlMs` (90 s in production).
 * Tolerates what real clients send: N215's `ua:""` and no `localIp`, GO's `extras`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../clock.js';
import type { Subscription } from '../dingtalk/payload.js';
import type { SimContext } from './context.js';
import { header, isRecord, parseJson, sendJson } from './http-io.js';
import { mintRequestId, randomUUID } from './ids.js';
import type { GatewayRequestRecord } from './ledger.js';
import type { SimApp } from './options.js';

/** What a ticket grants: a connection for this app with these subscriptions. */
export interface TicketGrant {
  app: SimApp;
  subscriptions: Subscription[];
  ua: string;
}

interface Ticket extends TicketGrant {
  expiresAt: number;
  used: boolean;
}

export type Redemption = { ok: true; grant: TicketGrant } | { ok: false; reason: string };

/** Single-use, expiring connection tickets (PEDIA L79: "valid for 90 s and for one connection"). */
export class TicketBook {
  private readonly tickets = new Map<string, Ticket>();

  constructor(
    private readonly clock: Clock,
    private readonly ttlMs: number,
  ) {}

  issue(grant: TicketGrant): string {
    this.prune();
    const ticket = randomUUID();
    this.tickets.set(ticket, { ...grant, expiresAt: this.clock.now() + this.ttlMs, used: false });
    return ticket;
  }

  /** Uses up a ticket. Unknown, expired and reused tickets are refused. */
  redeem(ticket: string): Redemption {
    const entry = this.tickets.get(ticket);
    if (!entry) return { ok: false, reason: 'unknown ticket' };
    if (entry.used) return { ok: false, reason: 'ticket already used' };
    entry.used = true;
    if (this.clock.now() > entry.expiresAt) return { ok: false, reason: 'ticket expired' };
    return { ok: true, grant: entry };
  }

  // Used and expired tickets stay until they would have expired, so reuse is told apart.
  private prune(): void {
    const now = this.clock.now();
    for (const [ticket, entry] of this.tickets) {
      if (now > entry.expiresAt) this.tickets.delete(ticket);
    }
  }
}

const SUBSCRIPTION_TYPES = new Set(['EVENT', 'CALLBACK', 'SYSTEM']);

function parseSubscriptions(value: unknown): Subscription[] | string {
  if (!Array.isArray(value)) return '`subscriptions` must be an array of {type, topic}';
  const out: Subscription[] = [];
  for (const [i, item] of value.entries()) {
    if (!isRecord(item) || typeof item.type !== 'string' || typeof item.topic !== 'string') {
      return `\`subscriptions[${i}]\` must be an object with string \`type\` and \`topic\``;
    }
    if (!SUBSCRIPTION_TYPES.has(item.type)) {
      return `\`subscriptions[${i}].type\` must be EVENT, CALLBACK or SYSTEM`;
    }
    out.push({ type: item.type, topic: item.topic });
  }
  return out;
}

function flatHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

interface OpenRejection {
  status: number;
  code: string;
  message: string;
}

/** The checks of one `/open` call, in the order the real gateway would meet them. */
function checkOpenRequest(
  ctx: SimContext,
  req: IncomingMessage,
  body: Buffer,
): TicketGrant | OpenRejection {
  const fault = ctx.faults.gateway.take();
  if (fault) {
    const code =
      fault.code ?? (fault.status >= 500 ? 'ServiceUnavailable' : 'invalidClientIdOrSecret');
    return { status: fault.status, code, message: fault.message ?? 'simulated gateway fault' };
  }
  if (ctx.options.strictAccept && !(header(req, 'accept') ?? '').includes('application/json')) {
    const message = 'send `Accept: application/json` (otherwise DingTalk answers XML)';
    return { status: 406, code: 'NotAcceptable', message };
  }
  const parsed = parseJson(body);
  if (!parsed.ok) return { status: 400, code: 'InvalidParameter', message: parsed.error };
  const request = parsed.value;
  if (!isRecord(request)) {
    return { status: 400, code: 'InvalidParameter', message: 'the body must be a JSON object' };
  }
  const app = ctx.authenticate(request.clientId, request.clientSecret);
  if (!app) {
    return {
      status: 400,
      code: 'invalidClientIdOrSecret',
      message: '无效的clientId或者clientSecret',
    };
  }
  const subscriptions = parseSubscriptions(request.subscriptions);
  if (typeof subscriptions === 'string') {
    return { status: 400, code: 'InvalidParameter', message: subscriptions };
  }
  return { app, subscriptions, ua: typeof request.ua === 'string' ? request.ua : '' };
}

/** Handles one `/open` call; every call is recorded for conformance tests. */
export function handleGatewayOpen(
  ctx: SimContext,
  req: IncomingMessage,
  res: ServerResponse,
  body: Buffer,
): void {
  const record: GatewayRequestRecord = {
    at: Date.now(),
    method: req.method ?? 'POST',
    headers: flatHeaders(req),
    body: body.toString('utf8'),
    status: 0,
  };
  ctx.ledger.stats.gatewayOpens += 1;
  const checked = checkOpenRequest(ctx, req, body);
  let status = 200;
  let answer: unknown;
  if ('app' in checked) {
    record.clientId = checked.app.clientId;
    record.subscriptions = checked.subscriptions;
    const endpoint = `${ctx.baseUrl().replace(/^http/, 'ws')}/connect`;
    answer = { endpoint, ticket: ctx.tickets.issue(checked) };
    const { clientId } = checked.app;
    ctx.options.logger.info('sim.gateway.open', { clientId, subscriptions: checked.subscriptions });
  } else {
    status = checked.status;
    answer = { requestid: mintRequestId(), code: checked.code, message: checked.message };
    ctx.ledger.stats.gatewayRejected += 1;
  }
  record.status = status;
  ctx.ledger.recordGateway(record);
  sendJson(res, status, answer);
}
