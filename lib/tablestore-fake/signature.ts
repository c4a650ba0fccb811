/**
 * Request authentication as Tablestore checks it: `x-ots-signature` is base64 HMAC-SHA1, keyed
 * with the AccessKey secret, over
 *
 *   "/<Operation>\nPOST\n\n" + sorted lower-case "x-ots-*:value" lines (signature excluded) + "\n"
 *
 * and `x-ots-contentmd5` is the base64 MD5 of the body (deploy-stack.md "Alibaba Cloud", checked
 * against the SDK's signer in node_modules/tablestore/lib/signer.js). Failures are OTSAuthFailed
 * with the messages of Tablestore's error-code reference.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { OtsError, otsErrors } from './errors.js';

export interface Credentials {
  accessKeyId: string;
  accessKeySecret: string;
  instance: string;
}

/** Tablestore allows 15 minutes between the client's x-ots-date and its own clock. */
const MAX_SKEW_MS = 15 * 60 * 1000;
const REQUIRED = [
  'x-ots-date',
  'x-ots-apiversion',
  'x-ots-accesskeyid',
  'x-ots-contentmd5',
  'x-ots-signature',
  'x-ots-instancename',
];

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

/** The string the client signed. */
export function stringToSign(path: string, method: string, headers: IncomingHttpHeaders): string {
  const names = Object.keys(headers)
    .map((n) => n.toLowerCase())
    .filter((n) => n.startsWith('x-ots-') && n !== 'x-ots-signature')
    .sort();
  const canonical = names.map((n) => `${n}:${header(headers, n) ?? ''}`).join('\n');
  return `${path}\n${method}\n\n${canonical}\n`;
}

/** Throws the OtsError Tablestore would answer for a request that fails authentication. */
export function verifyRequest(
  path: string,
  method: string,
  headers: IncomingHttpHeaders,
  body: Buffer,
  credentials: Credentials,
  now: number,
): void {
  for (const name of REQUIRED) {
    if (header(headers, name) === undefined) {
      throw otsErrors.invalid(`Missing header: '${name}'.`);
    }
  }
  const date = Date.parse(header(headers, 'x-ots-date') ?? '');
  if (Number.isNaN(date)) {
    throw otsErrors.invalid(`Invalid date format: ${header(headers, 'x-ots-date')}.`);
  }
  if (Math.abs(now - date) > MAX_SKEW_MS) {
    throw otsErrors.authFailed(
      `Mismatch between system time and x-ots-date: ${header(headers, 'x-ots-date')}.`,
    );
  }
  if (header(headers, 'x-ots-accesskeyid') !== credentials.accessKeyId) {
    throw otsErrors.authFailed('The AccessKeyID does not exist.');
  }
  if (header(headers, 'x-ots-instancename') !== credentials.instance) {
    throw otsErrors.authFailed('The instance is not found.');
  }
  const md5 = createHash('md5').update(body).digest('base64');
  if (header(headers, 'x-ots-contentmd5') !== md5) {
    throw otsErrors.authFailed(
      'Mismatch between MD5 value of request body and x-ots-contentmd5 in header.',
    );
  }
  const expected = createHmac('sha1', credentials.accessKeySecret)
    .update(stringToSign(path, method, headers))
    .digest();
  const sent = Buffer.from(header(headers, 'x-ots-signature') ?? '', 'base64');
  if (sent.length !== expected.length || !timingSafeEqual(sent, expected)) {
    throw otsErrors.authFailed('Signature mismatch.');
  }
}

export { OtsError };
