/**
 * The robot OpenAPI on api.dingtalk.com (§6.2, §6.3, §8.1): token check, optional per app+API
 * QPS bucket, injected faults, then batchSend / groupMessages/send / messageFiles/download with
 * their validation and error codes. Every error is HTTP 4xx `{requestid, code, message}`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SimContext } from './context.js';
import { header, isRecord, parseJson, sendApiError, sendJson } from './http-io.js';
import { mintProcessQueryKey } from './ids.js';
import { checkMsgParam } from './message-catalogue.js';
import type { SimApp } from './options.js';
import { checkOpenApiMedia } from './outbound-media.js';

const MAX_USER_IDS = 20;
const MAX_GROUP_MSG_PARAM_BYTES = 15_000;

type Fail = (status: number, code: string, message: string) => void;
type RobotRoute = (
  ctx: SimContext,
  app: SimApp,
  body: Record<string, unknown>,
  res: ServerResponse,
  fail: Fail,
) => void;

const ROUTES: Record<string, RobotRoute> = {
  'POST /v1.0/robot/oToMessages/batchSend': batchSend,
  'POST /v1.0/robot/groupMessages/send': groupSend,
  'POST /v1.0/robot/messageFiles/download': downloadUrl,
  // AI cards (§6.4): cards.ts holds them.
  'POST /v1.0/card/instances/createAndDeliver': (ctx, app, body, res, fail) =>
    ctx.cards.create(app, body, ctx.directory, res, fail, sendJson),
  'PUT /v1.0/card/streaming': (ctx, app, body, res, fail) =>
    ctx.cards.stream(app, body, res, fail, sendJson),
  'PUT /v1.0/card/instances': (ctx, app, body, res, fail) =>
    ctx.cards.update(app, body, res, fail, sendJson),
};

/** Whether the simulator serves this OpenAPI route. */
export function isOpenApiRoute(method: string, path: string): boolean {
  return `${method} ${path}` in ROUTES;
}

/** Runs the shared checks, then the route. The caller checked `isOpenApiRoute`. */
export function handleOpenApi(
  ctx: SimContext,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  body: Buffer,
): void {
  const { stats } = ctx.ledger;
  stats.openapiCalls += 1;
  const slow = ctx.faults.takeSlowOpenApi(path);
  if (slow) holdAnswer(res, slow.delayMs);
  const fail: Fail = (status, code, message) => {
    stats.openapiErrors += 1;
    ctx.ledger.changed();
    sendApiError(res, status, code, message);
  };
  const app = authorise(ctx, req, fail);
  if (!app) return;
  if (!ctx.qps.allow(`${app.clientId} ${path}`)) {
    stats.qpsRejections += 1;
    fail(403, 'Forbidden.AccessDenied.QpsLimitForAppkeyAndApi', '应用调用该接口的并发量超过限制');
    return;
  }
  const fault = ctx.faults.takeOpenApi(path);
  if (fault) {
    if (fault.code.includes('QpsLimit')) stats.qpsRejections += 1;
    fail(fault.status, fault.code, fault.message ?? 'simulated OpenAPI fault');
    return;
  }
  const parsed = parseJson(body);
  if (!parsed.ok) {
    fail(400, 'invalidParameter.param.invalid', parsed.error);
    return;
  }
  if (!isRecord(parsed.value)) {
    fail(400, 'invalidParameter.param.invalid', 'the body must be a JSON object');
    return;
  }
  ROUTES[`${req.method} ${path}`]?.(ctx, app, parsed.value, res, fail);
}

/**
 * Delays the answer, not the handling: the route runs (and records its effect) now, and what it
 * writes reaches the client `delayMs` later (Node sends a response's head with its body).
 */
function holdAnswer(res: ServerResponse, delayMs: number): void {
  const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
  res.end = ((...args: unknown[]) => {
    setTimeout(() => {
      if (!res.destroyed) end(...args);
    }, delayMs).unref();
    return res;
  }) as ServerResponse['end'];
}

/** §6: the token travels only in `x-acs-dingtalk-access-token`; a bad one is 400, not 401. */
function authorise(ctx: SimContext, req: IncomingMessage, fail: Fail): SimApp | undefined {
  const token = header(req, 'x-acs-dingtalk-access-token');
  if (!token) {
    fail(400, 'AuthenticationFailed.MissingParameter', '缺少参数：x-acs-dingtalk-access-token');
    return undefined;
  }
  const check = ctx.tokens.check(token);
  if (!check.ok) {
    fail(400, 'InvalidAuthentication', '不合法的access_token');
    return undefined;
  }
  return check.app;
}

function robotCodeProblem(app: SimApp, robotCode: unknown, fail: Fail): boolean {
  if (typeof robotCode !== 'string' || robotCode === '') {
    fail(400, 'invalidParameter.robotCode.empty', '`robotCode` is required');
    return true;
  }
  if (robotCode !== app.robotCode) {
    fail(
      400,
      'invalidParameter.robotCode.auth',
      `\`robotCode\` "${robotCode}" does not belong to the app of this token`,
    );
    return true;
  }
  return false;
}

