/**
 * A local stand-in for the OSS API, as much of it as `deploy` uses through the official
 * `ali-oss` SDK: GetBucketInfo, PutBucket, HeadObject, PutObject, path-style (the SDK's
 * `sldEnable`). Every request must carry a valid OSS signature (`Authorization: OSS
 * <AccessKeyId>:<base64 HMAC-SHA1>` over VERB, Content-MD5, Content-Type, the date, the sorted
 * `x-oss-*` headers and `/<bucket>/<key>?<subresources>`, OSS "Signature version 1" docs);
 * otherwise it answers 403 SignatureDoesNotMatch as OSS does. Errors are OSS's XML bodies.
 */
import { createHash, createHmac, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface OssStandIn {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** bucket → key → object bytes */
  buckets: Map<string, Map<string, Buffer>>;
  /** `METHOD /path` of every request, signed or not. */
  log: string[];
  /** Bucket names another account owns (PutBucket → 409 BucketAlreadyExists). */
  taken: Set<string>;
  close(): Promise<void>;
}

function errorXml(code: string, message: string, extra = ''): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error>\n  <Code>${code}</Code>\n  <Message>${message}</Message>\n  <RequestId>${randomUUID()}</RequestId>\n  <HostId>127.0.0.1</HostId>${extra}\n</Error>\n`;
}

function header(req: IncomingMessage, name: string): string {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(',') : (value ?? '');
}

/** The access key id of a valid OSS V1 signature, else undefined. */
function signedBy(req: IncomingMessage, secret: string, resource: string): string | undefined {
  const match = /^OSS ([^:]+):(.+)$/.exec(header(req, 'authorization'));
  if (!match) return undefined;
  const ossHeaders = Object.keys(req.headers)
    .filter((name) => name.startsWith('x-oss-'))
    .sort()
    .map((name) => `${name}:${header(req, name).trim()}`);
  const toSign = [
    req.method ?? '',
    header(req, 'content-md5'),
    header(req, 'content-type'),
    header(req, 'x-oss-date') || header(req, 'date'),
    ...ossHeaders,
    resource,
  ].join('\n');
  const expected = createHmac('sha1', secret).update(toSign, 'utf8').digest('base64');
  return expected === match[2] ? match[1] : undefined;
}

/** Starts the stand-in; requests must be signed by `accessKeyId`/`accessKeySecret`. */
export async function startOssStandIn(credentials: {
  accessKeyId: string;
  accessKeySecret: string;
}): Promise<OssStandIn> {
  const buckets = new Map<string, Map<string, Buffer>>();
  const log: string[] = [];
  const taken = new Set<string>();

  const answer = (res: ServerResponse, status: number, body = '', headers = {}) => {
    res.writeHead(status, {
      'x-oss-request-id': randomUUID(),
      ...(body ? { 'content-type': 'application/xml' } : {}),
      ...headers,
    });
    res.end(body);
  };

  const handle = (req: IncomingMessage, res: ServerResponse, body: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    log.push(`${req.method} ${url.pathname}${url.search}`);
    const [, bucket = '', ...rest] = url.pathname.split('/');
    const key = decodeURIComponent(rest.join('/'));
    const subresources = [...url.searchParams.entries()]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([k, v]) => (v ? `${k}=${v}` : k));
    const resource = `/${bucket}/${key}${subresources.length ? `?${subresources.join('&')}` : ''}`;
    if (signedBy(req, credentials.accessKeySecret, resource) !== credentials.accessKeyId) {
      answer(
        res,
        403,
        errorXml(
          'SignatureDoesNotMatch',
          'The request signature we calculated does not match the signature you provided.',
        ),
      );
      return;
    }
    const md5 = header(req, 'content-md5');
    if (md5 && createHash('md5').update(body).digest('base64') !== md5) {
      answer(res, 400, errorXml('InvalidDigest', 'The Content-MD5 you specified is not valid.'));
      return;
    }
    const objects = buckets.get(bucket);
    const noBucket = () =>
      answer(
        res,
        404,
        errorXml(
          'NoSuchBucket',
          'The specified bucket does not exist.',
          `\n  <BucketName>${bucket}</BucketName>`,
        ),
      );
    if (!key) {
      if (req.method === 'GET' && url.searchParams.has('bucketInfo')) {
        if (!objects) return noBucket();
        return answer(
          res,
          200,
          `<?xml version="1.0" encoding="UTF-8"?>\n<BucketInfo><Bucket><Name>${bucket}</Name><AccessControlList><Grant>private</Grant></AccessControlList></Bucket></BucketInfo>`,
        );
      }
      if (req.method === 'PUT') {
        if (taken.has(bucket)) {
          return answer(
            res,
            409,
            errorXml('BucketAlreadyExists', 'The requested bucket name is not available.'),
          );
        }
        if (!objects) buckets.set(bucket, new Map());
        return answer(res, 200);
      }
      return answer(res, 405, errorXml('MethodNotAllowed', 'The specified method is not allowed.'));
    }
    if (!objects) return noBucket();
    const object = objects.get(key);
    if (req.method === 'HEAD') {
      // HEAD answers carry no body; the SDK maps a bare 404 to NoSuchKey.
      if (!object) return answer(res, 404);
      const etag = `"${createHash('md5').update(object).digest('hex').toUpperCase()}"`;
      return answer(res, 200, '', { etag, 'content-length': object.length });
    }
    if (req.method === 'PUT') {
      objects.set(key, body);
      const etag = `"${createHash('md5').update(body).digest('hex').toUpperCase()}"`;
      return answer(res, 200, '', { etag });
    }
    if (req.method === 'GET') {
      if (!object)
        return answer(res, 404, errorXml('NoSuchKey', 'The specified key does not exist.'));
      res.writeHead(200, { 'content-type': 'application/zip' });
      res.end(object);
      return;
    }
    answer(res, 405, errorXml('MethodNotAllowed', 'The specified method is not allowed.'));
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => handle(req, res, Buffer.concat(chunks)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    buckets,
    log,
    taken,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
