/**
 * What the bot may send and how the outbox shows it: sessionWebhook bodies in the custom-robot
 * format (§5: text, markdown, actionCard, feedCard, link) and robot OpenAPI `msgKey`s with their
 * `msgParam` fields (§6.2 catalogue). Both normalise to `{msgtype, title?, text}`.
 */
import { mentions } from '../dingtalk/mentions.js';
import { isRecord } from './http-io.js';

/** The outbox view of one sent message. */
export interface NormalisedMessage {
  msgtype: string;
  title?: string;
  text: string;
  atUserIds?: string[];
  atDingtalkIds?: string[];
  isAtAll?: boolean;
  /** At-block ids without `@<id>` in the text: DingTalk would not render them (§5). */
  unrenderedMentions?: string[];
}

export type Checked = { ok: true; message: NormalisedMessage } | { ok: false; error: string };

const str = (v: unknown): v is string => typeof v === 'string';
const nonEmpty = (v: unknown): v is string => typeof v === 'string' && v.trim() !== '';

function missing(
  where: string,
  fields: string[],
  obj: Record<string, unknown>,
): string | undefined {
  const absent = fields.filter((f) => !nonEmpty(obj[f]));
  return absent.length > 0
    ? `${where}: missing or empty ${absent.map((f) => `\`${f}\``).join(', ')}`
    : undefined;
}

function checkActionCard(card: Record<string, unknown>): string | undefined {
  const base = missing('actionCard', ['title', 'text'], card);
  if (base) return base;
  if (nonEmpty(card.singleTitle) || nonEmpty(card.singleURL)) {
    return missing('actionCard', ['singleTitle', 'singleURL'], card);
  }
  if (!Array.isArray(card.btns) || card.btns.length === 0) {
    return 'actionCard: give `singleTitle` + `singleURL` or a non-empty `btns` array';
  }
  const bad = card.btns.findIndex(
    (b) => !isRecord(b) || !nonEmpty(b.title) || !nonEmpty(b.actionURL),
  );
  return bad >= 0 ? `actionCard.btns[${bad}]: needs \`title\` and \`actionURL\`` : undefined;
}

function checkFeedCard(card: Record<string, unknown>): string | undefined {
  if (!Array.isArray(card.links) || card.links.length === 0)
    return 'feedCard: `links` must be a non-empty array';
  const bad = card.links.findIndex(
    (l) => !isRecord(l) || !nonEmpty(l.title) || !nonEmpty(l.messageURL),
  );
  return bad >= 0 ? `feedCard.links[${bad}]: needs \`title\` and \`messageURL\`` : undefined;
}

const WEBHOOK_TYPES: Record<string, (part: Record<string, unknown>) => string | undefined> = {
  text: (p) => missing('text', ['content'], p),
  markdown: (p) => missing('markdown', ['title', 'text'], p),
  actionCard: checkActionCard,
  feedCard: checkFeedCard,
  link: (p) => missing('link', ['title', 'text', 'messageUrl'], p),
};

function webhookView(
  msgtype: string,
  part: Record<string, unknown>,
): Omit<NormalisedMessage, 'msgtype'> {
  switch (msgtype) {
    case 'text':
      return { text: String(part.content) };
    case 'feedCard': {
      const links = (part.links as Record<string, unknown>[]).map((l) => String(l.title));
      return { title: links[0], text: links.join('\n') };
    }
    default:
      return { title: String(part.title), text: String(part.text) };
  }
}

/** Validates a sessionWebhook body (custom-robot format) and normalises it. */
export function checkWebhookBody(body: unknown): Checked {
  if (!isRecord(body)) return { ok: false, error: 'the body must be a JSON object' };
  const { msgtype } = body;
  if (!str(msgtype) || !(msgtype in WEBHOOK_TYPES)) {
    return {
      ok: false,
      error: `\`msgtype\` must be one of ${Object.keys(WEBHOOK_TYPES).join(', ')}`,
    };
  }
  const part = body[msgtype];
  if (!isRecord(part)) return { ok: false, error: `\`${msgtype}\` must be an object` };
  const problem = WEBHOOK_TYPES[msgtype]?.(part);
  if (problem) return { ok: false, error: problem };
  const at = body.at;
  if (at !== undefined && !isRecord(at)) return { ok: false, error: '`at` must be an object' };
  for (const key of ['atUserIds', 'atDingtalkIds', 'atMobiles']) {
    if (isRecord(at) && at[key] !== undefined && !isStringArray(at[key])) {
      return { ok: false, error: `\`at.${key}\` must be an array of strings` };
    }
  }
  if (isRecord(at) && at.isAtAll !== undefined && typeof at.isAtAll !== 'boolean') {
    return { ok: false, error: '`at.isAtAll` must be a boolean' };
  }
  const view = webhookView(msgtype, part);
  const message: NormalisedMessage = { msgtype, ...view };
  if (isRecord(at)) Object.assign(message, atBlock(at, view.text));
  return { ok: true, message };
}

