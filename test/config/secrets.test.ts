import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config/index.js';
import { ConfigError } from '../../lib/errors.js';
import { maskSecrets, memoryLogger } from '../../lib/log.js';
import { tempFile } from './support.js';

/** Loads, expecting a ConfigError; returns the full text a caller could print or log. */
function errorText(env: NodeJS.ProcessEnv): string {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return `${(err as ConfigError).message}\n${(err as ConfigError).issues.join('\n')}`;
  }
  throw new Error('expected a ConfigError');
}

describe('invariant 6: no secret in a configuration error', () => {
  it('a bad secret value is described by its type only', () => {
    const text = errorText({
      DINGTALK_CONFIG:
        '{ clientSecret: 87654321, accounts: { w: { clientSecret: ["s3cr3t-in-list"] } } }',
    });
    expect(text).toContain(
      '`channels.dingtalk.clientSecret` (from DINGTALK_CONFIG) must be a non-empty string; got a number (value hidden)',
    );
    expect(text).toContain(
      '`channels.dingtalk.accounts.w.clientSecret` (from DINGTALK_CONFIG) must be a non-empty string; got a list',
    );
    expect(text).not.toContain('87654321');
    expect(text).not.toContain('s3cr3t-in-list');
  });

  it('a secret pasted into a non-secret key is masked', () => {
    const secret = 'app-secret-pasted-twice';
    const text = errorText({
      DINGTALK_CLIENT_SECRET: secret,
      DINGTALK_DM_POLICY: secret,
      AGENT_API_KEY: 'sk-leaky-key-123',
      AGENT_BASE_URL: 'sk-leaky-key-123',
    });
    expect(text).toContain(
      '`channels.dingtalk.dm.policy` (from DINGTALK_DM_POLICY) must be one of disabled, allowlist, open, pairing; got "***"',
    );
    expect(text).toContain(
      '`dingtalkChannel.agent.baseUrl` (from AGENT_BASE_URL) must be an http:// or https:// URL; got "***"',
    );
    expect(text).not.toContain(secret);
    expect(text).not.toContain('sk-leaky-key-123');
  });

  it('a secret with quotes is masked in its JSON-quoted form too', () => {
    const secret = 'quo"te\\secret';
    const text = errorText({ DINGTALK_CLIENT_SECRET: secret, DINGTALK_CHUNK_MODE: secret });
    expect(text).toContain('(from DINGTALK_CHUNK_MODE) must be one of length, newline; got "***"');
    expect(text).not.toContain('quo');
  });

  it('a secret read from a *_FILE is masked too', () => {
    const path = tempFile('hmac', 'hmac-from-file-42\n');
    const text = errorText({ RELAY_HMAC_SECRET_FILE: path, RELAY_TARGET: 'hmac-from-file-42' });
    expect(text).toContain('`dingtalkChannel.relay.target` (from RELAY_TARGET) must be inprocess');
    expect(text).not.toContain('hmac-from-file-42');
  });

  it('values under unknown keys are never shown', () => {
    const text = errorText({ DINGTALK_CONFIG: '{ clientSecert: "typo-key-secret-1" }' });
    expect(text).toContain(
      '`channels.dingtalk.clientSecert` (from DINGTALK_CONFIG) is not a known key; did you mean `clientSecret`?',
    );
    expect(text).not.toContain('typo-key-secret-1');
  });

  it('a JSON5 syntax error does not echo the text', () => {
    const text = errorText({
      DINGTALK_CONFIG: '{ clientSecret: "json-secret-77", dm: { policy: } }',
    });
    expect(text).toContain('DINGTALK_CONFIG: JSON5 syntax error at line 1');
    expect(text).not.toContain('json-secret-77');
  });

  it('every secret loaded is registered with the logger', () => {
    const path = tempFile('token', 'send-token-from-file-0123456789abcdef\n');
    loadConfig({
      DINGTALK_CONFIG: '{ accounts: { w: { clientId: "id", clientSecret: "account-secret-1" } } }',
      AGENT_API_KEY: 'agent-api-key-1',
      AGENT_HTTP_TOKEN: 'agent-http-token-1',
      RELAY_HMAC_SECRET: 'relay-hmac-secret-1-0123456789abcdef',
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'alibaba-secret-1',
      SEND_TOKEN_FILE: path,
    });
    const secrets = [
      'account-secret-1',
      'agent-api-key-1',
      'agent-http-token-1',
      'relay-hmac-secret-1-0123456789abcdef',
      'alibaba-secret-1',
      'send-token-from-file-0123456789abcdef',
    ];
    for (const secret of secrets) expect(maskSecrets(`x ${secret} y`)).toBe('x *** y');
    const log = memoryLogger();
    log.info('note', { text: `leak? ${secrets.join(' ')}` });
    expect(JSON.stringify(log.lines)).not.toMatch(/secret-1|key-1|token-1|from-file/);
  });
});
