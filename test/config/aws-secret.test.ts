/**
 * Each AWS function reads only its secrets, from Secrets Manager, never from a plaintext
 * environment (issue 15). The real @aws-sdk/client-secrets-manager talks to a local stand-in of
 * the Secrets Manager API (test/support/fake-secrets-manager.ts).
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { handler as sendHandler } from '../../functions/send/aws.js';
import { resetSendFunction } from '../../functions/send/handler.js';
import { relayConfigView } from '../../infra/relay/secret-view.js';
import {
  configForRole,
  resetSecretConfig,
  SECRET_SETTINGS,
  SECRETS_BY_ROLE,
  SecretConfigSource,
} from '../../lib/config/aws-secret.js';
import { jsonSchemaOf } from '../../lib/config/introspect.js';
import { SettingsSchema } from '../../lib/config/settings.js';
import { ChannelError } from '../../lib/errors.js';
import {
  type FakeSecretsManager,
  startFakeSecretsManager,
} from '../support/fake-secrets-manager.js';

const SEND_TOKEN = 'send-token-from-the-secret-0123456789abcdef';
const DOCUMENT = {
  channels: {
    dingtalk: {
      clientId: 'dingsecretapp',
      clientSecret: 'client-secret-kept-by-all',
      accounts: { w: { clientId: 'dingw', clientSecret: 'account-secret-kept-by-all' } },
    },
  },
  dingtalkChannel: {
    agent: {
      kind: 'openai',
      baseUrl: 'https://llm.example/v1',
      model: 'm',
      apiKey: 'agent-api-key-1',
    },
    relay: { hmacSecret: 'h'.repeat(40) },
    send: { token: SEND_TOKEN },
  },
};

let sm: FakeSecretsManager;
beforeAll(async () => {
  sm = await startFakeSecretsManager();
});
afterAll(() => sm.close());
afterEach(() => {
  vi.unstubAllEnvs();
  resetSecretConfig();
  resetSendFunction();
});

const client = () =>
  new SecretsManagerClient({
    endpoint: sm.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });

describe('configForRole: each function keeps only the secrets it uses', () => {
  const text = JSON.stringify(DOCUMENT);

  it('lists every secret setting of the schema', () => {
    const schema = jsonSchemaOf(SettingsSchema);
    const secret = Object.entries(schema.properties ?? {}).flatMap(([section, node]) =>
      Object.entries(node.properties ?? {})
        .filter(([, leaf]) => leaf.secret)
        .map(([key]) => `${section}.${key}`),
    );
    expect([...SECRET_SETTINGS].sort()).toEqual(secret.sort());
  });

  it('the message function holds the agent key, never the send token or the HMAC key', () => {
    const out = configForRole(text, 'message');
    expect(out).toContain('agent-api-key-1');
    expect(out).not.toContain(SEND_TOKEN);
    expect(out).not.toContain('h'.repeat(40));
    expect(out).toContain('client-secret-kept-by-all');
    expect(out).toContain('account-secret-kept-by-all');
  });

  it('the send function holds the send token, never the agent key or the HMAC key', () => {
    const out = configForRole(text, 'send');
    expect(out).toContain(SEND_TOKEN);
    expect(out).not.toContain('agent-api-key-1');
    expect(out).not.toContain('h'.repeat(40));
    expect(JSON.parse(out).dingtalkChannel.agent).toEqual({
      kind: 'openai',
      baseUrl: 'https://llm.example/v1',
      model: 'm',
    });
  });

  it('the HTTP entry also holds the HMAC key; the relay holds no setting secret', () => {
    expect(configForRole(text, 'message-http')).toContain('h'.repeat(40));
    const relay = configForRole(text, 'relay');
    for (const value of ['agent-api-key-1', SEND_TOKEN, 'h'.repeat(40)]) {
      expect(relay).not.toContain(value);
    }
    expect(SECRETS_BY_ROLE.relay).toEqual([]);
  });

  it('accepts the bare channel object too, and never shows a secret that does not parse', () => {
    expect(JSON.parse(configForRole('{ clientId: "a", clientSecret: "b" }', 'send'))).toEqual({
      channels: { dingtalk: { clientId: 'a', clientSecret: 'b' } },
    });
    const err = (() => {
      try {
        configForRole('{ clientSecret: "unparsable-secret-1", ', 'send');
      } catch (e) {
        return e as ChannelError;
      }
    })();
    expect(err).toBeInstanceOf(ChannelError);
    expect(err!.message).toContain('JSON5 syntax error');
    expect(err!.message).not.toContain('unparsable-secret-1');
  });
});

describe('SecretConfigSource against the Secrets Manager API', () => {
  it('reads once, serves the cache, and reports a new version after the refresh time', async () => {
    const name = 'cache-test';
    sm.putSecretValue(name, JSON.stringify(DOCUMENT));
    let now = 1_000_000;
    const source = new SecretConfigSource({
      secretId: sm.arnOf(name),
      role: 'send',
      client: client(),
      refreshMs: 60_000,
      now: () => now,
    });
    const first = await source.read();
    expect(first.changed).toBe(false);
    expect(first.config).toContain(SEND_TOKEN);
    now += 59_000;
    expect((await source.read()).changed).toBe(false);
    expect(sm.reads()).toHaveLength(1);
    now += 2_000;
    expect((await source.read()).changed).toBe(false); // same version
    expect(sm.reads()).toHaveLength(2);
    const rotated = { ...DOCUMENT, dingtalkChannel: { send: { token: `${SEND_TOKEN}-v2` } } };
    sm.putSecretValue(name, JSON.stringify(rotated));
    now += 61_000;
    const after = await source.read();
    expect(after.changed).toBe(true);
    expect(after.config).toContain(`${SEND_TOKEN}-v2`);
  });

  it('keeps the cached value when a refresh fails; a failed first read is retryable', async () => {
    const name = 'failing-test';
    sm.putSecretValue(name, JSON.stringify(DOCUMENT));
    let now = 0;
    const source = new SecretConfigSource({
      secretId: name,
      role: 'message',
      client: client(),
      refreshMs: 10,
      now: () => now,
    });
    await source.read();
    sm.failing = true;
    try {
      now += 100;
      expect((await source.read()).config).toContain('agent-api-key-1');
      const fresh = new SecretConfigSource({ secretId: name, role: 'message', client: client() });
      const err = await fresh.read().catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'config_secret_unavailable', retryable: true });
    } finally {
      sm.failing = false;
    }
    const missing = new SecretConfigSource({ secretId: 'nope', role: 'send', client: client() });
    expect(await missing.read().catch((e: ChannelError) => e.message)).toContain(
      'ResourceNotFoundException',
    );
  });
});

describe('the deployed send function reads its config from the secret', () => {
  it('CONFIG_SECRET_ID in the environment, the token and credentials from Secrets Manager', async () => {
    const name = 'send-function';
    sm.putSecretValue(name, JSON.stringify(DOCUMENT));
    // The SDK's documented service endpoint variable points the default client at the stand-in.
    vi.stubEnv('AWS_ENDPOINT_URL_SECRETS_MANAGER', sm.endpoint);
    vi.stubEnv('AWS_REGION', 'us-east-1');
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'test');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test');
    vi.stubEnv('CONFIG_SECRET_ID', sm.arnOf(name));
    vi.stubEnv('DINGTALK_CONFIG', '');
    vi.stubEnv('STATE_BACKEND', 'memory');
    const wrong = await sendHandler({
      headers: { authorization: 'Bearer wrong-token-wrong-token-wrong-token' },
      body: '{}',
      requestContext: { http: { method: 'POST' } },
    });
    expect(wrong.statusCode).toBe(401);
    const right = await sendHandler({
      headers: { authorization: `Bearer ${SEND_TOKEN}` },
      body: JSON.stringify({ target: 'dingtalk:x' }),
      requestContext: { http: { method: 'POST' } },
    });
    // Past the token check: the body is refused for its missing text, nothing else.
    expect(right.statusCode).toBe(400);
    expect(process.env.DINGTALK_CONFIG).toContain(SEND_TOKEN);
    expect(process.env.DINGTALK_CONFIG).not.toContain('agent-api-key-1');
    expect(sm.reads().at(-1)?.body).toEqual({ SecretId: sm.arnOf(name) });
  });
});

describe('the relay on AWS keeps only its view of the config secret', () => {
  it('drops the agent key, send token and HMAC key for a lambda: target, and nothing otherwise', () => {
    const env: NodeJS.ProcessEnv = {
      DINGTALK_CONFIG: JSON.stringify(DOCUMENT),
      RELAY_TARGET: 'lambda:dingtalk-channel-prod-message',
    };
    expect(relayConfigView(env)).toBe(true);
    for (const value of ['agent-api-key-1', SEND_TOKEN, 'h'.repeat(40)]) {
      expect(env.DINGTALK_CONFIG).not.toContain(value);
    }
    expect(env.DINGTALK_CONFIG).toContain('client-secret-kept-by-all');
    const inprocess = { DINGTALK_CONFIG: JSON.stringify(DOCUMENT), RELAY_TARGET: 'inprocess' };
    expect(relayConfigView(inprocess)).toBe(false);
    expect(inprocess.DINGTALK_CONFIG).toContain('agent-api-key-1');
  });
});