function batchSend(
  ctx: SimContext,
  app: SimApp,
  body: Record<string, unknown>,
  res: ServerResponse,
  fail: Fail,
): void {
  if (robotCodeProblem(app, body.robotCode, fail)) return;
  const { userIds } = body;
  if (!Array.isArray(userIds) || userIds.length === 0) {
    fail(400, 'invalidParameter.userIds.empty', '`userIds` must list at least one staffId');
    return;
  }
  if (userIds.length > MAX_USER_IDS) {
    fail(
      400,
      'invalidParameter.userIds.overMax',
      `\`userIds\` holds ${userIds.length} staffIds; at most ${MAX_USER_IDS}`,
    );
    return;
  }
  if (!userIds.every((u) => typeof u === 'string' && u !== '')) {
    fail(400, 'invalidParameter.param.invalid', '`userIds` must be non-empty staffId strings');
    return;
  }
  const checked = checkMsgParam(body.msgKey, body.msgParam);
  if (!checked.ok) {
    fail(400, checked.code, checked.error);
    return;
  }
  const media = checkOpenApiMedia(ctx, app, body.msgKey as string, body.msgParam as string);
  if (!media.ok) {
    fail(400, 'invalidParameter.msgParam.invalid', media.error);
    return;
  }
  const ids = userIds as string[];
  const invalid = ids.filter((u) => !ctx.directory.hasUser(u));
  const valid = ids.filter((u) => ctx.directory.hasUser(u));
  const fault = ctx.faults.flowControl.take();
  const throttled = fault ? valid.filter((u) => !fault.staffIds || fault.staffIds.includes(u)) : [];
  const sent = valid.filter((u) => !throttled.includes(u));
  if (sent.length > 0) {
    ctx.ledger.recordOutbox({
      at: Date.now(),
      via: 'openapi',
      account: app.accountId,
      userIds: sent,
      ...checked.message,
      ...(media.attachments.length > 0 ? { attachments: media.attachments } : {}),
      raw: body,
    });
  }
  sendJson(res, 200, {
    processQueryKey: mintProcessQueryKey(),
    invalidStaffIdList: invalid,
    flowControlledStaffIdList: throttled,
  });
}

function groupSend(
  ctx: SimContext,
  app: SimApp,
  body: Record<string, unknown>,
  res: ServerResponse,
  fail: Fail,
): void {
  if (robotCodeProblem(app, body.robotCode, fail)) return;
  const conversationId = body.openConversationId;
  if (typeof conversationId !== 'string' || !ctx.directory.isGroupMember(conversationId, app)) {
    fail(400, 'invalid.openConversationId', '`openConversationId` is not a group this robot is in');
    return;
  }
  const checked = checkMsgParam(body.msgKey, body.msgParam);
  if (!checked.ok) {
    fail(400, checked.code, checked.error);
    return;
  }
  const media = checkOpenApiMedia(ctx, app, body.msgKey as string, body.msgParam as string);
  if (!media.ok) {
    fail(400, 'invalidParameter.msgParam.invalid', media.error);
    return;
  }
  const size = Buffer.byteLength(body.msgParam as string);
  if (size > MAX_GROUP_MSG_PARAM_BYTES) {
    fail(
      400,
      'invalidParameter.msgParam.invalid',
      `\`msgParam\` is ${size} bytes; at most ${MAX_GROUP_MSG_PARAM_BYTES}`,
    );
    return;
  }
  ctx.ledger.recordOutbox({
    at: Date.now(),
    via: 'openapi',
    account: app.accountId,
    conversationId,
    conversationType: '2',
    ...checked.message,
    ...(media.attachments.length > 0 ? { attachments: media.attachments } : {}),
    raw: body,
  });
  sendJson(res, 200, { processQueryKey: mintProcessQueryKey() });
}

function downloadUrl(
  ctx: SimContext,
  app: SimApp,
  body: Record<string, unknown>,
  res: ServerResponse,
  fail: Fail,
): void {
  if (robotCodeProblem(app, body.robotCode, fail)) return;
  const code = body.downloadCode;
  if (typeof code !== 'string' || code === '') {
    fail(400, 'invalidParameter.downloadCode.empty', '`downloadCode` is required');
    return;
  }
  const file = ctx.directory.file(code);
  if (!file || file.app !== app) {
    fail(400, 'invalidParameter.downloadCode.invalid', '`downloadCode` is unknown or expired');
    return;
  }
  sendJson(res, 200, { downloadUrl: `${ctx.baseUrl()}/__files/${encodeURIComponent(code)}` });
}

/** `GET /__files/<code>`: the temporary download URL; no auth, as in production (§6.3). */
export function serveFile(ctx: SimContext, res: ServerResponse, encodedCode: string): void {
  let code: string;
  try {
    code = decodeURIComponent(encodedCode);
  } catch {
    sendApiError(res, 404, 'NotFound', 'no such file');
    return;
  }
  const file = ctx.directory.file(code);
  if (!file) {
    sendApiError(res, 404, 'NotFound', 'no such file');
    return;
  }
  res.writeHead(200, { 'content-type': file.contentType, 'content-length': file.bytes.length });
  res.end(file.bytes);
}
