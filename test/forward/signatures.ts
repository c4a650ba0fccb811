/**
 * Independent checks of the request signatures the cloud SDKs send, written from the platforms'
 * public documentation, so a stand-in can answer 403 like the real service when the SDK was
 * given the wrong secret or signed something else than what arrived.
 * - AWS Signature Version 4 (Lambda);
 * - Alibaba Cloud ACS3-HMAC-SHA256 (OpenAPI V3 signature: FC 3.0, ROS);
 * - FC 2.0's `FC <id>:<signature>` header (Function Compute 2.0 API signature).
 */
import { createHash, createHmac } from 'node:crypto';
import type { RecordedRequest } from '../support/fake-json-server.js';

const sha256Hex = (data: string) => createHash('sha256').update(data, 'utf8').digest('hex');
const hmac = (key: string | Buffer, data: string) =>
  createHmac('sha256', key).update(data).digest();

function header(request: RecordedRequest, name: string): string {
  const value = request.headers[name];
  return (Array.isArray(value) ? value.join(',') : (value ?? '')).trim().replace(/\s+/g, ' ');
}

function pathAndQuery(request: RecordedRequest): { path: string; query: string } {
  const at = request.path.indexOf('?');
  return at < 0
    ? { path: request.path, query: '' }
    : { path: request.path.slice(0, at), query: request.path.slice(at + 1) };
}

/** The access key id a SigV4 `authorization` header names, when its signature is valid. */
export function sigV4AccessKey(request: RecordedRequest, secret: string): string | undefined {
  const auth =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(
      header(request, 'authorization'),
    );
  if (!auth) return undefined;
  const [, keyId = '', date = '', region = '', service = '', signedHeaders = '', signature] = auth;
  const amzDate = header(request, 'x-amz-date');
  const canonicalHeaders = signedHeaders
    .split(';')
    .map((name) => `${name}:${header(request, name)}\n`)
    .join('');
  const { path, query } = pathAndQuery(request);
  const payloadHash = header(request, 'x-amz-content-sha256') || sha256Hex(request.rawBody);
  const canonical = ['POST', path, query, canonicalHeaders, signedHeaders, payloadHash].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonical)].join('\n');
  let key = hmac(`AWS4${secret}`, date);
  for (const part of [region, service, 'aws4_request']) key = hmac(key, part);
  return hmac(key, toSign).toString('hex') === signature ? keyId : undefined;
}

/** RFC 3986 percent-encoding as the V3 signature specifies it (`!'()*` encoded too). */
const rfc3986 = (text: string) =>
  encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );

/**
 * The canonical query string of the V3 signature: every parameter decoded as received, then
 * re-encoded (RFC 3986) and sorted by name; `name=` for an empty value.
 */
function canonicalQuery(raw: string): string {
  if (!raw) return '';
  return raw
    .split('&')
    .filter(Boolean)
    .map((pair) => {
      const at = pair.indexOf('=');
      const name = decodeURIComponent(at < 0 ? pair : pair.slice(0, at));
      const value = at < 0 ? '' : decodeURIComponent(pair.slice(at + 1).replace(/\+/g, '%20'));
      return [rfc3986(name), rfc3986(value)] as const;
    })
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
}

/** The access key id an ACS3-HMAC-SHA256 `authorization` header names, when valid. */
export function acs3AccessKey(request: RecordedRequest, secret: string): string | undefined {
  const auth =
    /^ACS3-HMAC-SHA256 Credential=([^,]+),SignedHeaders=([^,]+),Signature=([0-9a-f]{64})$/.exec(
      header(request, 'authorization'),
    );
  if (!auth) return undefined;
  const [, keyId, signedHeaders = '', signature] = auth;
  const payloadHash = header(request, 'x-acs-content-sha256');
  if (payloadHash !== sha256Hex(request.rawBody)) return undefined;
  const canonicalHeaders = signedHeaders
    .split(';')
    .map((name) => `${name}:${header(request, name)}\n`)
    .join('');
  const { path, query } = pathAndQuery(request);
  const canonical = [
    request.method,
    path,
    canonicalQuery(query),
    canonicalHeaders,
    signedHeaders,
    payloadHash,
  ].join('\n');
  const toSign = `ACS3-HMAC-SHA256\n${sha256Hex(canonical)}`;
  return createHmac('sha256', secret).update(toSign).digest('hex') === signature
    ? keyId
    : undefined;
}

/** The access key id an FC 2.0 `authorization: FC <id>:<base64>` header names, when valid. */
export function fc2AccessKey(request: RecordedRequest, secret: string): string | undefined {
  const auth = /^FC ([^:]+):(.+)$/.exec(header(request, 'authorization'));
  if (!auth) return undefined;
  const md5 = createHash('md5').update(request.rawBody, 'utf8').digest('hex');
  if (header(request, 'content-md5') !== Buffer.from(md5).toString('base64')) return undefined;
  const fcHeaders = Object.keys(request.headers)
    .filter((name) => name.startsWith('x-fc-'))
    .sort()
    .map((name) => `${name}:${header(request, name)}\n`)
    .join('');
  const method = 'POST';
  const md5Header = header(request, 'content-md5');
  const type = header(request, 'content-type');
  const date = header(request, 'date');
  const toSign = `${method}\n${md5Header}\n${type}\n${date}\n${fcHeaders}${pathAndQuery(request).path}`;
  return hmac(secret, toSign).toString('base64') === auth[2] ? auth[1] : undefined;
}
