import { afterEach, describe, expect, it } from 'vitest';
import { manualClock } from '../../lib/clock.js';
import { ConfigError } from '../../lib/errors.js';
import { resolveFcAccess } from '../../lib/forward/fc-common.js';
import { createForwarder, type MessageHandler } from '../../lib/forward/index.js';
import { startJsonServer } from '../support/fake-json-server.js';
import { sampleEvent, settingsWith } from './fixtures.js';
import { acs3AccessKey } from './signatures.js';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

const fcKeys = { accessKeyId: 'LTAI-factory', accessKeySecret: 'factory-ak-secret-0123' };

async function configErrorOf(promise: Promise<unknown>): Promise<string> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConfigError);
  return (err as ConfigError).message;
}

describe('createForwarder', () => {
  it('builds the in-process forwarder around the handler, with the agent timeout + 30 s', async () => {
    const deadlines: number[] = [];
    const clock = manualClock();
    const handler: MessageHandler = async (_event, { deadline }) => {
      deadlines.push(deadline);
      return { status: 'handled' };
    };
    const settings = settingsWith({ agent: { timeoutMs: 45_000 } });
    const forwarder = await createForwarder(settings, { handler, clock });
    expect(forwarder.kind).toBe('inprocess');
    expect(await forwarder.forward(sampleEvent())).toEqual({ accepted: true });
    expect(deadlines).toEqual([clock.now() + 75_000]);
  });

  it('refuses in-process mode without a handler', async () => {
    expect(await configErrorOf(createForwarder(settingsWith({})))).toContain('deps.handler');
  });

  it('builds the HTTP forwarder, and names RELAY_HMAC_SECRET when it is missing', async () => {
    const server = await startJsonServer(() => ({ status: 200, body: '{}' }));
    closers.push(server.close);
    const target = `${server.url}/message`;
    const message = await configErrorOf(createForwarder(settingsWith({ relay: { target } })));
    expect(message).toContain('`dingtalkChannel.relay.hmacSecret` (env RELAY_HMAC_SECRET)');
    const settings = settingsWith({
      relay: { target, hmacSecret: 'factory-hmac-secret-42-0123456789abcdef' },
    });
    const forwarder = await createForwarder(settings);
    expect(forwarder.kind).toBe('http');
    expect(await forwarder.forward(sampleEvent())).toEqual({ accepted: true });
    expect(server.requests[0]?.headers['x-dingtalk-channel-signature']).toMatch(/^v1=/);
  });

  it('builds the Lambda forwarder, and names AWS_REGION when no region is set', async () => {
    const relay = { target: 'lambda:dingtalk-channel-dev-message' };
    const message = await configErrorOf(createForwarder(settingsWith({ relay })));
    expect(message).toContain('`dingtalkChannel.state.region` (env AWS_REGION)');
    const forwarder = await createForwarder(
      settingsWith({ relay, state: { region: 'eu-west-1' } }),
    );
    expect(forwarder.kind).toBe('lambda');
    await forwarder.close?.();
  });

  it('builds the FC 3.0 forwarder from an endpoint URL and reaches it', async () => {
    const server = await startJsonServer((request) =>
      acs3AccessKey(request, fcKeys.accessKeySecret)
        ? { status: 202, body: '' }
        : { status: 403, body: '{"Code":"InvalidSignature"}' },
    );
    closers.push(server.close);
    const settings = settingsWith({
      relay: { target: 'fc:dingtalk-message' },
      fc: { endpoint: server.url, ...fcKeys },
    });
    const forwarder = await createForwarder(settings);
    expect(forwarder.kind).toBe('fc');
    expect(await forwarder.forward(sampleEvent())).toEqual({ accepted: true });
    expect(server.requests[0]?.path).toBe('/2023-03-30/functions/dingtalk-message/invocations');
  });

  it('names every missing FC key at once', async () => {
    const settings = settingsWith({ relay: { target: 'fc:dingtalk-message' } });
    const message = await configErrorOf(createForwarder(settings));
    expect(message).toContain('`dingtalkChannel.fc.accessKeyId` (env ALIBABA_CLOUD_ACCESS_KEY_ID)');
    expect(message).toContain(
      '`dingtalkChannel.fc.accessKeySecret` (env ALIBABA_CLOUD_ACCESS_KEY_SECRET)',
    );
    expect(message).toContain('`dingtalkChannel.fc.endpoint` (env FC_ENDPOINT)');
  });

  it('builds the FC 2.0 forwarder, which needs the account id and region', async () => {
    const relay = { target: 'fc2:dingtalk/message' };
    const endpointOnly = settingsWith({ relay, fc: { endpoint: 'fc.example.com', ...fcKeys } });
    expect(await configErrorOf(createForwarder(endpointOnly))).toContain('FC_ACCOUNT_ID');
    const full = settingsWith({
      relay,
      fc: { accountId: '1234567890123456', region: 'cn-hangzhou', ...fcKeys },
    });
    expect((await createForwarder(full)).kind).toBe('fc2');
  });

  it('refuses a target that is not one of the forms', async () => {
    const settings = settingsWith({});
    settings.relay.target = 'ftp://example.com';
    expect(await configErrorOf(createForwarder(settings))).toContain('RELAY_TARGET');
  });
});

describe('resolveFcAccess', () => {
  it('defaults to https://<accountId>.<region>.fc.aliyuncs.com', () => {
    const access = resolveFcAccess({ accountId: '123', region: 'cn-shanghai', ...fcKeys }, 'fc:f');
    expect(access).toMatchObject({ protocol: 'https', host: '123.cn-shanghai.fc.aliyuncs.com' });
  });

  it('takes a bare host as https, and keeps an explicit scheme and port', () => {
    expect(resolveFcAccess({ endpoint: 'fc.example.com', ...fcKeys }, 'fc:f')).toMatchObject({
      protocol: 'https',
      host: 'fc.example.com',
    });
    expect(
      resolveFcAccess({ endpoint: 'http://127.0.0.1:9000/', ...fcKeys }, 'fc:f'),
    ).toMatchObject({ protocol: 'http', host: '127.0.0.1:9000' });
  });
});
