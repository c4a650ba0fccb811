/**
 * The FC 3.0 forwarder against a local stand-in for FC's InvokeFunction API: it checks what
 * `@alicloud/fc20230330` sends (path, async headers, the task id, a valid ACS3-HMAC-SHA256
 * signature over the exact body) and answers like FC: 202 queued, 409 task exists, JSON errors.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { asyncTaskIdOf, dedupIdOf, type FcAccess } from '../../lib/forward/fc-common.js';
import { createFc3Forwarder } from '../../lib/forward/fc3.js';
import { memoryLogger } from '../../lib/log.js';
import {
  type RecordedRequest,
  refusedUrl,
  type ServerAnswer,
  startJsonServer,
} from '../support/fake-json-server.js';
import { sampleEvent } from './fixtures.js';
import { acs3AccessKey } from './signatures.js';

const accessKeySecret = 'alibaba-ak-secret-for-tests-0123';
const closers: Array<() => Promise<void>> = [];

afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

const fcError = (status: number, code: string): ServerAnswer => ({
  status,
  body: JSON.stringify({ Code: code, Message: 'from the stand-in', RequestId: 'req-1' }),
});

async function startFc(
  answer: (request: RecordedRequest) => ServerAnswer = () => ({ status: 202, body: '' }),
) {
  const server = await startJsonServer((request) => {
    if (acs3AccessKey(request, accessKeySecret) !== 'LTAI-local-test') {
      return fcError(403, 'InvalidSignature');
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
    accessKeyId: 'LTAI-local-test',
    accessKeySecret: secret,
  };
}

const forwarderFor = (url: string, extra: { timeoutMs?: number; secret?: string } = {}) =>
  createFc3Forwarder({
    functionName: 'dingtalk-message',
    access: accessFor(url, extra.secret),
    timeoutMs: extra.timeoutMs,
    logger: memoryLogger(),
  });

describe('FC 3.0 forwarder → InvokeFunction stand-in', () => {
  it('sends an async invocation with the task id and a valid signature; 202 is accepted', async () => {
    const fc = await startFc();
    const forwarder = forwarderFor(fc.url);
    expect(forwarder.kind).toBe('fc');
    expect(await forwarder.forward(sampleEvent())).toEqual({ accepted: true });
    const [request] = fc.requests;
    expect(request?.method).toBe('POST');
    expect(request?.path).toBe('/2023-03-30/functions/dingtalk-message/invocations');
    expect(request?.headers['x-fc-invocation-type']).toBe('Async');
    expect(request?.headers['x-fc-async-task-id']).toBe(asyncTaskIdOf(sampleEvent()));
    expect(request?.headers.authorization).toMatch(/^ACS3-HMAC-SHA256 Credential=LTAI-local-test,/);
    expect(request?.headers['content-type']).toBe('application/octet-stream');
    expect(request?.body).toEqual(sampleEvent());
  });

  it('counts 409 (the task id exists: already queued) as accepted, and logs it', async () => {
    const fc = await startFc(() => fcError(409, 'AsyncTaskAlreadyExists'));
    const logger = memoryLogger();
    const forwarder = createFc3Forwarder({
      functionName: 'dingtalk-message',
      access: accessFor(fc.url),
      logger,
    });
    expect(await forwarder.forward(sampleEvent())).toEqual({ accepted: true });
    expect(logger.lines).toContainEqual(
      expect.objectContaining({
        event: 'forward.fc.duplicate_task',
        taskId: asyncTaskIdOf(sampleEvent()),
        dedupId: 'msgMxpQ+qegFQ4MpgOyu0UFrQ==',
      }),
    );
  });

  it('is rejected, not retryable, when the SDK signs with another secret', async () => {
    const fc = await startFc();
    const result = await forwarderFor(fc.url, { secret: 'another-ak-secret-987654' }).forward(
      sampleEvent(),
    );
    expect(result).toMatchObject({ accepted: false, retryable: false });
    expect(result.accepted ? '' : result.reason).toMatch(/^fc: dingtalk-message: 403 /);
  });

  it.each([
    [429, 'ResourceThrottled', true],
    [500, 'InternalError', true],
    [503, 'ServiceUnavailable', true],
    [404, 'FunctionNotFound', false],
    [400, 'InvalidArgument', false],
  ])('classifies %i %s as retryable=%s', async (status, code, retryable) => {
    const fc = await startFc(() => fcError(status, code));
    expect(await forwarderFor(fc.url).forward(sampleEvent())).toMatchObject({
      accepted: false,
      retryable,
      reason: expect.stringMatching(new RegExp(`^fc: dingtalk-message: ${status} .*${code}`)),
    });
  });

  it('treats an answer other than 202 as retryable', async () => {
    const fc = await startFc(() => ({ status: 200, body: '' }));
    expect(await forwarderFor(fc.url).forward(sampleEvent())).toEqual({
      accepted: false,
      retryable: true,
      reason: 'fc: dingtalk-message: unexpected status 200',
    });
  });

  it('treats a refused connection and a timeout as retryable', async () => {
    expect(await forwarderFor(await refusedUrl()).forward(sampleEvent())).toMatchObject({
      accepted: false,
      retryable: true,
    });
    const slow = await startFc(() => ({ status: 202, body: '', delayMs: 5_000 }));
    expect(await forwarderFor(slow.url, { timeoutMs: 100 }).forward(sampleEvent())).toEqual({
      accepted: false,
      retryable: true,
      reason: 'fc: dingtalk-message: timed out after 100 ms',
    });
  });
});

describe('async task id', () => {
  const TASK_ID = /^[A-Za-z_][A-Za-z0-9_-]{0,127}$/;

  it('fits FC task id rules and is stable across redeliveries of one message', () => {
    const id = asyncTaskIdOf(sampleEvent());
    expect(id).toMatch(TASK_ID);
    // A redelivery: same msgId, later receipt, possibly another stream message id.
    const again = sampleEvent({ receivedAt: Date.now(), messageId: 'other-stream-id' });
    expect(asyncTaskIdOf(again)).toBe(id);
  });

  it('differs between accounts and between messages', () => {
    const id = asyncTaskIdOf(sampleEvent());
    expect(asyncTaskIdOf(sampleEvent({ accountId: 'second-bot' }))).not.toBe(id);
    const other = JSON.stringify({ msgId: 'msgAnotherOne==' });
    expect(asyncTaskIdOf(sampleEvent({ data: other }))).not.toBe(id);
  });

  it('falls back to the stream messageId when the payload has no usable msgId', () => {
    for (const data of ['not json', '{"msgId":""}', 'null', '{"msgId":42}']) {
      const event = sampleEvent({ data });
      expect(dedupIdOf(event)).toBe(event.messageId);
      expect(asyncTaskIdOf(event)).toMatch(TASK_ID);
    }
  });
});
