/**
 * Attachments in an answer (issue 16, outbound): the images and files an agent, the send
 * function or `dingtalk-channel send` wants delivered with the text. The JSON form is
 * documented in docs/agents.md "Attachments":
 *
 *   { "type": "image" | "file", "url": "https://…" | null, "base64": "…" | null,
 *     "name": "report.pdf" | null, "mimeType": "application/pdf" | null }
 *
 * Exactly one of `url` (fetched by the channel, bounded) and `base64` (the bytes) is given.
 * Parsing never throws: each item comes back usable or with the reason it is not, so a reply
 * can say which attachment could not be sent and still deliver the rest; strict callers (the
 * send function, the CLI) refuse the request instead.
 */

/** Where an attachment's bytes come from. */
export type AttachmentSource = { url: string } | { bytes: Buffer };

/** One attachment to send, as the pipeline and the outbound path take it. */
export interface ReplyAttachment {
  type: 'image' | 'file';
  source: AttachmentSource;
  /** The name DingTalk shows (a file's extension gives its `fileType`). */
  name?: string;
  mimeType?: string;
}

/** An item that cannot be used, and why (shown to the user as a short note). */
export interface InvalidAttachment {
  invalid: string;
  type?: 'image' | 'file';
  name?: string;
}

export type ParsedAttachment = ReplyAttachment | InvalidAttachment;

/** Names are shown in DingTalk and used as upload file names: bounded, no directories. */
const MAX_NAME_CHARS = 200;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const DATA_URL = /^data:([\w.+-]+\/[\w.+-]+)?(?:;[\w-]+=[^;,]*)*;base64,/i;

/** True when `item` can be sent. */
export function isUsable(item: ParsedAttachment): item is ReplyAttachment {
  return !('invalid' in item);
}

/**
 * Reads an `attachments` value: absent or null is `[]`; anything but an array is one invalid
 * item (so the reply says so); each element is checked on its own.
 */
export function parseAttachments(value: unknown): ParsedAttachment[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) return [{ invalid: '`attachments` must be an array' }];
  return value.map(parseOne);
}

function parseOne(raw: unknown, index: number): ParsedAttachment {
  const where = `attachments[${index}]`;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    return { invalid: `${where} must be an object` };
  const item = raw as Record<string, unknown>;
  const type: ReplyAttachment['type'] | undefined =
    item.type === 'image' || item.type === 'file' ? item.type : undefined;
  const name = optionalString(item.name);
  const mimeType = optionalString(item.mimeType);
  const known: Omit<InvalidAttachment, 'invalid'> = {
    ...(type ? { type } : {}),
    ...(name.value ? { name: cleanName(name.value) } : {}),
  };
  if (!type) return { ...known, invalid: `${where}.type must be "image" or "file"` };
  if (name.bad) return { ...known, invalid: `${where}.name must be a string` };
  if (mimeType.bad) return { ...known, invalid: `${where}.mimeType must be a string` };
  const url = optionalString(item.url);
  const base64 = optionalString(item.base64);
  if (url.bad || base64.bad) return { ...known, invalid: `${where}: url and base64 are strings` };
  if (Boolean(url.value) === Boolean(base64.value))
    return { ...known, invalid: `${where} needs exactly one of url and base64` };
  const clean = name.value ? cleanName(name.value) : undefined;
  const base = {
    type,
    ...(clean ? { name: clean } : {}),
    ...(mimeType.value ? { mimeType: mimeType.value } : {}),
  };
  if (url.value) {
    if (!isHttpUrl(url.value)) return { ...known, invalid: `${where}.url must be an http(s) URL` };
    return { ...base, source: { url: url.value } };
  }
  const decoded = decodeBase64(base64.value!);
  if (!decoded) return { ...known, invalid: `${where}.base64 is not valid base64` };
  return {
    ...base,
    ...(decoded.mimeType && !base.mimeType ? { mimeType: decoded.mimeType } : {}),
    source: { bytes: decoded.bytes },
  };
}

function optionalString(v: unknown): { value?: string; bad?: true } {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'string') return { bad: true };
  const trimmed = v.trim();
  return trimmed ? { value: trimmed } : {};
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}

/** The last path segment, bounded, without control characters. */
export function cleanName(name: string): string {
  const base = name.split(/[/\\]/).pop() ?? '';
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping them is the point
  const printable = base.replace(/[\u0000-\u001f\u007f]/g, '').trim();
  return [...printable].slice(0, MAX_NAME_CHARS).join('');
}

/** Decodes base64 (optionally a `data:<mime>;base64,` URL); undefined when it is not base64. */
function decodeBase64(text: string): { bytes: Buffer; mimeType?: string } | undefined {
  const data = DATA_URL.exec(text);
  const body = (data ? text.slice(data[0].length) : text).replace(/\s+/g, '');
  if (body === '' || !BASE64.test(body) || body.length % 4 === 1) return undefined;
  return { bytes: Buffer.from(body, 'base64'), ...(data?.[1] ? { mimeType: data[1] } : {}) };
}
