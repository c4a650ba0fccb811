import { describe, expect, it } from 'vitest';
import { loadConfig, parseRelayTarget } from '../../lib/config/index.js';
import {
  DEFAULT_API_BASE,
  DEFAULT_GATEWAY_URL,
  DEFAULT_OAPI_BASE,
} from '../../lib/dingtalk/payload.js';
import { configIssues, issueAbout } from './support.js';

describe('project settings (dingtalkChannel)', () => {
  it('defaults', () => {
    expect(loadConfig({}).settings).toEqual({
      agent: {
        kind: 'echo',
        timeoutMs: 60000,
        maxHistoryTurns: 20,
        maxHistoryChars: 24000,
        protocol: 'openai',
        vision: false,
        maxMediaDownloads: 4,
        mediaConcurrency: 2,
        maxMediaFileBytes: 10485760,
        maxMediaMessageBytes: 20971520,
        mediaFiles: 'reference',
        maxFileTextChars: 20000,
        httpKeepsHistory: false,
      },
      state: { backend: 'local', table: 'dingtalk-channel-state', dir: '.data' },
      dingtalk: {
        gatewayUrl: DEFAULT_GATEWAY_URL,
        apiBase: DEFAULT_API_BASE,
        oapiBase: DEFAULT_OAPI_BASE,
      },
      relay: {
        target: 'inprocess',
        maxInflight: 64,
        maxWaiting: 1024,
        handoffRetryMs: 30000,
        cardSweepMs: 60000,
      },
      server: { port: 8080, host: '127.0.0.1' },
      simulator: { port: 0 },
      fc: {},
      send: {},
      log: { level: 'info' },
    });
  });

  it('reads every variable with its type', () => {
    const { settings } = loadConfig({
      AGENT: 'openai',
      AGENT_BASE_URL: 'http://127.0.0.1:11434/v1',
      AGENT_API_KEY: 'sk-test-key',
      AGENT_MODEL: 'qwen-plus',
      AGENT_SYSTEM_PROMPT: 'Be brief.',
      AGENT_TIMEOUT_MS: '1500',
      AGENT_MAX_HISTORY_TURNS: '0',
      AGENT_MAX_HISTORY_CHARS: '100',
      AGENT_PROTOCOL: 'openclaw',
      AGENT_VISION: 'yes',
      AGENT_HTTP_URL: 'https://agent.example/hook',
      AGENT_HTTP_TOKEN: 'tok-http-1',
      AGENT_HTTP_KEEPS_HISTORY: 'on',
      STATE_BACKEND: 'memory',
      STATE_TABLE: 'tbl1',
      AWS_REGION: 'eu-west-1',
      DYNAMODB_ENDPOINT: 'http://127.0.0.1:4567',
      STATE_DIR: '/var/lib/x',
      DINGTALK_GATEWAY_URL: 'http://127.0.0.1:9000/v1.0/gateway/connections/open',
      DINGTALK_API_BASE: 'http://127.0.0.1:9000',
      DINGTALK_OAPI_BASE: 'http://127.0.0.1:9001',
      RELAY_TARGET: 'fc2:svc/handler',
      RELAY_HMAC_SECRET: 'hmac-secret-0123456789abcdef0123456789',
      RELAY_MAX_INFLIGHT: '8',
      RELAY_MAX_WAITING: '100',
      RELAY_HANDOFF_RETRY_MS: '0',
      RELAY_CARD_SWEEP_MS: '5000',
      PORT: '0',
      DINGTALK_SIMULATOR_PORT: '3999',
      FC_ENDPOINT: 'http://127.0.0.1:9100',
      FC_ACCOUNT_ID: '123',
      FC_REGION: 'cn-hangzhou',
      ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAIid',
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'ak-secret-1',
      ALIBABA_CLOUD_SECURITY_TOKEN: 'sts-token-1',
      SEND_TOKEN: 'send-token-0123456789abcdef0123456789',
      LOG_LEVEL: 'debug',
    });
    expect(settings.agent).toEqual({
      kind: 'openai',
      baseUrl: 'http://127.0.0.1:11434/v1',
      apiKey: 'sk-test-key',
      model: 'qwen-plus',
      systemPrompt: 'Be brief.',
      timeoutMs: 1500,
      maxHistoryTurns: 0,
      maxHistoryChars: 100,
      protocol: 'openclaw',
      vision: true,
      httpUrl: 'https://agent.example/hook',
      httpToken: 'tok-http-1',
      maxMediaDownloads: 4,
      mediaConcurrency: 2,
      maxMediaFileBytes: 10485760,
      maxMediaMessageBytes: 20971520,
      mediaFiles: 'reference',
      maxFileTextChars: 20000,
      httpKeepsHistory: true,
    });
    expect(settings.state).toEqual({
      backend: 'memory',
      table: 'tbl1',
      region: 'eu-west-1',
      dynamodbEndpoint: 'http://127.0.0.1:4567',
      dir: '/var/lib/x',
    });
    expect(settings.dingtalk.apiBase).toBe('http://127.0.0.1:9000');
    expect(settings.relay).toEqual({
      target: 'fc2:svc/handler',
      hmacSecret: 'hmac-secret-0123456789abcdef0123456789',
      maxInflight: 8,
      maxWaiting: 100,
      handoffRetryMs: 0,
      cardSweepMs: 5000,
    });
    expect(settings.server.port).toBe(0);
    expect(settings.simulator.port).toBe(3999);
    expect(settings.fc).toEqual({
      endpoint: 'http://127.0.0.1:9100',
      accountId: '123',
      region: 'cn-hangzhou',
      accessKeyId: 'LTAIid',
      accessKeySecret: 'ak-secret-1',
      securityToken: 'sts-token-1',
    });
    expect(settings.send.token).toBe('send-token-0123456789abcdef0123456789');
    expect(settings.log.level).toBe('debug');
  });

  it('STATE_BACKEND defaults to embedded, or dynamodb when STATE_TABLE is set', () => {
    expect(loadConfig({}).settings.state.backend).toBe('local');
    expect(loadConfig({ STATE_TABLE: 'prod-state' }).settings.state.backend).toBe('dynamodb');
    expect(
      loadConfig({ DINGTALK_CONFIG: '{ dingtalkChannel: { state: { table: "tbl" } } }' }).settings
        .state.backend,
    ).toBe('dynamodb');
    expect(
      loadConfig({ STATE_TABLE: 'tbl', STATE_BACKEND: 'embedded' }).settings.state.backend,
    ).toBe('embedded');
  });

  it('AGENT=openai without a base URL is an error naming AGENT_BASE_URL', () => {
    expect(configIssues(() => loadConfig({ AGENT: 'openai' }))).toEqual([
      '`dingtalkChannel.agent.baseUrl` (not set; env AGENT_BASE_URL) is required when `dingtalkChannel.agent.kind` (from AGENT) is "openai" (e.g. https://api.openai.com/v1)',
      '`dingtalkChannel.agent.model` (not set; env AGENT_MODEL) is required when `dingtalkChannel.agent.kind` (from AGENT) is "openai" (e.g. gpt-4o-mini, qwen-plus)',
    ]);
  });

  it('AGENT=http without a webhook URL is an error naming AGENT_HTTP_URL', () => {
    expect(configIssues(() => loadConfig({ AGENT: 'http' }))).toEqual([
      '`dingtalkChannel.agent.httpUrl` (not set; env AGENT_HTTP_URL) is required when `dingtalkChannel.agent.kind` (from AGENT) is "http"',
    ]);
  });

  it('URLs must be http(s)', () => {
    const issues = configIssues(() =>
      loadConfig({ AGENT_BASE_URL: 'ftp://x', DINGTALK_API_BASE: 'not a url' }),
    );
    expect(issueAbout(issues, 'baseUrl')).toBe(
      '`dingtalkChannel.agent.baseUrl` (from AGENT_BASE_URL) must be an http:// or https:// URL; got "ftp://x"',
    );
    expect(issueAbout(issues, 'apiBase')).toContain(
      '(from DINGTALK_API_BASE) must be an http:// or https:// URL',
    );
  });

  it('RELAY_TARGET: every documented form parses; others are errors naming the forms', () => {
    expect(parseRelayTarget('inprocess')).toEqual({ kind: 'inprocess' });
    expect(parseRelayTarget('https://fn.example/x')).toEqual({
      kind: 'http',
      url: 'https://fn.example/x',
    });
    expect(parseRelayTarget('lambda:dingtalk-prod-message')).toEqual({
      kind: 'lambda',
      functionName: 'dingtalk-prod-message',
    });
    expect(parseRelayTarget('lambda:arn:aws:lambda:us-east-1:123456789012:function:f')).toEqual({
      kind: 'lambda',
      functionName: 'arn:aws:lambda:us-east-1:123456789012:function:f',
    });
    expect(parseRelayTarget('fc:handler')).toEqual({ kind: 'fc', functionName: 'handler' });
    expect(parseRelayTarget('fc2:svc/fn')).toEqual({
      kind: 'fc2',
      serviceName: 'svc',
      functionName: 'fn',
    });
    for (const bad of [
      '',
      'lambda:',
      'fc:',
      'fc2:svc',
      'fc2:/fn',
      'sqs:q',
      'ftp://x',
      'http://',
      'fc:a b',
    ]) {
      expect(parseRelayTarget(bad), bad).toBeUndefined();
    }
    expect(configIssues(() => loadConfig({ RELAY_TARGET: 'sqs:queue' }))).toEqual([
      '`dingtalkChannel.relay.target` (from RELAY_TARGET) must be inprocess, an http(s):// URL, lambda:<function>, fc:<function> or fc2:<service>/<function>; got "sqs:queue"',
    ]);
  });

  it('an http(s) relay target needs RELAY_HMAC_SECRET', () => {
    expect(configIssues(() => loadConfig({ RELAY_TARGET: 'https://fn.example/x' }))).toEqual([
      '`dingtalkChannel.relay.hmacSecret` (not set; env RELAY_HMAC_SECRET) is required when `dingtalkChannel.relay.target` (from RELAY_TARGET) is "https://fn.example/x" (the receiver verifies the signature)',
    ]);
    const ok = loadConfig({
      RELAY_TARGET: 'https://fn.example/x',
      RELAY_HMAC_SECRET: 'hmac-secret-0123456789abcdef0123456789',
    });
    expect(ok.settings.relay.hmacSecret).toBe('hmac-secret-0123456789abcdef0123456789');
  });

  it('an FC target needs FC_ENDPOINT or FC_ACCOUNT_ID + FC_REGION', () => {
    const issues = configIssues(() =>
      loadConfig({ RELAY_TARGET: 'fc:handler', FC_REGION: 'cn-hangzhou' }),
    );
    expect(issues).toEqual([
      '`dingtalkChannel.fc.endpoint` (not set; env FC_ENDPOINT) is required when `dingtalkChannel.relay.target` (from RELAY_TARGET) is "fc:handler", unless FC_ACCOUNT_ID and FC_REGION are both set',
    ]);
    expect(() =>
      loadConfig({ RELAY_TARGET: 'fc:h', FC_ACCOUNT_ID: '1', FC_REGION: 'cn-hangzhou' }),
    ).not.toThrow();
    expect(() =>
      loadConfig({ RELAY_TARGET: 'fc2:s/h', FC_ENDPOINT: '1.cn-hangzhou.fc.aliyuncs.com' }),
    ).not.toThrow();
    expect(configIssues(() => loadConfig({ FC_ENDPOINT: 'http://x/path' }))[0]).toContain(
      'must be a host or http(s):// URL without a path',
    );
  });

  it('ports: 0..65535', () => {
    expect(configIssues(() => loadConfig({ PORT: '70000' }))).toEqual([
      '`dingtalkChannel.server.port` (from PORT) must be an integer in 0..65535; got 70000',
    ]);
    expect(configIssues(() => loadConfig({ DINGTALK_SIMULATOR_PORT: '-1' }))).toEqual([
      '`dingtalkChannel.simulator.port` (from DINGTALK_SIMULATOR_PORT) must be an integer in 0..65535; got -1',
    ]);
  });

  it('a bad number names the variable; a missing variable never reports "must be"', () => {
    expect(configIssues(() => loadConfig({ AGENT_TIMEOUT_MS: 'abc' }))).toEqual([
      '`dingtalkChannel.agent.timeoutMs` (from AGENT_TIMEOUT_MS) must be an integer >= 1; got "abc"',
    ]);
    expect(configIssues(() => loadConfig({ RELAY_MAX_INFLIGHT: '0' }))).toEqual([
      '`dingtalkChannel.relay.maxInflight` (from RELAY_MAX_INFLIGHT) must be an integer >= 1; got 0',
    ]);
    const { settings } = loadConfig({ AGENT_TIMEOUT_MS: undefined, RELAY_MAX_INFLIGHT: '' });
    expect(settings.agent.timeoutMs).toBe(60000);
    expect(settings.relay.maxInflight).toBe(64);
  });

  it('AGENT_VISION and LOG_LEVEL are checked', () => {
    const issues = configIssues(() =>
      loadConfig({ AGENT_VISION: 'sometimes', LOG_LEVEL: 'verbose' }),
    );
    expect(issues).toEqual([
      '`dingtalkChannel.agent.vision` (from AGENT_VISION) must be true or false (also 1/0, yes/no, on/off); got "sometimes"',
      '`dingtalkChannel.log.level` (from LOG_LEVEL) must be one of debug, info, warn, error, silent; got "verbose"',
    ]);
  });
});
