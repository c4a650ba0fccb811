/**
 * The send function, platform-neutral: lets agents and schedulers push a message to a
 * `dingtalk:<id>` target (channel-semantics.md §8). Protected by a bearer token from
 * configuration (`SEND_TOKEN`); anything else is refused with 401 before the body is read.
 *
 * Request: `POST` JSON `{ "target": "dingtalk:…", "text": "…", "account"?: "<id>",
 * "attachments"?: [{ "type": "image"|"file", "url"|"base64", "name"?, "mimeType"? }] }` (the
 * attachment form of docs/agents.md; `text` may be empty when attachments are given).
 * Answers: 200 `{ sent }`; 400 bad body or target, or an attachment that cannot be sent
 * (`attachment_failed`: nothing was sent); 401 missing/wrong token; 403 disabled account;
 * 404 unknown account;
 * 502 DingTalk refused (`code` says why); 503 the function has no SEND_TOKEN configured.
 */
import { timingSafeEqual } from 'node:crypto';
import { isUsable, parseAttachments, type ReplyAttachment } from '../../lib/agent/attachments.js';
import {
  type AccountConfig,
  type LoadedConfig,
  loadConfig,
  sendingAccount,
} from '../../lib/config/index.js';
import { accountApi, type DingTalkApi } from '../../lib/dingtalk/api.js';
import { parseTarget } from '../../lib/dingtalk/targets.js';
import { ChannelError, DingTalkApiError, errorSummary } from '../../lib/errors.js';
import { createLogger } from '../../lib/log.js';
import { sendToTarget } from '../../lib/pipeline/outbound.js';

export interface SendRequest {
  method?: string;
  headers: Record<string, string | undefined>;
  body: string;
}

export interface SendResult {
  status: number;
  body: Record<string, unknown>;
}

let loaded: LoadedConfig | undefined;
const apis = new Map<string, DingTalkApi>();

/** Handles one request; `env` is read once per process. */
export async function handleSendRequest(
  request: SendRequest,
  env: NodeJS.ProcessEnv = process.env,
): Promise<SendResult> {
  loaded ??= loadConfig(env, { requireCredentials: true });
  const token = loaded.settings.send.token;
  if (!token)
    return {
      status: 503,
      body: { error: 'send_disabled', message: 'SEND_TOKEN is not configured' },
    };
  if (!bearerMatches(header(request.headers, 'authorization'), token)) {
    return {
      status: 401,
      body: { error: 'unauthorized', message: 'a valid Authorization: Bearer token is required' },
    };
  }
  if (request.method && request.method.toUpperCase() !== 'POST') {
    return { status: 405, body: { error: 'method_not_allowed', message: 'use POST' } };
  }
  const input = parseBody(request.body);
  if ('error' in input)
    return { status: 400, body: { error: 'bad_request', message: input.error } };
  try {
    const account = sendingAccount(loaded, input.account);
    const target = parseTarget(input.target);
    const api = apiFor(loaded, account);
    const sent = await sendToTarget(api, account, target, {
      text: input.text,
      attachments: input.attachments,
    });
    return { status: 200, body: { sent } };
  } catch (err) {
    return failure(err);
  }
}

const STATUS_BY_CODE: Record<string, number> = {
  unknown_account: 404,
  account_disabled: 403,
  network: 502,
};

function failure(err: unknown): SendResult {
  if (err instanceof DingTalkApiError) {
    createLogger().warn('send.refused', { error: errorSummary(err) });
    return { status: 502, body: { error: 'dingtalk_error', code: err.code, message: err.message } };
  }
  if (err instanceof ChannelError) {
    const status = STATUS_BY_CODE[err.code] ?? 400;
    return { status, body: { error: err.code, message: err.message } };
  }
  createLogger().error('send.failed', { error: errorSummary(err) });
  return { status: 500, body: { error: 'internal', message: 'sending failed' } };
}

function parseBody(
  body: string,
):
  | { target: string; text: string; account?: string; attachments: ReplyAttachment[] }
  | { error: string } {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return { error: 'body must be JSON: {"target": "dingtalk:…", "text": "…"}' };
  }
  const v = value as Record<string, unknown> | null;
  if (!v || typeof v !== 'object') return { error: 'body must be a JSON object' };
  if (typeof v.target !== 'string' || !v.target)
    return { error: '`target` must be a non-empty string' };
  const parsed = parseAttachments(v.attachments);
  const invalid = parsed.find((a) => !isUsable(a));
  if (invalid && 'invalid' in invalid) return { error: invalid.invalid };
  const attachments = parsed.filter(isUsable);
  const text = v.text ?? '';
  if (typeof text !== 'string') return { error: '`text` must be a string' };
  if (!text.trim() && attachments.length === 0)
    return { error: '`text` must be a non-empty string (or give `attachments`)' };
  if (v.account !== undefined && typeof v.account !== 'string')
    return { error: '`account` must be a string' };
  return {
    target: v.target,
    text,
    attachments,
    ...(typeof v.account === 'string' ? { account: v.account } : {}),
  };
}

function bearerMatches(authorization: string | undefined, token: string): boolean {
  const presented = /^Bearer\s+(.+)$/i.exec(authorization ?? '')?.[1]?.trim();
  if (!presented) return false;
  const a = Buffer.from(presented);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function header(headers: SendRequest['headers'], name: string): string | undefined {
  const found = Object.entries(headers).find(([k]) => k.toLowerCase() === name);
  return found?.[1];
}

function apiFor(config: LoadedConfig, account: AccountConfig): DingTalkApi {
  let api = apis.get(account.accountId);
  if (!api) {
    api = accountApi(account, config.settings.dingtalk.apiBase, {
      oapiBase: config.settings.dingtalk.oapiBase,
    });
    apis.set(account.accountId, api);
  }
  return api;
}

/** Forgets cached configuration (tests). */
export function resetSendFunction(): void {
  loaded = undefined;
  apis.clear();
}
