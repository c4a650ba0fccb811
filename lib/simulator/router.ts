/**
 * Routes every HTTP request of the one server that stands in for all DingTalk hosts (§8):
 * api.dingtalk.com (gateway, oauth2, robot OpenAPI), oapi.dingtalk.com (gettoken,
 * sendBySession), the temporary file URLs, and the `/__sim/` control API.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SimContext } from './context.js';
import type { SimulatorControl } from './control.js';
import { handleControl } from './control-api.js';
import { handleGatewayOpen } from './gateway.js';
import { BodyTooLargeError, readBody, requestUrl, sendApiError } from './http-io.js';
import { handleMediaUpload, UPLOAD_BODY_MAX_BYTES } from './media-upload.js';
import { handleOpenApi, isOpenApiRoute, serveFile } from './openapi.js';
import { handlePage, isPageRoute, refuseCrossSite } from './page-routes.js';
import { handleAccessToken, handleLegacyGetToken } from './token-routes.js';
import { handleSessionWebhook } from './webhook.js';

async function dispatch(
  ctx: SimContext,
  control: SimulatorControl,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const url = requestUrl(req);
  const path = url.pathname;
  const method = req.method ?? 'GET';
  const route = `${method} ${path}`;
  // Uploads take up to 20 MB (media-upload.ts); every other route keeps the 5 MiB bound.
  const upload = route === 'POST /media/upload';
  let body: Buffer;
  try {
    body = await readBody(req, upload ? UPLOAD_BODY_MAX_BYTES : undefined);
  } catch (err) {
    if (err instanceof BodyTooLargeError)
      return sendApiError(res, 413, 'PayloadTooLarge', err.message);
    throw err;
  }
  if (upload) return handleMediaUpload(ctx, req, res, body);
  if (route === 'POST /v1.0/gateway/connections/open')
    return handleGatewayOpen(ctx, req, res, body);
  if (route === 'POST /v1.0/oauth2/accessToken') return handleAccessToken(ctx, res, body);
  if (route === 'GET /gettoken') return handleLegacyGetToken(ctx, req, res);
  if (route === 'POST /robot/sendBySession') return handleSessionWebhook(ctx, req, res, body);
  if (method === 'GET' && path.startsWith('/__files/')) {
    return serveFile(ctx, res, path.slice('/__files/'.length));
  }
  if (isPageRoute(method, path)) return handlePage(ctx, req, res, method, path, body);
  if (method === 'POST' && /^\/__sim\/cards\/[^/]+\/click$/.test(path)) {
    // The chat page's Stop button: another site's page must not click it (page-routes.ts).
    const refused = refuseCrossSite(req);
    if (refused) return sendApiError(res, 403, 'forbidden', refused);
  }
  if (path.startsWith('/__sim/'))
    return handleControl(control, method, path, url.searchParams, res, body);
  if (isOpenApiRoute(method, path)) return handleOpenApi(ctx, req, res, path, body);
  sendApiError(res, 404, 'NotFound', `the simulator does not serve ${method} ${path}`);
}

/** Serves one request; an unexpected error becomes a 500 JSON answer, never a crash. */
export function routeRequest(
  ctx: SimContext,
  control: SimulatorControl,
  req: IncomingMessage,
  res: ServerResponse,
): void {
  dispatch(ctx, control, req, res).catch((err: unknown) => {
    ctx.options.logger.error('sim.request.failed', { path: requestUrl(req).pathname, err });
    if (res.headersSent) {
      res.destroy();
      return;
    }
    sendApiError(res, 500, 'InternalError', 'the simulator failed to handle this request');
  });
}
