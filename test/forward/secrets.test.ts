/**
 * Invariant 6 for forwarders: no credential (HMAC key, AWS secret key, Alibaba AccessKey
 * secret, secrets inside the target URL) appears in a rejection reason or a log line, even when
 * the platform's error message quotes it back.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createFc3Forwarder } from '../../lib/forward/fc3.js';
import { createHttpForwarder } from '../../lib/forward/http.js';
import { createLambdaForwarder } from '../../lib/forward/lambda.js';
import type { HandoffResult } from '../../lib/forward/port.js';
import { memoryLogger } from '../../lib/log.js';
import { startJsonServer } from '../support/fake-json-server.js';
import { sampleEvent } from './fixtures.js';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

/** A platform that fails and quotes `secret` in its error message. */
async function leakyPlatform(status: number, secret: string) {
  const server = await startJsonServer(() => ({
    status,
    body: JSON.stringify({
      __type: 'InvalidParameterValueException',
      message: `bad key ${secret}`,
      Code: 'InvalidArgument',
      Message: `bad key ${secret}`,
      error: `bad key ${secret}`,
    }),
  }));
  closers.push(server.close);
  return server;
}

function reasonOf(result: HandoffResult): string {
  expect(result.accepted).toBe(false);
  return result.accepted ? '' : result.reason;
}

describe('no secret in reasons or logs', () => {
  it('http: the HMAC key and a URL token are masked', async () => {
    const hmacSecret = 'leaky-hmac-secret-value-1';
    const server = await leakyPlatform(500, hmacSecret);
    const forwarder = createHttpForwarder({
      url: `${server.url}/fn?code=url-token-value-2`,
      hmacSecret,
    });
    const reason = reasonOf(await forwarder.forward(sampleEvent()));
    expect(reason).toContain('bad key ***');
    expect(reason).not.toContain(hmacSecret);
    expect(reason).not.toContain('url-token-value-2');
  });

  it('http: user info in the target URL becomes a Basic header, never part of a reason', async () => {
    const server = await startJsonServer(() => ({ status: 503, body: '{}' }));
    closers.push(server.close);
    const url = server.url.replace('http://', 'http://relay:url-password-3@');
    const forwarder = createHttpForwarder({ url, hmacSecret: 'some-hmac-secret-4' });
    const reason = reasonOf(await forwarder.forward(sampleEvent()));
    expect(reason).not.toContain('url-password-3');
    const expected = `Basic ${Buffer.from('relay:url-password-3').toString('base64')}`;
    expect(server.requests[0]?.headers.authorization).toBe(expected);
  });

  it('lambda: the secret access key is masked', async () => {
    const secretAccessKey = 'leaky-aws-secret-key-5';
    const server = await leakyPlatform(400, secretAccessKey);
    const forwarder = createLambdaForwarder({
      functionName: 'fn',
      region: 'eu-west-1',
      endpoint: server.url,
      credentials: { accessKeyId: 'AKIDLEAK', secretAccessKey },
      maxAttempts: 1,
    });
    const reason = reasonOf(await forwarder.forward(sampleEvent()));
    await forwarder.close?.();
    expect(reason).toContain('bad key ***');
    expect(reason).not.toContain(secretAccessKey);
  });

  it('fc: the AccessKey secret is masked, in reasons and in logs', async () => {
    const accessKeySecret = 'leaky-alibaba-secret-6';
    const server = await leakyPlatform(400, accessKeySecret);
    const logger = memoryLogger();
    const { host } = new URL(server.url);
    const forwarder = createFc3Forwarder({
      functionName: 'fn',
      access: { protocol: 'http', host, accessKeyId: 'LTAI-leak', accessKeySecret },
      logger,
    });
    const reason = reasonOf(await forwarder.forward(sampleEvent()));
    expect(reason).toContain('bad key ***');
    expect(reason).not.toContain(accessKeySecret);
    expect(JSON.stringify(logger.lines)).not.toContain(accessKeySecret);
  });
});
