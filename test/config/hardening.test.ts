/**
 * Issue 15, "Configuration and inputs": `__proto__` keys, credential-bearing URL parts and short
 * shared secrets. Each case here failed on the loader before the fix.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config/index.js';
import { maskSecrets, maskUrl, memoryLogger } from '../../lib/log.js';
import { configIssues } from './support.js';

const HMAC = 'a'.repeat(64);

describe('prototype keys are rejected, never merged', () => {
  it('a top-level "__proto__" cannot open DMs to strangers', () => {
    const issues = configIssues(() =>
      loadConfig({
        DINGTALK_CONFIG: '{"__proto__": {"dm": {"policy": "open", "allowFrom": ["*"]}}}',
      }),
    );
    expect(issues).toEqual([
      '`channels.dingtalk.__proto__` (from DINGTALK_CONFIG) is not allowed: "__proto__", "constructor" and "prototype" are never configuration keys',
    ]);
  });

  it('groups.__proto__ and other nested prototype keys are errors, not silently dropped', () => {
    const issues = configIssues(() =>
      loadConfig({
        DINGTALK_CONFIG:
          '{ channels: { dingtalk: { groups: { "__proto__": { requireMention: false } }, accounts: { w: { constructor: 1 } } } } }',
      }),
    );
    expect(issues).toEqual([
      expect.stringContaining(
        '`channels.dingtalk.groups.__proto__` (from DINGTALK_CONFIG) is not allowed',
      ),
      expect.stringContaining(
        '`channels.dingtalk.accounts.w.constructor` (from DINGTALK_CONFIG) is not allowed',
      ),
    ]);
  });

  it('a settings "prototype" key in the config file is rejected too', () => {
    const issues = configIssues(() =>
      loadConfig({ DINGTALK_CONFIG: '{ dingtalkChannel: { agent: { prototype: {} } } }' }),
    );
    expect(issues[0]).toContain(
      '`dingtalkChannel.agent.prototype` (from DINGTALK_CONFIG) is not allowed',
    );
  });

  it('a clean config still loads, and the merged objects keep the ordinary prototype', () => {
    const config = loadConfig({
      DINGTALK_CONFIG: '{ groups: { cidA: { requireMention: false } } }',
    });
    expect(Object.getPrototypeOf(config.channel.groups)).toBe(Object.prototype);
    expect(config.channel.dm.policy).toBe('pairing');
  });
});

describe('credential-bearing URL parts are never shown', () => {
  it('a bad RELAY_TARGET is reported without its function key or user:password', () => {
    const target = 'https://admin:hunter2-pass@fn.example/x?code=fn-key-0123456789';
    const issues = configIssues(() =>
      loadConfig({ RELAY_TARGET: target, RELAY_HMAC_SECRET: 'short' }),
    ).join('\n');
    expect(issues).toContain(
      '`dingtalkChannel.relay.hmacSecret` (from RELAY_HMAC_SECRET) must be at least 32 bytes',
    );
    expect(issues).not.toContain('hunter2');
    expect(issues).not.toContain('fn-key-0123456789');
    const unparsable = configIssues(() =>
      loadConfig({ RELAY_TARGET: 'lambdax://u:pw-secret-99@h/?code=key-secret-98' }),
    ).join('\n');
    expect(unparsable).toContain(
      '`dingtalkChannel.relay.target` (from RELAY_TARGET) must be inprocess',
    );
    expect(unparsable).not.toMatch(/pw-secret-99|key-secret-98/);
  });

  it('an invalid URL setting is shown with its credentials masked', () => {
    const issues = configIssues(() =>
      loadConfig({
        AGENT: 'openai',
        AGENT_MODEL: 'm',
        AGENT_BASE_URL: 'ftp://u:p4ss@x/v1?api-key=k3y-value',
      }),
    ).join('\n');
    expect(issues).toContain(
      '`dingtalkChannel.agent.baseUrl` (from AGENT_BASE_URL) must be an http:// or https:// URL',
    );
    expect(issues).not.toMatch(/p4ss|k3y-value/);
  });

  it('query values of AGENT_BASE_URL are masked in logs, even without the URL around them', () => {
    loadConfig({
      AGENT: 'openai',
      AGENT_MODEL: 'm',
      AGENT_BASE_URL: 'https://llm.example/v1?api-key=azure-key-0123456789',
    });
    const log = memoryLogger();
    log.warn('agent.echo', {
      said: 'called https://llm.example/v1/chat/completions?api-key=azure-key-0123456789',
      alone: 'the key azure-key-0123456789 is invalid',
    });
    expect(JSON.stringify(log.lines)).not.toContain('azure-key-0123456789');
    expect(log.lines[0]!.said).toBe('called https://llm.example/v1/chat/completions?api-key=***');
  });

  it('maskUrl masks user, password, every query value and the fragment, via the URL API', () => {
    expect(maskUrl('https://u:p@h.example:8443/a/b?code=k&x=1&x=2#frag')).toBe(
      'https://***:***@h.example:8443/a/b?code=***&x=***#***',
    );
    expect(maskUrl('https://h.example/plain')).toBe('https://h.example/plain');
    expect(maskUrl('not a url ?session=abc')).toBe('[unparsable URL]');
    expect(
      maskSecrets('posting to https://oapi.dingtalk.com/robot/sendBySession?session=tok123 failed'),
    ).toBe('posting to https://oapi.dingtalk.com/robot/sendBySession?session=*** failed');
  });

  it('a short secret is masked where it stands as a value', () => {
    loadConfig({ AGENT_API_KEY: 'k9z' });
    const log = memoryLogger();
    log.info('x', { text: 'key=k9z; "k9z"; k9zebra' });
    expect(log.lines[0]!.text).toBe('key=***; "***"; k9zebra');
  });
});

describe('shared secrets are long enough', () => {
  it.each([
    ['RELAY_HMAC_SECRET', 'relay.hmacSecret', { RELAY_TARGET: 'https://fn.example/x' }],
    ['SEND_TOKEN', 'send.token', {}],
  ])('%s shorter than 32 bytes is refused with how to generate one', (variable, key, extra) => {
    const issues = configIssues(() => loadConfig({ ...extra, [variable]: 'x'.repeat(31) }));
    expect(issues).toEqual([
      expect.stringContaining(
        `\`dingtalkChannel.${key}\` (from ${variable}) must be at least 32 bytes; got 31 (value hidden)`,
      ),
    ]);
    expect(issues[0]).toContain('openssl rand -hex 32');
    expect(issues[0]).not.toContain('x'.repeat(31));
    expect(() => loadConfig({ ...extra, [variable]: HMAC })).not.toThrow();
  });

  it('counts bytes, not characters', () => {
    // 11 three-byte characters = 33 bytes.
    expect(loadConfig({ SEND_TOKEN: '钉'.repeat(11) }).settings.send.token).toBe('钉'.repeat(11));
  });
});
