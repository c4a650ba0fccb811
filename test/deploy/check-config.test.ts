/** The pre-deploy check of the config secret (infra/scripts/check-config.ts). */
import { describe, expect, it } from 'vitest';
import { checkDeployConfig, MAX_CONFIG_BYTES, paramsOf } from '../../infra/scripts/check-config.js';

const SECRET = 'deploy-check-client-secret';
const valid = JSON.stringify({
  channels: { dingtalk: { clientId: 'dingdeploy', clientSecret: SECRET } },
  dingtalkChannel: { send: { token: 'send-token-value-0123456789abcdef0123' } },
});

describe('checkDeployConfig', () => {
  it('accepts a complete config secret', () => {
    expect(checkDeployConfig({ DINGTALK_CONFIG: valid }, [])).toEqual([]);
  });

  it('names the missing credential without printing the secret', () => {
    const issues = checkDeployConfig(
      { DINGTALK_CONFIG: JSON.stringify({ clientSecret: SECRET }) },
      [],
    );
    expect(issues.join('\n')).toContain('DINGTALK_CLIENT_ID');
    expect(issues.join('\n')).not.toContain(SECRET);
  });

  it('validates with the agent settings given as --param, as the deployed functions get them', () => {
    const args = ['--param=agent=openai', '--stage', 'prod'];
    expect(checkDeployConfig({ DINGTALK_CONFIG: valid }, args).join('\n')).toContain(
      'AGENT_BASE_URL',
    );
    const complete = [
      ...args,
      '--param',
      'agentBaseUrl=https://api.example.com/v1',
      '--param=agentModel=gpt-4o-mini',
    ];
    expect(checkDeployConfig({ DINGTALK_CONFIG: valid }, complete)).toEqual([]);
  });

  it('refuses a secret too large for Secrets Manager', () => {
    const big = JSON.stringify({
      channels: { dingtalk: { clientId: 'a', clientSecret: 'b' } },
      dingtalkChannel: { agent: { systemPrompt: 'x'.repeat(MAX_CONFIG_BYTES) } },
    });
    expect(checkDeployConfig({ DINGTALK_CONFIG: big }, [])[0]).toMatch(/64 KB/);
  });
});

describe('paramsOf', () => {
  it('reads both --param forms and keeps "=" inside values', () => {
    expect(paramsOf(['--param=a=1', '--param', 'b=x=y', '--param', '--verbose', 'c=3'])).toEqual({
      a: '1',
      b: 'x=y',
    });
  });
});
