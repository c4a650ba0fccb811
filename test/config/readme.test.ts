import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { describeConfig, README_PATH, readmeTable } from '../../lib/config/docs-table.js';

describe('README configuration table', () => {
  it('matches the schema (regenerate: npx tsx lib/config/docs-table.ts --write)', () => {
    const readme = readFileSync(README_PATH, 'utf8');
    const table = readmeTable(readme);
    expect(table, 'README is missing the config-table markers').toBeDefined();
    expect(table).toBe(describeConfig());
  });

  it('documents every channels.dingtalk key of §1 and every required variable', () => {
    const table = describeConfig();
    const keys = [
      'enabled',
      'clientId',
      'clientSecret',
      'dm.policy',
      'dm.allowFrom',
      'groupPolicy',
      'groups',
      'groups.<id>.requireMention',
      'groups.<id>.users',
      'groups.<id>.tools.allow',
      'groups.<id>.tools.deny',
      'groups.<id>.systemPrompt',
      'groups.<id>.enabled',
      'requireMention',
      'mentionPatterns',
      'textChunkLimit',
      'chunkMode',
      'responsePrefix',
      'isolateContextPerUserInGroup',
      'accounts',
      'defaultAccount',
    ];
    for (const key of keys) expect(table).toContain(`| \`${key}\` |`);
    const variables = [
      'DINGTALK_CLIENT_ID',
      'DINGTALK_CLIENT_SECRET_FILE',
      'DINGTALK_DM_POLICY',
      'DINGTALK_DM_ALLOW_FROM',
      'DINGTALK_GROUP_POLICY',
      'DINGTALK_REQUIRE_MENTION',
      'DINGTALK_TEXT_CHUNK_LIMIT',
      'AGENT',
      'AGENT_BASE_URL',
      'AGENT_API_KEY_FILE',
      'AGENT_MODEL',
      'AGENT_SYSTEM_PROMPT',
      'AGENT_TIMEOUT_MS',
      'AGENT_MAX_HISTORY_TURNS',
      'AGENT_MAX_HISTORY_CHARS',
      'AGENT_PROTOCOL',
      'AGENT_VISION',
      'AGENT_HTTP_URL',
      'AGENT_HTTP_TOKEN',
      'STATE_BACKEND',
      'STATE_TABLE',
      'AWS_REGION',
      'DYNAMODB_ENDPOINT',
      'STATE_DIR',
      'DINGTALK_GATEWAY_URL',
      'DINGTALK_API_BASE',
      'DINGTALK_OAPI_BASE',
      'RELAY_TARGET',
      'RELAY_HMAC_SECRET_FILE',
      'RELAY_MAX_INFLIGHT',
      'RELAY_HANDOFF_RETRY_MS',
      'PORT',
      'DINGTALK_SIMULATOR_PORT',
      'FC_ENDPOINT',
      'FC_ACCOUNT_ID',
      'FC_REGION',
      'ALIBABA_CLOUD_ACCESS_KEY_ID',
      'ALIBABA_CLOUD_ACCESS_KEY_SECRET',
      'SEND_TOKEN_FILE',
      'LOG_LEVEL',
    ];
    for (const variable of variables) expect(table).toContain(`\`${variable}\``);
  });
});
