/**
 * The fake's HTTP front: Tablestore's protocol is `POST /<Operation>` with a protobuf body,
 * signed `x-ots-*` headers (signature.ts), and answers that are the operation's protobuf
 * response (HTTP 200) or an `Error { code, message }` body with the error's HTTP status.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { OtsError, otsErrors } from './errors.js';
import type { FaultState } from './faults.js';
import { type FakeInstance, OPERATIONS, runOperation } from './operations.js';
import { encodeMessage, message } from './proto.js';
import { type Credentials, verifyRequest } from './signature.js';

/** Tablestore refuses request bodies over its 4 MB request limit with OTSRequestBodyTooLarge. */
export const MAX_BODY_BYTES = 4 * 1024 * 1024;

export interface ServerDeps {
  instance: FakeInstance;
  faults: FaultState;
  credentials: Credentials;
  /** Counts answered calls per operation (errors included). */
  calls: Map<string, number>;
}

function send(res: ServerResponse, status: number, body: Buffer) {
  res.writeHead(status, {
    'content-type': 'application/x-protobuf',
    'content-length': body.length,
    'x-ots-contentmd5': createHash('md5').update(body).digest('base64'),
    'x-ots-requestid': randomUUID(),
    'x-ots-date': new Date().toISOString(),
  });
  res.end(body);
}

function sendError(res: ServerResponse, err: OtsError) {
  send(res, err.status, encodeMessage('Error', { code: err.code, message: err.message }));
}

async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) tooLarge = true;
    else chunks.push(chunk as Buffer);
  }
  if (tooLarge) return undefined;
  return Buffer.concat(chunks);
}

async function handle(deps: ServerDeps, req: IncomingMessage, res: ServerResponse) {
  const path = (req.url ?? '/').split('?')[0] ?? '/';
  const operation = path.slice(1);
  deps.calls.set(operation, (deps.calls.get(operation) ?? 0) + 1);
  // The body is always read first, so an error answer leaves the keep-alive connection usable.
  const body = await readBody(req);
  if (!body) {
    res.setHeader('connection', 'close');
    return sendError(res, otsErrors.bodyTooLarge());
  }
  if (req.method !== 'POST') return sendError(res, otsErrors.methodNotAllowed());
  verifyRequest(path, 'POST', req.headers, body, deps.credentials, Date.now());
  if (!OPERATIONS.has(operation)) throw otsErrors.invalid(`Unsupported operation: '${operation}'.`);
  const throttled = deps.faults.takeThrottle(operation);
  if (deps.faults.latencyMs > 0) await sleep(deps.faults.latencyMs);
  if (throttled) throw throttled;
  let request: Record<string, unknown>;
  try {
    request = message(`${operation}Request`).decode(body);
  } catch (err) {
    throw otsErrors.invalid(`Failed to parse the ${operation} request: ${(err as Error).message}`);
  }
  const response = runOperation(deps.instance, operation, request);
  if (deps.faults.takeDrop(operation)) {
    // Applied, never answered: the client sees a reset connection (an ambiguous write).
    req.socket.destroy();
    return;
  }
  send(res, 200, encodeMessage(`${operation}Response`, response));
}

/** Creates the HTTP server (not yet listening). */
export function createFakeServer(deps: ServerDeps): Server {
  return createServer((req, res) => {
    handle(deps, req, res).catch((err: unknown) => {
      if (res.headersSent || req.socket.destroyed) return;
      if (err instanceof OtsError) return sendError(res, err);
      sendError(res, new OtsError(500, 'OTSInternalServerError', 'Internal server error.'));
    });
  });
}
