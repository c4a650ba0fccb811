/**
 * Token endpoints (§6.1): the new `POST /v1.0/oauth2/accessToken` (errors HTTP 400) and the
 * legacy `GET /gettoken` that N215's `getAccessToken()` calls (errors HTTP 200 + errcode).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SimContext } from './context.js';
import { isRecord, parseJson, requestUrl, sendApiError, sendJson } from './http-io.js';

export function handleAccessToken(ctx: SimContext, res: ServerResponse, body: Buffer): void {
  const parsed = parseJson(body);
  if (!parsed.ok) {
    sendApiError(res, 400, 'InvalidParameter', parsed.error);
    return;
  }
  const request = isRecord(parsed.value) ? parsed.value : {};
  const app = ctx.authenticate(request.appKey, request.appSecret);
  if (!app) {
    sendApiError(res, 400, 'invalidClientIdOrSecret', '无效的clientId或者clientSecret');
    return;
  }
  const issued = ctx.tokens.issue(app);
  if (issued.fresh) ctx.ledger.stats.tokensIssued += 1;
  ctx.ledger.changed();
  sendJson(res, 200, { accessToken: issued.token, expireIn: issued.expiresIn });
}

export function handleLegacyGetToken(
  ctx: SimContext,
  req: IncomingMessage,
  res: ServerResponse,
): void {
  const query = requestUrl(req).searchParams;
  const app = ctx.authenticate(query.get('appkey'), query.get('appsecret'));
  if (!app) {
    sendJson(res, 200, { errcode: 40096, errmsg: '不合法的appKey或appSecret' });
    return;
  }
  const issued = ctx.tokens.issue(app);
  if (issued.fresh) ctx.ledger.stats.tokensIssued += 1;
  ctx.ledger.changed();
  sendJson(res, 200, {
    errcode: 0,
    access_token: issued.token,
    errmsg: 'ok',
    expires_in: issued.expiresIn,
  });
}
