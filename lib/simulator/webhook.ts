/**
 * `POST /robot/sendBySession?session=` (§5): the sessionWebhook handed out with each inbound
 * message. Errors are HTTP 200 with a non-zero `errcode` (clients must check it); no token is
 * required, and `x-acs-dingtalk-access-token` is accepted and ignored.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { mentionTokens } from '../dingtalk/mentions.js';
import type { SimContext } from './context.js';
import { webhookFaultMessage } from './faults.js';
import { parseJson, requestUrl, sendJson } from './http-io.js';
import { checkWebhookBody, type NormalisedMessage } from './message-catalogue.js';
import { markdownMedia } from './outbound-media.js';

const MAX_BODY_BYTES = 20_000;
/** Custom-robot code for a missing or malformed parameter. */
const ERR_INVALID = 40035;

export function handleSessionWebhook(
  ctx: SimContext,
  req: IncomingMessage,
  res: ServerResponse,
  body: Buffer,
): void {
  const { stats } = ctx.ledger;
  const fault = ctx.faults.webhook.take();
  // The answer (not the handling) is what a `delayMs` fault holds back.
  const later = (send: () => void) => {
    if (fault?.delayMs === undefined) send();
    else setTimeout(() => (res.destroyed ? undefined : send()), fault.delayMs).unref();
  };
  const answer = (errcode: number, errmsg: string) => {
    if (errcode !== 0) stats.webhookErrors += 1;
    ctx.ledger.changed();
    later(() => sendJson(res, 200, { errcode, errmsg }));
  };
  if (fault?.status !== undefined) {
    stats.webhookErrors += 1;
    later(() => sendJson(res, fault.status!, { message: 'simulated webhook fault' }));
    return;
  }
  if (fault && (fault.errcode !== undefined || fault.delayMs === undefined)) {
    answer(fault.errcode ?? 300001, webhookFaultMessage(fault));
    return;
  }
  const session = ctx.directory.liveSession(requestUrl(req).searchParams.get('session') ?? '');
  if (!session) {
    answer(300001, 'session 不存在');
    return;
  }
  if (body.length > MAX_BODY_BYTES) {
    answer(460101, 'message too long, exceed 20000 bytes');
    return;
  }
  const parsed = parseJson(body);
  if (!parsed.ok) {
    answer(ERR_INVALID, parsed.error);
    return;
  }
  const checked = checkWebhookBody(parsed.value);
  if (!checked.ok) {
    answer(ERR_INVALID, checked.error);
    return;
  }
  stats.webhookSends += 1;
  const attachments =
    checked.message.msgtype === 'markdown'
      ? markdownMedia(ctx, session.app, checked.message.text)
      : [];
  const unnotified = unnotifiedMentions(ctx, session.conversationType, checked.message);
  if (checked.message.unrenderedMentions || unnotified.length > 0) {
    // Accepted, as DingTalk does, but flagged: the at block and the text disagree (§5).
    stats.mentionMismatches += 1;
    ctx.options.logger.warn('sim.webhook.mention_mismatch', {
      unrendered: checked.message.unrenderedMentions?.length ?? 0,
      unnotified: unnotified.length,
    });
  }
  ctx.ledger.recordOutbox({
    at: Date.now(),
    via: 'webhook',
    account: session.app.accountId,
    conversationId: session.conversationId,
    conversationType: session.conversationType,
    ...checked.message,
    ...(attachments.length > 0 ? { attachments } : {}),
    ...(unnotified.length > 0 ? { unnotifiedMentions: unnotified } : {}),
    raw: parsed.value,
  });
  ctx.options.logger.info('sim.webhook.send', {
    account: session.app.accountId,
    msgtype: checked.message.msgtype,
  });
  answer(0, 'ok');
}

/** In a group, `@<id>` of known users that the at block leaves out (they would not be notified). */
function unnotifiedMentions(
  ctx: SimContext,
  conversationType: '1' | '2',
  message: NormalisedMessage,
): string[] {
  if (conversationType !== '2') return [];
  const listed = new Set([...(message.atUserIds ?? []), ...(message.atDingtalkIds ?? [])]);
  return mentionTokens(message.text).filter((id) => !listed.has(id) && ctx.directory.hasUser(id));
}
