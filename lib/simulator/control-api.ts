/**
 * The simulator's own control API under `/__sim/` (architecture.md "The simulator's control
 * API"; README simulator section). Tests, demo mode and external checks drive the fake with it;
 * each route mirrors a method of the in-process `Simulator`.
 */
import type { ServerResponse } from 'node:http';
import type { SimulatorControl } from './control.js';
import { parseJson, sendApiError, sendJson } from './http-io.js';

const ACTIONS = new Set(['disconnect', 'drop', 'stall']);

type ControlRoute = (
  sim: SimulatorControl,
  res: ServerResponse,
  body: Buffer,
  query: URLSearchParams,
) => void;

const bad = (res: ServerResponse, message: string) =>
  sendApiError(res, 400, 'invalidRequest', message);

function withJson(res: ServerResponse, body: Buffer, then: (value: unknown) => void): void {
  const parsed = parseJson(body);
  if (!parsed.ok) {
    bad(res, parsed.error);
    return;
  }
  then(parsed.value);
}

const ROUTES: Record<string, ControlRoute> = {
  'POST /__sim/messages': (sim, res, body) =>
    withJson(res, body, (value) => {
      const result = sim.tryInjectMessage(value);
      if (result.ok) sendJson(res, 200, result.value);
      else bad(res, result.error);
    }),
  'GET /__sim/messages': (sim, res) => sendJson(res, 200, sim.inbound()),
  'POST /__sim/events': (sim, res, body) =>
    withJson(res, body, (value) => {
      const result = sim.tryInjectEvent(value);
      if (result.ok) sendJson(res, 200, result.value);
      else bad(res, result.error);
    }),
  'GET /__sim/outbox': (sim, res, _body, query) => {
    const raw = query.get('since');
    const since = raw === null || raw === '' ? 0 : Number(raw);
    if (!Number.isInteger(since) || since < 0) {
      return bad(res, '`since` must be a non-negative integer (an outbox seq)');
    }
    // AI card replies are not outbox messages: the answer links to where they are (issue 13).
    sendJson(res, 200, sim.outbox(since), { link: '</__sim/cards>; rel="related"' });
  },
  'GET /__sim/uploads': (sim, res) => sendJson(res, 200, sim.uploads()),
  'GET /__sim/acks': (sim, res) => sendJson(res, 200, sim.acks()),
  'GET /__sim/cards': (sim, res) => sendJson(res, 200, sim.cards()),
  'GET /__sim/outcomes': (sim, res) => sendJson(res, 200, sim.outcomes()),
  'POST /__sim/outcomes': (sim, res, body) =>
    withJson(res, body, (value) => {
      const result = sim.tryRecordOutcome(value);
      if (result.ok) sendJson(res, 200, result.value);
      else bad(res, result.error);
    }),
  'GET /__sim/connections': (sim, res) => sendJson(res, 200, sim.connections()),
  'GET /__sim/gateway-requests': (sim, res) =>
    sendJson(res, 200, sim.gatewayRequests({ maskSecrets: true })),
  'GET /__sim/ping-violations': (sim, res) => sendJson(res, 200, sim.pingViolations()),
  'GET /__sim/stats': (sim, res) => sendJson(res, 200, sim.stats()),
  'GET /__sim/faults': (sim, res) => sendJson(res, 200, { pending: sim.pendingFaults() }),
  'DELETE /__sim/faults': (sim, res) => {
    sim.clearFaults();
    sendJson(res, 200, { pending: sim.pendingFaults() });
  },
  'POST /__sim/faults': (sim, res, body) =>
    withJson(res, body, (value) => {
      const result = sim.tryAddFaults(value);
      if (result.ok) sendJson(res, 200, result.value);
      else bad(res, result.error);
    }),
};

function connectionAction(
  sim: SimulatorControl,
  res: ServerResponse,
  id: string,
  action: string,
): void {
  const conn = sim.connections().find((c) => c.id === id);
  if (!conn) {
    sendApiError(res, 404, 'notFound', `no connection "${id}"`);
    return;
  }
  const done =
    action === 'disconnect' ? sim.disconnect(id) : action === 'drop' ? sim.drop(id) : sim.stall(id);
  if (!done) {
    sendApiError(
      res,
      409,
      'invalidState',
      `connection "${id}" is ${conn.state}; cannot ${action} it`,
    );
    return;
  }
  sendJson(
    res,
    200,
    sim.connections().find((c) => c.id === id),
  );
}

/** Serves one `/__sim/…` request. */
export function handleControl(
  sim: SimulatorControl,
  method: string,
  path: string,
  query: URLSearchParams,
  res: ServerResponse,
  body: Buffer,
): void {
  const route = ROUTES[`${method} ${path}`];
  if (route) {
    route(sim, res, body, query);
    return;
  }
  const one = /^\/__sim\/cards\/([^/]+)$/.exec(path);
  if (one) {
    if (method !== 'GET') {
      sendApiError(res, 405, 'methodNotAllowed', `use GET for ${path}`);
      return;
    }
    const outTrackId = safeDecode(one[1] ?? '');
    const card = sim.card(outTrackId);
    if (card) sendJson(res, 200, card);
    else sendApiError(res, 404, 'notFound', `no card with outTrackId "${outTrackId}"`);
    return;
  }
  const click = /^\/__sim\/cards\/([^/]+)\/click$/.exec(path);
  if (click) {
    if (method !== 'POST') {
      sendApiError(res, 405, 'methodNotAllowed', `use POST for ${path}`);
      return;
    }
    withJson(res, body, (value) => {
      const result = sim.tryClickCard(safeDecode(click[1] ?? ''), value);
      if (result.ok) sendJson(res, 200, result.value);
      else if (result.notFound) sendApiError(res, 404, 'notFound', result.error);
      else bad(res, result.error);
    });
    return;
  }
  const action = /^\/__sim\/connections\/([^/]+)\/([a-z]+)$/.exec(path);
  if (action && method === 'POST' && ACTIONS.has(action[2] ?? '')) {
    connectionAction(sim, res, safeDecode(action[1] ?? ''), action[2] ?? '');
    return;
  }
  if (action && ACTIONS.has(action[2] ?? '')) {
    sendApiError(res, 405, 'methodNotAllowed', `use POST for ${path}`);
    return;
  }
  const known = Object.keys(ROUTES).concat(
    'POST /__sim/connections/<id>/disconnect|drop|stall',
    'GET /__sim/cards/<outTrackId>',
    'POST /__sim/cards/<outTrackId>/click',
  );
  sendApiError(
    res,
    404,
    'notFound',
    `no control route ${method} ${path}; routes: ${known.join(', ')}`,
  );
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
