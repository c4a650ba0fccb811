/**
 * The FC 2.0 forwarder against a local stand-in for FC 2.0's invocation API: it checks what
 * `@alicloud/fc2` sends (path, async header, account header, content-md5 and a valid `FC`
 * signature) and answers like FC: 202 queued, JSON errors with `ErrorCode` otherwise.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../lib/errors.js';
import type { FcAccess } from '../../lib/forward/fc-common.js';
import { createFc2Forwarder } from '../../lib/forward/fc2.js';
import {
  type RecordedRequest,
  refusedUrl,
  type ServerAnswer,
  startJsonServer,
} from '../support/fake-json-server.js';
import { sampleEvent } from './fixtures.js';
import { fc2AccessKey } from './signatures.js';

const accessKeySecret = 'alibaba-ak-secret-for-fc2-tests';
const closers: Array<() => Promise<void>> = [];

afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

const fcError = (status: number, code: string): ServerAnswer => ({
  status,
  body: JSON.stringify({ ErrorCode: code, ErrorMessage: 'from the stand-in' }),
});

async function startFc2(
  answer: (request: RecordedRequest) => ServerAnswer = () => ({
    status: 202,
    body: '',
    contentType: 'text/plain',
  }),
) {
  const server = await startJsonServer((request) => {
    if (fc2AccessKey(request, accessKeySecret) !== 'LTAI-fc2-test') {
      return fcError(403, 'SignatureNotMatch');
    }
    return answer(request);
  });
  closers.push(server.close);
  return server;
}

function accessFor(url: string, secret = accessKeySecret): FcAccess {
  const { host, protocol } = new URL(url);
  return {
    protocol: protocol === 'http:' ? 'http' : 'https',
    host,
    accountId: '1234567890123456',
    region: 'cn-hangzhou',
    accessKeyId: 'LTAI-fc2-test',
    accessKeySecret: secret,
  };
}

const forwarderFor = (url: string, extra: { timeoutMs?: number; secret?: string } = {}) =>
  createFc2Forwarder({
    serviceName: 'dingtalk',
    functionName: 'message',
    access: accessFor(url, extra.secret),
    timeoutMs: extra.timeoutMs,
  });

describe('FC 2.0 forwarder → invocation API stand-in', () => {
  it('sends an async invocation with a valid signature; 202 is accepted', async () => {
    const fc = await startFc2();
    const forwarder = forwarderFor(fc.url);
    expect(forwarder.kind).toBe('fc2');
    expect(await forwarder.forward(sampleEvent())).toEqual({ accepted: true });
    const [request] = fc.requests;
    expect(request?.method).toBe('POST');
    expect(request?.path).toBe('/2016-08-15/services/dingtalk/functions/message/invocations');
    expect(request?.headers['x-fc-invocation-type']).toBe('Async');
    expect(request?.headers['x-fc-account-id']).toBe('1234567890123456');
    expect(request?.headers.authorization).toMatch(/^FC LTAI-fc2-test:/);
    expect(request?.body).toEqual(sampleEvent());
  });

  it('is rejected, not retryable, when the SDK signs with another secret', async () => {
    const fc = await startFc2();
    const result = await forwarderFor(fc.url, { secret: 'another-fc2-secret-987' }).forward(
      sampleEvent(),
    );
    expect(result).toMatchObject({ accepted: false, retryable: false });
    expect(result.accepted ? '' : result.reason).toMatch(/^fc2: dingtalk\/message: 403 /);
  });

  it.each([
    [429, 'ResourceThrottled', true],
    [500, 'InternalServerError', true],
    [503, 'ServiceUnavailable', true],
    [404, 'FunctionNotFound', false],
    [400, 'InvalidArgument', false],
  ])('classifies %i %s as retryable=%s', async (status, code, retryable) => {
    const fc = await startFc2(() => fcError(status, code));
    expect(await forwarderFor(fc.url).forward(sampleEvent())).toMatchObject({
      accepted: false,
      retryable,
      reason: expect.stringMatching(new RegExp(`^fc2: dingtalk/message: ${status} FC${code}Error`)),
    });
  });

  it('treats a refused connection and a timeout as retryable', async () => {
    expect(await forwarderFor(await refusedUrl()).forward(sampleEvent())).toMatchObject({
      accepted: false,
      retryable: true,
    });
    const slow = await startFc2(() => ({ status: 202, body: '', delayMs: 5_000 }));
    expect(await forwarderFor(slow.url, { timeoutMs: 100 }).forward(sampleEvent())).toEqual({
      accepted: false,
      retryable: true,
      reason: 'fc2: dingtalk/message: timed out after 100 ms',
    });
  });

  it('needs the account id and region (the SDK builds its host and headers from them)', () => {
    const access = { ...accessFor('http://127.0.0.1:9'), accountId: undefined };
    expect(() => createFc2Forwarder({ serviceName: 's', functionName: 'f', access })).toThrow(
      ConfigError,
    );
  });
});
