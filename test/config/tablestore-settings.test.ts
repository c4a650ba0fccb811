import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config/index.js';
import { stateStoreOptions } from '../../lib/state/options.js';
import { configIssues } from './support.js';

const complete = {
  STATE_BACKEND: 'tablestore',
  TABLESTORE_ENDPOINT: 'https://myinst.cn-hangzhou.ots.aliyuncs.com',
  TABLESTORE_INSTANCE: 'myinst',
  ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAI5tExampleId',
  ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'example-secret-value-123',
};

describe('STATE_BACKEND=tablestore settings', () => {
  it('builds the store options from the env, with a Tablestore-legal default table', () => {
    const { settings } = loadConfig({ ...complete, ALIBABA_CLOUD_SECURITY_TOKEN: 'sts-token-xyz' });
    expect(settings.state.backend).toBe('tablestore');
    expect(stateStoreOptions(settings)).toMatchObject({
      backend: 'tablestore',
      tableName: 'dingtalk_channel_state',
      tablestore: {
        endpoint: complete.TABLESTORE_ENDPOINT,
        instance: 'myinst',
        accessKeyId: complete.ALIBABA_CLOUD_ACCESS_KEY_ID,
        accessKeySecret: complete.ALIBABA_CLOUD_ACCESS_KEY_SECRET,
        securityToken: 'sts-token-xyz',
      },
    });
    expect(loadConfig({ ...complete, STATE_TABLE: 'my_state' }).settings.state.table).toBe(
      'my_state',
    );
  });

  it('names each missing key at load, and never shows the secret', () => {
    const issues = configIssues(() =>
      loadConfig({
        STATE_BACKEND: 'tablestore',
        ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'hidden-secret-1',
      }),
    );
    const text = issues.join('\n');
    expect(text).toContain('TABLESTORE_ENDPOINT');
    expect(text).toContain('TABLESTORE_INSTANCE');
    expect(text).toContain('ALIBABA_CLOUD_ACCESS_KEY_ID');
    expect(text).not.toContain('hidden-secret-1');
  });

  it('refuses a table name Tablestore cannot hold', () => {
    const text = configIssues(() => loadConfig({ ...complete, STATE_TABLE: 'with-dash' })).join(
      '\n',
    );
    expect(text).toContain('STATE_TABLE');
    expect(text).toContain('"with-dash"');
  });
});
