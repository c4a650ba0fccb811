/**
 * The Stream WebSocket handshake, `GET /connect?ticket=` (§1.2, §8.1). The ticket is checked
 * during the handshake: a missing one is answered 400, an unknown, expired or reused one 401,
 * with a real HTTP response written on the socket before it is destroyed, as a server that
 * refuses an upgrade does. That refusal is what sets off the N215 reconnect storm (B1).
 */
import { type IncomingMessage, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocketServer } from 'ws';
import { type ConnectionHooks, StreamConnection } from './connections.js';
import type { SimContext } from './context.js';
import type { TicketGrant } from './gateway.js';
import { JSON_TYPE, requestUrl } from './http-io.js';
import { mintRequestId } from './ids.js';

/** Writes an HTTP error response on a socket that asked to upgrade, then closes it. */
export function refuseUpgrade(socket: Duplex, status: number, code: string, message: string): void {
  const body = JSON.stringify({ requestid: mintRequestId(), code, message });
  const head = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`,
    'Connection: close',
    `Content-Type: ${JSON_TYPE}`,
    `Content-Length: ${Buffer.byteLength(body)}`,
  ].join('\r\n');
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  socket.once('finish', () => socket.destroy());
  socket.end(`${head}\r\n\r\n${body}`);
}

/** Completes the handshake and registers the connection for its ticket's app. */
function accept(
  ctx: SimContext,
  wss: WebSocketServer,
  hooks: ConnectionHooks,
  upgrade: { req: IncomingMessage; socket: Duplex; head: Buffer },
  grant: TicketGrant,
): void {
  const { req, socket, head } = upgrade;
  wss.handleUpgrade(req, socket, head, (ws) => {
    const { app, subscriptions, ua } = grant;
    const conn = new StreamConnection(
      app,
      subscriptions,
      ua,
      ws,
      socket,
      ctx.options,
      ctx.ledger,
      hooks,
    );
    ctx.connections.add(conn);
    ctx.ledger.stats.handshakesAccepted += 1;
    ctx.ledger.stats.connectionsOpen += 1;
    ctx.options.logger.info('sim.connection.open', { id: conn.id, clientId: app.clientId });
    ctx.dispatcher.onConnectionReady(conn);
    ctx.ledger.changed();
  });
}

/** Accepts or refuses one upgrade request. */
export function handleUpgrade(
  ctx: SimContext,
  wss: WebSocketServer,
  hooks: ConnectionHooks,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
): void {
  socket.on('error', () => socket.destroy());
  const reject = (status: number, code: string, message: string) => {
    ctx.ledger.stats.handshakesRejected += 1;
    ctx.ledger.changed();
    refuseUpgrade(socket, status, code, message);
  };
  const url = requestUrl(req);
  if (url.pathname !== '/connect') {
    reject(404, 'NotFound', `no WebSocket at ${url.pathname}`);
    return;
  }
  const ticket = url.searchParams.get('ticket');
  // A faulted upgrade still uses up its ticket, as a failed handshake would.
  const redemption = ticket ? ctx.tickets.redeem(ticket) : undefined;
  const fault = ctx.faults.handshake.take();
  if (fault) reject(fault.status, 'SimulatedFault', 'simulated handshake fault');
  else if (!redemption) reject(400, 'MissingTicket', 'the `ticket` query parameter is required');
  else if (!redemption.ok) reject(401, 'InvalidTicket', redemption.reason);
  else accept(ctx, wss, hooks, { req, socket, head }, redemption.grant);
}
