/**
 * Downstream frames exactly as §2.1 describes them: every header a string (`time` too), `data`
 * JSON text, CALLBACK/EVENT with `appId` + `connectionId`, SYSTEM with only contentType,
 * messageId, time and topic. Header keys follow the order of the real log in DTAI issue #26.
 * Also parses upstream frames (§2.2) without ever throwing.
 */
import type { DownstreamFrame, FrameType } from '../dingtalk/payload.js';
import { isRecord } from './http-io.js';
import { systemMessageId } from './ids.js';

const SPEC_VERSION = '1.0';
const CONTENT_TYPE = 'application/json';

/** A CALLBACK or EVENT frame for one delivery on one connection. */
export function pushFrame(init: {
  type: Exclude<FrameType, 'SYSTEM'>;
  appId: string;
  connectionId: string;
  messageId: string;
  topic: string;
  now: number;
  data: string;
  eventHeaders?: Record<string, string>;
}): DownstreamFrame {
  return {
    specVersion: SPEC_VERSION,
    type: init.type,
    headers: {
      appId: init.appId,
      connectionId: init.connectionId,
      contentType: CONTENT_TYPE,
      ...init.eventHeaders,
      messageId: init.messageId,
      time: String(init.now),
      topic: init.topic,
    },
    data: init.data,
  };
}

/** A SYSTEM frame (`ping`, `disconnect`) with a fresh SYSTEM-format messageId. */
export function systemFrame(topic: string, data: unknown, now: number): DownstreamFrame {
  return {
    specVersion: SPEC_VERSION,
    type: 'SYSTEM',
    headers: {
      contentType: CONTENT_TYPE,
      messageId: systemMessageId(now),
      time: String(now),
      topic,
    },
    data: JSON.stringify(data),
  };
}

/** An upstream frame as far as the simulator needs it. */
export interface ParsedUpstream {
  messageId: string;
  code: unknown;
  message: unknown;
  data: unknown;
  topic?: string;
  frame: Record<string, unknown>;
}

/** Parses one upstream text frame; returns an error string for anything that is not an ACK. */
export function parseUpstream(text: string): ParsedUpstream | { error: string } {
  let frame: unknown;
  try {
    frame = JSON.parse(text);
  } catch {
    return { error: 'not JSON' };
  }
  if (!isRecord(frame)) return { error: 'not a JSON object' };
  const headers = frame.headers;
  if (!isRecord(headers) || typeof headers.messageId !== 'string' || headers.messageId === '') {
    return { error: 'missing headers.messageId' };
  }
  return {
    messageId: headers.messageId,
    code: frame.code,
    message: frame.message,
    data: frame.data,
    topic: typeof headers.topic === 'string' ? headers.topic : undefined,
    frame,
  };
}