/**
 * The at block as recorded, and the ids DingTalk would not render: a mention shows only when
 * `@<id>` is in the text as well (§5), so every listed id must appear there.
 */
function atBlock(at: Record<string, unknown>, text: string): Partial<NormalisedMessage> {
  const out: Partial<NormalisedMessage> = {};
  const userIds = isStringArray(at.atUserIds) ? at.atUserIds : undefined;
  const dingtalkIds = isStringArray(at.atDingtalkIds) ? at.atDingtalkIds : undefined;
  if (userIds) out.atUserIds = userIds;
  if (dingtalkIds) out.atDingtalkIds = dingtalkIds;
  if (typeof at.isAtAll === 'boolean') out.isAtAll = at.isAtAll;
  const unrendered = [...(userIds ?? []), ...(dingtalkIds ?? [])].filter(
    (id) => !mentions(text, id),
  );
  if (unrendered.length > 0) out.unrenderedMentions = unrendered;
  return out;
}

function isStringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every(str);
}

interface MsgKeySpec {
  msgtype: string;
  required: string[];
  title?: string;
  text: string;
}

/** §6.2 msgKey catalogue: 13 keys, no sampleActionCard1. */
const MSG_KEYS: Record<string, MsgKeySpec> = {
  sampleText: { msgtype: 'text', required: ['content'], text: 'content' },
  sampleMarkdown: {
    msgtype: 'markdown',
    required: ['title', 'text'],
    title: 'title',
    text: 'text',
  },
  sampleImageMsg: { msgtype: 'image', required: ['photoURL'], text: 'photoURL' },
  sampleLink: {
    msgtype: 'link',
    required: ['text', 'title', 'picUrl', 'messageUrl'],
    title: 'title',
    text: 'text',
  },
  sampleActionCard: {
    msgtype: 'actionCard',
    required: ['title', 'text', 'singleTitle', 'singleURL'],
    title: 'title',
    text: 'text',
  },
  sampleActionCard6: {
    msgtype: 'actionCard',
    required: ['title', 'text', 'buttonTitle1', 'buttonUrl1', 'buttonTitle2', 'buttonUrl2'],
    title: 'title',
    text: 'text',
  },
  sampleAudio: { msgtype: 'audio', required: ['mediaId', 'duration'], text: 'mediaId' },
  sampleFile: { msgtype: 'file', required: ['mediaId', 'fileName', 'fileType'], text: 'fileName' },
  sampleVideo: {
    msgtype: 'video',
    required: ['duration', 'videoMediaId', 'videoType', 'picMediaId'],
    text: 'videoMediaId',
  },
};
for (const n of [2, 3, 4, 5]) {
  MSG_KEYS[`sampleActionCard${n}`] = {
    msgtype: 'actionCard',
    required: ['title', 'text'],
    title: 'title',
    text: 'text',
  };
}

/** The OpenAPI error for a bad msgKey/msgParam, with the field named in the message. */
export type MsgParamCheck =
  | { ok: true; message: NormalisedMessage }
  | { ok: false; code: string; error: string };

/** Validates `msgKey` + `msgParam` (a JSON string) of a robot send and normalises them. */
export function checkMsgParam(msgKey: unknown, msgParam: unknown): MsgParamCheck {
  if (!nonEmpty(msgKey))
    return { ok: false, code: 'invalidParameter.msgKey.empty', error: '`msgKey` is required' };
  const spec = MSG_KEYS[msgKey];
  if (!spec) {
    return {
      ok: false,
      code: 'invalidParameter.msgKey.invalid',
      error: `\`msgKey\` "${msgKey}" is not in the catalogue`,
    };
  }
  const invalid = (error: string) => ({
    ok: false as const,
    code: 'invalidParameter.msgParam.invalid',
    error,
  });
  if (!str(msgParam)) return invalid('`msgParam` must be a JSON string, not an object');
  let param: unknown;
  try {
    param = JSON.parse(msgParam);
  } catch {
    return invalid('`msgParam` is not valid JSON');
  }
  if (!isRecord(param)) return invalid('`msgParam` must encode a JSON object');
  const problem =
    missing(`msgParam for ${msgKey}`, spec.required, param) ?? actionButtons(msgKey, param);
  if (problem) return invalid(problem);
  const message: NormalisedMessage = { msgtype: spec.msgtype, text: String(param[spec.text]) };
  if (spec.title) message.title = String(param[spec.title]);
  return { ok: true, message };
}

// §6.2 [INF]: sources disagree on `actionTitle1` versus `actionTitle`; accept both.
function actionButtons(msgKey: string, param: Record<string, unknown>): string | undefined {
  if (!/^sampleActionCard[2-5]$/.test(msgKey)) return undefined;
  const hasButton = nonEmpty(param.actionTitle1) || nonEmpty(param.actionTitle);
  const hasUrl = nonEmpty(param.actionURL1) || nonEmpty(param.actionURL);
  return hasButton && hasUrl
    ? undefined
    : `msgParam for ${msgKey}: needs \`actionTitle1\` and \`actionURL1\``;
}
