/**
 * The Lambda forwarder against a local stand-in for the Lambda Invoke API: it checks what the
 * real AWS SDK sends (path, invocation type header, a valid SigV4 signature, the JSON payload)
 * and answers like Lambda: 202 for a queued event, JSON errors named by `__type` otherwise.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createLambdaForwarder } from '../../lib/forward/lambda.js';
import type { Forwarder } from '../../lib/forward/port.js';
import {
  type RecordedRequest,
  refusedUrl,
  type ServerAnswer,
  startJsonServer,
} from '../support/fake-json-server.js';
import { sampleEvent } from './fixtures.js';
import { sigV4AccessKey } from './signatures.js';

const credentials = {
  accessKeyId: 'AKIDLOCALTEST',
  secretAccessKey: 'aws-secret-key-for-tests-0123',
};
const closers: Array<() => Promise<void>> = [];
const forwarders: Forwarder[] = [];

afterEach(async () => {
  await Promise.all(forwarders.splice(0).map((f) => f.close?.()));
  await Promise.all(closers.splice(0).map((close) => close()));
});

const lambdaError = (status: number, type: string, message: string): ServerAnswer => ({
  status,
  body: JSON.stringify({ __type: type, message }),
});

/** Answers like Lambda's Invoke API; `answer` decides once the request shape was accepted. */
async function startLambda(
  answer: (request: RecordedRequest) => ServerAnswer = () => ({ status: 202, body: '' }),
) {
  const server = await startJsonServer((request) => {
    if (sigV4AccessKey(request, credentials.secretAccessKey) !== credentials.accessKeyId) {
      return lambdaError(
        403,
        'InvalidSignatureException',
        'The request signature we calculated does not match',
      );
    }
    return answer(request);
  });
  closers.push(server.close);
  return server;
}

function forwarderFor(endpoint: string, timeoutMs?: number) {
  const forwarder = createLambdaForwarder({
    functionName: 'dingtalk-channel-dev-message',
    region: 'eu-central-1',
    endpoint,
    credentials,
    maxAttempts: 1,
    timeoutMs,
  });
  forwarders.push(forwarder);
  return forwarder;
}

describe('Lambda forwarder → Invoke API stand-in', () => {
  it('sends an Event invocation the way Lambda expects it, and 202 is accepted', async () => {
    const lambda = await startLambda();
    const forwarder = forwarderFor(lambda.url);
    expect(forwarder.kind).toBe('lambda');
    expect(await forwarder.forward(sampleEvent())).toEqual({ accepted: true });
    const [request] = lambda.requests;
    expect(request?.method).toBe('POST');
    expect(request?.path).toBe('/2015-03-31/functions/dingtalk-channel-dev-message/invocations');
    expect(request?.headers['x-amz-invocation-type']).toBe('Event');
    expect(request?.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDLOCALTEST\/\d{8}\/eu-central-1\/lambda\/aws4_request, /,
    );
    expect(request?.body).toEqual(sampleEvent());
  });

  it('is rejected, not retryable, when the SDK signs with another secret', async () => {
    const lambda = await startLambda();
    const forwarder = createLambdaForwarder({
      functionName: 'fn',
      region: 'eu-central-1',
      endpoint: lambda.url,
      credentials: { ...credentials, secretAccessKey: 'a-different-secret-key-456' },
      maxAttempts: 1,
    });
    forwarders.push(forwarder);
    expect(await forwarder.forward(sampleEvent())).toMatchObject({
      accepted: false,
      retryable: false,
      reason: expect.stringContaining('InvalidSignatureException'),
    });
  });

  it.each([
    [429, 'TooManyRequestsException', true],
    [500, 'ServiceException', true],
    [409, 'ResourceConflictException', true],
    [404, 'ResourceNotFoundException', false],
    [403, 'AccessDeniedException', false],
    [413, 'RequestTooLargeException', false],
  ])('classifies %i %s as retryable=%s', async (status, type, retryable) => {
    const lambda = await startLambda(() => lambdaError(status, type, 'refused by the stand-in'));
    const result = await forwarderFor(lambda.url).forward(sampleEvent());
    expect(result).toEqual({
      accepted: false,
      retryable,
      reason: `lambda: dingtalk-channel-dev-message: ${type}: refused by the stand-in`,
    });
  });

  it('treats an answer other than 202 as a retryable rejection', async () => {
    const lambda = await startLambda(() => ({ status: 200, body: '{}' }));
    expect(await forwarderFor(lambda.url).forward(sampleEvent())).toEqual({
      accepted: false,
      retryable: true,
      reason: 'lambda: dingtalk-channel-dev-message: unexpected status 200',
    });
  });

  it('treats a refused connection and a timeout as retryable', async () => {
    expect(await forwarderFor(await refusedUrl()).forward(sampleEvent())).toMatchObject({
      accepted: false,
      retryable: true,
    });
    const slow = await startLambda(() => ({ status: 202, body: '', delayMs: 5_000 }));
    expect(await forwarderFor(slow.url, 100).forward(sampleEvent())).toEqual({
      accepted: false,
      retryable: true,
      reason: 'lambda: dingtalk-channel-dev-message: timed out after 100 ms',
    });
  });
});
