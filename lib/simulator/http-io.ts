/**
 * Small HTTP helpers shared by every route: bounded body reading, JSON replies with DingTalk's
 * content type, and the OpenAPI error envelope `{requestid, code, message}` (§6).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { mintRequestId } from './ids.js';

export const JSON_TYPE = 'application/json;charset=utf-8';
const MAX_BODY_BYTES = 5 * 1024 * 1024;

/** Thrown by readBody when a request body exceeds the limit. */
export class BodyTooLargeError extends Error {
  override name = 'BodyTooLargeError';
}

/** Reads the whole request body, refusing anything over `maxBytes` (5 MiB unless given). */
export async function readBody(req: IncomingMessage, maxBytes = MAX_BODY_BYTES): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > maxBytes) throw new BodyTooLargeError(`body exceeds ${maxBytes} bytes`);
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}

export type JsonParse = { ok: true; value: unknown } | { ok: false; error: string };

/** Parses a UTF-8 JSON body; never throws. */
export function parseJson(body: Buffer | string): JsonParse {
  const text = typeof body === 'string' ? body : body.toString('utf8');
  if (text.trim() === '') return { ok: false, error: 'the request body is empty; expected JSON' };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (err) {
    return { ok: false, error: `the request body is not valid JSON (${(err as Error).message})` };
  }
}

/** True for a plain JSON object (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Sends a JSON body with DingTalk's content type. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': JSON_TYPE,
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** Sends the OpenAPI error envelope `{requestid, code, message}`. */
export function sendApiError(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
): void {
  sendJson(res, status, { requestid: mintRequestId(), code, message });
}

/** The request's path and query, parsed against a dummy origin. */
export function requestUrl(req: IncomingMessage): URL {
  return new URL(req.url ?? '/', 'http://simulator.invalid');
}

/** A header's value as one string (first value when repeated). */
export function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}
