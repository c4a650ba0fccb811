/**
 * The chat page and the routes only it needs: the static files (`/`, `/chat/…`, read from
 * lib/simulator/chat/ in the package: no build step, no CDN), the live feed
 * (`GET /__sim/stream`), the app list (`GET /__sim/apps`, no secrets) and, when a demo lent
 * its owner operations, the pairing panel (`GET /__sim/demo/pairings`,
 * `POST /__sim/demo/pairings/approve`).
 *
 * The owner routes change the channel's state, so they answer only loopback peers, only JSON
 * POSTs (a cross-site form cannot send `application/json` without a CORS preflight, which this
 * server never grants) and only requests whose Origin, when sent, is this server. The card
 * click the page's Stop button sends (`POST /__sim/cards/<outTrackId>/click`, a control route)
 * gets the browser half of that rule (refuseCrossSite): a browser request must come from this
 * server's own page, as JSON; clients that send no Origin (tests, curl) are unaffected.
 */
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { errorSummary } from '../errors.js';
import { maskSecrets } from '../log.js';
import type { SimContext } from './context.js';
import { header, parseJson, sendApiError, sendJson } from './http-io.js';
import { parseWith } from './validation.js';

const CHAT_DIR = new URL('./chat/', import.meta.url);
const STATIC: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'chat.css': 'text/css; charset=utf-8',
  'chat.js': 'text/javascript; charset=utf-8',
  'card-item.js': 'text/javascript; charset=utf-8',
  'dom.js': 'text/javascript; charset=utf-8',
  'markdown.js': 'text/javascript; charset=utf-8',
};
const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

const ApproveSchema = z.strictObject({
  account: z.string().min(1).optional(),
  code: z.string().min(1),
  notify: z.boolean().default(true),
});

/** True when this request is one of the page's routes (served by `handlePage`). */
export function isPageRoute(method: string, path: string): boolean {
  if (method === 'GET' && (path === '/' || path === '/chat' || path.startsWith('/chat/')))
    return true;
  return (
    path === '/__sim/stream' ||
    path === '/__sim/apps' ||
    path === '/__sim/demo/pairings' ||
    path === '/__sim/demo/pairings/approve'
  );
}

/** Serves one page route. */
export async function handlePage(
  ctx: SimContext,
  req: IncomingMessage,
  res: ServerResponse,
  method: string,
  path: string,
  body: Buffer,
): Promise<void> {
  if (path === '/' || path === '/chat') return serveStatic(res, 'index.html');
  if (path.startsWith('/chat/')) return serveStatic(res, path.slice('/chat/'.length));
  if (path === '/__sim/stream') {
    if (method !== 'GET') return sendApiError(res, 405, 'methodNotAllowed', `use GET for ${path}`);
    ctx.feed.attach(res);
    return;
  }
  if (path === '/__sim/apps') {
    if (method !== 'GET') return sendApiError(res, 405, 'methodNotAllowed', `use GET for ${path}`);
    const apps = ctx.options.apps.map((a) => ({ accountId: a.accountId, clientId: a.clientId }));
    return sendJson(res, 200, { apps, demo: ctx.owner() !== undefined });
  }
  return handleOwner(ctx, req, res, method, path, body);
}

async function serveStatic(res: ServerResponse, name: string): Promise<void> {
  const type = STATIC[name];
  if (!type) return sendApiError(res, 404, 'NotFound', `the chat page has no file "${name}"`);
  const bytes = await readFile(new URL(name, CHAT_DIR));
  res.writeHead(200, {
    'content-type': type,
    'content-length': bytes.length,
    'cache-control': 'no-cache',
  });
  res.end(bytes);
}

/** Why a browser request from another site (or a non-JSON one from a browser) is refused. */
export function refuseCrossSite(req: IncomingMessage): string | undefined {
  const origin = header(req, 'origin');
  if (origin === undefined) return undefined;
  if (origin !== `http://${header(req, 'host')}`)
    return `cross-origin requests are refused (Origin ${origin})`;
  if (!(header(req, 'content-type') ?? '').startsWith('application/json'))
    return 'send the request as application/json';
  return undefined;
}

function refuseOwnerRequest(req: IncomingMessage, method: string): string | undefined {
  if (!LOOPBACK.has(req.socket.remoteAddress ?? ''))
    return 'the demo owner routes answer loopback clients only';
  const origin = header(req, 'origin');
  const host = header(req, 'host');
  if (origin !== undefined && origin !== `http://${host}`)
    return `cross-origin requests are refused (Origin ${origin})`;
  if (method === 'POST' && !(header(req, 'content-type') ?? '').startsWith('application/json'))
    return 'send the request as application/json';
  return undefined;
}

async function handleOwner(
  ctx: SimContext,
  req: IncomingMessage,
  res: ServerResponse,
  method: string,
  path: string,
  body: Buffer,
): Promise<void> {
  const owner = ctx.owner();
  if (!owner) {
    return sendApiError(
      res,
      404,
      'notFound',
      'no demo is attached: pairing approval from the page works under `npm start` in demo mode',
    );
  }
  const expected = path === '/__sim/demo/pairings' ? 'GET' : 'POST';
  if (method !== expected)
    return sendApiError(res, 405, 'methodNotAllowed', `use ${expected} for ${path}`);
  const refused = refuseOwnerRequest(req, method);
  if (refused) return sendApiError(res, 403, 'forbidden', refused);
  try {
    if (method === 'GET') return sendJson(res, 200, { requests: await owner.listPairings() });
    const json = parseJson(body);
    if (!json.ok) return sendApiError(res, 400, 'invalidRequest', json.error);
    const parsed = parseWith(ApproveSchema, json.value, 'pairing approval');
    if (!parsed.ok) return sendApiError(res, 400, 'invalidRequest', parsed.error);
    const answer = await owner.approvePairing(parsed.value);
    if (answer.approved) return sendJson(res, 200, answer);
    return sendApiError(
      res,
      answer.status,
      answer.status === 404 ? 'notFound' : 'invalidRequest',
      answer.error,
    );
  } catch (err) {
    // A store failure: the page shows it; the request is unchanged, so trying again is safe.
    ctx.options.logger.error('sim.demo.owner_failed', { path, error: errorSummary(err) });
    return sendApiError(
      res,
      503,
      'unavailable',
      `the channel's store failed: ${maskSecrets(errorSummary(err).message)}`,
    );
  }
}
