/**
 * Reading and classifying the `tablestore` SDK's errors (deploy-stack.md, Alibaba "Tablestore"):
 * the SDK's error parser calls an undefined `TableStore.XML`, so a service error arrives with
 * `code` = the HTTP status and `message` = the raw protobuf `Error { code, message }` body as
 * text plus " requestId:…". We decode that body to get Tablestore's own code back.
 *
 * Classes (Tablestore "Error codes" reference, Retry column):
 * - `throttled`: the service refused before doing anything (OTSServerBusy, OTSQuotaExhausted,
 *   OTSTableNotReady, OTSNotEnoughCapacityUnit, OTSPartitionUnavailable, OTSServerUnavailable,
 *   OTSOperationThrottled, OTSRowOperationConflict): safe to retry, writes included;
 * - `uncertain`: the outcome is unknown (network errors, timeouts, OTSTimeout,
 *   OTSInternalServerError, other 5xx): reads retry, writes do not (a retried conditional write
 *   could fail on its own first attempt), they surface as retryable `state_unavailable`;
 * - `final`: anything else (bad input, auth, missing table) — no retry.
 */
// The SDK's own generated protobuf definitions (the same ones its decoder uses). A static
// import, so a bundler includes it: the FC packages ship no node_modules (infra/aliyun).
import compiledProto from 'tablestore/lib/protocol/tablestore_compiled_proto.js';

const errorType = compiledProto.main.proto.Error;

export type ErrorClass = 'condition' | 'throttled' | 'uncertain' | 'final';

export interface OtsErrorInfo {
  /** Tablestore's code (`OTSServerBusy` …), or the SDK's (`NetworkingError`, `TimeoutError`). */
  code: string;
  status: number | undefined;
  message: string;
  kind: ErrorClass;
}

const THROTTLED = new Set([
  'OTSServerBusy',
  'OTSQuotaExhausted',
  'OTSTableNotReady',
  'OTSNotEnoughCapacityUnit',
  'OTSPartitionUnavailable',
  'OTSServerUnavailable',
  'OTSOperationThrottled',
  'OTSRowOperationConflict',
]);
const UNCERTAIN = new Set([
  'OTSTimeout',
  'OTSInternalServerError',
  'NetworkingError',
  'TimeoutError',
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
]);

/** Decodes the protobuf error body the SDK left as text in `message`. */
function decodeBody(text: string): { code?: string; message?: string } {
  const body = text.replace(/ requestId:[^\s]*$/, '');
  try {
    const decoded = errorType.decode(Buffer.from(body, 'utf8'));
    if (/^OTS[A-Za-z]+$/.test(decoded.code)) return decoded;
  } catch {
    // A body that lost bytes in the SDK's text conversion: fall back to the code's pattern.
  }
  const code = /OTS[A-Za-z]+/.exec(body)?.[0];
  return code ? { code } : {};
}

/** Tablestore's code, status and message of an SDK failure, and how to treat it. */
export function classifyError(err: unknown): OtsErrorInfo {
  const e = (err ?? {}) as { code?: unknown; message?: unknown; name?: unknown };
  const raw = typeof e.message === 'string' ? e.message : String(err);
  const status = typeof e.code === 'number' ? e.code : undefined;
  let code = typeof e.code === 'string' ? e.code : undefined;
  let message = raw;
  if (status !== undefined) {
    const body = decodeBody(raw);
    code = body.code ?? `HTTP${status}`;
    message = body.message ?? printable(raw);
  }
  code ??= typeof e.name === 'string' ? e.name : 'UnknownError';
  let kind: ErrorClass = 'final';
  if (code === 'OTSConditionCheckFail') kind = 'condition';
  else if (THROTTLED.has(code)) kind = 'throttled';
  else if (UNCERTAIN.has(code) || (status !== undefined && status >= 500)) kind = 'uncertain';
  return { code, status, message: message.slice(0, 300), kind };
}

/** The text with control characters (protobuf framing bytes) blanked. */
function printable(text: string): string {
  return [...text].map((c) => ((c.codePointAt(0) ?? 0) < 0x20 ? ' ' : c)).join('');
}
