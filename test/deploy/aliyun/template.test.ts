/**
 * The ROS template the `aliyun` provider compiles (infra/aliyun/plugin/template/): every
 * property that carries a guarantee, asserted on the compiler's output for the defaults of
 * serverless.aliyun.yml. deploy.test.ts checks that the packaged file is this compiler's.
 */
import { describe, expect, it } from 'vitest';
import type { FunctionArtifact, FunctionName } from '../../../infra/aliyun/plugin/artifacts.js';
import { DEFAULT_RELAY_NODE_FLAGS, readStackInput } from '../../../infra/aliyun/plugin/schema.js';
import { compileTemplate } from '../../../infra/aliyun/plugin/template/index.js';
import { STATE_ROW_ACTIONS } from '../../../infra/aliyun/plugin/template/roles.js';
import { describeConfig } from '../../../lib/config/docs-table.js';

const artifact = (name: FunctionName): FunctionArtifact => ({
  name,
  file: `/tmp/${name}.zip`,
  sha256: `${name}0123456789abcdef`.padEnd(64, '0'),
  bytes: 1,
  objectKey: `dingtalk-channel/prod/${name}-${name}0123456789ab.zip`,
});

const artifacts = {
  message: artifact('message'),
  send: artifact('send'),
  relay: artifact('relay'),
};

const input = readStackInput(
  {
    service: 'dingtalk-channel',
    provider: { environment: { AGENT: 'echo', LOG_LEVEL: 'info' } },
    functions: {
      message: { handler: 'functions/message/fc.handler' },
      send: { handler: 'functions/send/fc.handler' },
      relay: { handler: 'infra/relay/main.handler', replicas: 2 },
    },
  },
  'prod',
  'cn-hangzhou',
);
const template = compileTemplate(input, artifacts);
// biome-ignore lint/suspicious/noExplicitAny: template properties are untyped JSON, read in assertions
type Props = Record<string, any>;
const props = (id: string): Props => {
  const resource = template.Resources[id];
  if (!resource) throw new Error(`no resource ${id}`);
  return resource.Properties as Props;
};
const policy = (roleId: string) =>
  props(roleId).Policies[0].PolicyDocument.Statement as { Action: string[]; Resource: unknown[] }[];
const actionsOf = (roleId: string) => policy(roleId).flatMap((s) => s.Action);

describe('ROS template: the message function', () => {
  it('is nodejs20 with the content-hashed package from the code bucket', () => {
    const fn = props('MessageFunction');
    expect(fn.Runtime).toBe('nodejs20');
    expect(fn.Handler).toBe('index.handler');
    expect(fn.Code).toEqual({
      OssBucketName: { Ref: 'CodeBucket' },
      OssObjectName: artifacts.message.objectKey,
    });
  });

  it('bounds async retries and event age, and keeps failed events in an MNS queue', () => {
    const config = props('MessageAsyncConfig');
    expect(template.Resources.MessageAsyncConfig?.Type).toBe('ALIYUN::FC3::AsyncInvokeConfig');
    expect(config.FunctionName).toEqual({ 'Fn::GetAtt': ['MessageFunction', 'FunctionName'] });
    expect(config.MaxAsyncRetryAttempts).toBe(2);
    expect(config.MaxAsyncEventAgeInSeconds).toBe(900);
    // Async tasks on: the relay's x-fc-async-task-id dedups a second enqueue.
    expect(config.AsyncTask).toBe(true);
    const queue = props('MessageFailureQueue');
    expect(config.DestinationConfig.OnFailure.Destination).toEqual({
      'Fn::Sub': `acs:mns:\${ALIYUN::Region}:\${ALIYUN::AccountId}:/queues/${queue.QueueName}/messages`,
    });
    expect(queue.MessageRetentionPeriod).toBe(604800);
  });

  it('gets the Tablestore settings the state adapter reads', () => {
    const env = props('MessageFunction').EnvironmentVariables;
    expect(env.STATE_BACKEND).toBe('tablestore');
    expect(env.TABLESTORE_INSTANCE).toBe(input.state.instanceName);
    expect(env.STATE_TABLE).toBe(input.state.tableName);
    expect(env.TABLESTORE_ENDPOINT).toEqual({
      'Fn::Sub': `https://${input.state.instanceName}.\${ALIYUN::Region}.ots.aliyuncs.com`,
    });
  });
});

describe('ROS template: the relay', () => {
  it('runs the relay bundle with the Node 20 of custom.debian10, on the health-checked port', () => {
    const fn = props('RelayFunction');
    expect(fn.Runtime).toBe('custom.debian10');
    expect(fn.Code.OssObjectName).toBe(artifacts.relay.objectKey);
    expect(fn.CustomRuntimeConfig.Command).toEqual(['/var/fc/lang/nodejs20/bin/node']);
    expect(fn.CustomRuntimeConfig.Args).toEqual([...DEFAULT_RELAY_NODE_FLAGS, '/code/fc-main.mjs']);
    expect(fn.CustomRuntimeConfig.Port).toBe(9000);
    expect(fn.EnvironmentVariables.PORT).toBe('9000');
    expect(fn.CustomRuntimeConfig.HealthCheckConfig.HttpGetUrl).toBe('/healthz');
    expect(fn.Cpu).toBe(0.05);
    expect(fn.MemorySize).toBe(128);
  });

  it('hands messages to the message function through FC 3.0 async invoke', () => {
    const env = props('RelayFunction').EnvironmentVariables;
    expect(env.RELAY_TARGET).toBe(`fc:${props('MessageFunction').FunctionName}`);
    // FC sets FC_ACCOUNT_ID / FC_REGION itself (the forwarder's endpoint); a function may not.
    expect(Object.keys(env).filter((k) => k.startsWith('FC_'))).toEqual([]);
  });

  it('has one always-allocated provisioned instance per replica and the same reserved concurrency', () => {
    const provision = props('RelayProvision');
    expect(template.Resources.RelayProvision?.Type).toBe('ALIYUN::FC3::ProvisionConfig');
    expect(provision.FunctionName).toEqual({ 'Fn::GetAtt': ['RelayFunction', 'FunctionName'] });
    expect(provision.AlwaysAllocateCPU).toBe(true);
    expect(provision.DefaultTarget).toBe(2);
    const concurrency = props('RelayConcurrency');
    expect(template.Resources.RelayConcurrency?.Type).toBe('ALIYUN::FC3::ConcurrencyConfig');
    expect(concurrency.ReservedConcurrency).toBe(2);
  });
});

describe('ROS template: the send function', () => {
  it('has an HTTP trigger for POST; the bearer token is checked by the function', () => {
    const trigger = props('SendTrigger');
    expect(trigger.TriggerType).toBe('http');
    expect(trigger.FunctionName).toEqual({ 'Fn::GetAtt': ['SendFunction', 'FunctionName'] });
    expect(trigger.TriggerConfig).toEqual({
      authType: 'anonymous',
      methods: ['POST'],
      disableURLInternet: false,
    });
    expect(template.Outputs.SendUrl?.Value).toEqual({
      'Fn::GetAtt': ['SendTrigger', 'UrlInternet'],
    });
  });
});

describe('ROS template: roles', () => {
  it('gives each function its own role, trusted by FC only', () => {
    const roles = ['MessageFunction', 'SendFunction', 'RelayFunction'].map((id) => props(id).Role);
    expect(roles).toEqual([
      { 'Fn::GetAtt': ['MessageRole', 'Arn'] },
      { 'Fn::GetAtt': ['SendRole', 'Arn'] },
      { 'Fn::GetAtt': ['RelayRole', 'Arn'] },
    ]);
    for (const id of ['MessageRole', 'SendRole', 'RelayRole']) {
      expect(props(id).AssumeRolePolicyDocument.Statement).toEqual([
        { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: ['fc.aliyuncs.com'] } },
      ]);
    }
  });

  it('lets the relay invoke the message function and nothing else but its logs', () => {
    expect(actionsOf('RelayRole').sort()).toEqual(['fc:InvokeFunction', 'log:PostLogStoreLogs']);
    const invoke = policy('RelayRole').find((s) => s.Action.includes('fc:InvokeFunction'));
    expect(invoke?.Resource).toEqual([
      {
        'Fn::Sub': `acs:fc:\${ALIYUN::Region}:\${ALIYUN::AccountId}:functions/${props('MessageFunction').FunctionName}`,
      },
    ]);
  });

  it('gives the send function no Tablestore action at all (it cannot write the allowlist)', () => {
    expect(actionsOf('SendRole')).toEqual(['log:PostLogStoreLogs']);
    expect(Object.keys(props('SendFunction').EnvironmentVariables)).not.toContain('STATE_TABLE');
  });

  it('scopes the message function to row operations on its one table and its failure queue', () => {
    const rows = policy('MessageRole').find((s) => s.Action.includes('ots:PutRow'));
    expect(rows?.Action).toEqual(STATE_ROW_ACTIONS);
    expect(rows?.Action.some((a) => /Table$|Instance|\*/.test(a))).toBe(false);
    expect(rows?.Resource).toEqual([
      {
        'Fn::Sub': `acs:ots:\${ALIYUN::Region}:\${ALIYUN::AccountId}:instance/${input.state.instanceName}/table/${input.state.tableName}`,
      },
    ]);
    expect(actionsOf('MessageRole').sort()).toEqual(
      [...STATE_ROW_ACTIONS, 'log:PostLogStoreLogs', 'mns:SendMessage'].sort(),
    );
  });
});

describe('ROS template: state and logs', () => {
  it('creates the Tablestore table with pk/sk STRING and no table-wide TTL', () => {
    const table = props('StateTable');
    expect(table.PrimaryKey).toEqual([
      { Name: 'pk', Type: 'STRING' },
      { Name: 'sk', Type: 'STRING' },
    ]);
    expect(table.InstanceName).toEqual({ 'Fn::GetAtt': ['StateInstance', 'InstanceName'] });
    // TTL is per table in Tablestore: -1 so the pairing allowlist never expires.
    expect(table.TimeToLive).toBe(-1);
    expect(table.MaxVersions).toBe(1);
  });

  it("sends every function's logs to the stack's SLS logstore", () => {
    expect(props('LogStore').ProjectName).toEqual({ 'Fn::GetAtt': ['LogProject', 'Name'] });
    expect(props('LogStore').TTL).toBe(30);
    for (const id of ['MessageFunction', 'SendFunction', 'RelayFunction']) {
      expect(props(id).LogConfig).toMatchObject({
        Project: { 'Fn::GetAtt': ['LogProject', 'Name'] },
        Logstore: { 'Fn::GetAtt': ['LogStore', 'LogstoreName'] },
      });
    }
  });
});

describe('ROS template: secrets', () => {
  const secretEnv = [
    ...describeConfig().matchAll(/^\| `[^`]+` \| `([A-Z0-9_]+)`[^\n]*\*\*Secret\.\*\*/gm),
  ].map((m) => m[1] as string);

  it('reads DINGTALK_CONFIG from the OOS encrypted parameter at deploy time', () => {
    expect(template.Resources.ConfigSecret).toEqual({
      Type: 'DATASOURCE::OOS::SecretParameter',
      Properties: { SecretParameterName: { Ref: 'ConfigSecretName' }, RefreshOptions: 'Always' },
    });
    expect(template.Parameters.ConfigSecretName?.Default).toBe('dingtalk-channel-prod');
    for (const id of ['MessageFunction', 'SendFunction', 'RelayFunction']) {
      expect(props(id).EnvironmentVariables.DINGTALK_CONFIG).toEqual({
        'Fn::GetAtt': ['ConfigSecret', 'Value'],
      });
    }
  });

  it('uses only environment keys FC accepts (letters, digits, _; no reserved FC_ prefix)', () => {
    for (const id of ['MessageFunction', 'SendFunction', 'RelayFunction']) {
      for (const key of Object.keys(props(id).EnvironmentVariables)) {
        expect(key).toMatch(/^[A-Za-z][A-Za-z0-9_]*$/);
        expect(key.startsWith('FC_')).toBe(false);
      }
    }
  });

  it('sets no secret setting as a plain environment variable anywhere', () => {
    expect(secretEnv).toEqual(
      expect.arrayContaining([
        'SEND_TOKEN',
        'RELAY_HMAC_SECRET',
        'ALIBABA_CLOUD_ACCESS_KEY_SECRET',
      ]),
    );
    for (const id of ['MessageFunction', 'SendFunction', 'RelayFunction']) {
      const names = Object.keys(props(id).EnvironmentVariables);
      expect(names.filter((n) => secretEnv.includes(n))).toEqual([]);
    }
  });
});

describe('ROS template: the quick-start configuration (configSource: env)', () => {
  const quick = compileTemplate({ ...input, configSource: 'env' }, artifacts);

  it('takes DINGTALK_CONFIG from a NoEcho parameter and reads no OOS parameter', () => {
    expect(quick.Parameters.DingtalkConfig).toMatchObject({ Type: 'String', NoEcho: true });
    expect(quick.Parameters.DingtalkConfig?.Default).toBeUndefined();
    expect(quick.Resources.ConfigSecret).toBeUndefined();
    expect(quick.Parameters.ConfigSecretName).toBeUndefined();
    for (const id of ['MessageFunction', 'SendFunction', 'RelayFunction']) {
      const env = (quick.Resources[id]!.Properties as Props).EnvironmentVariables;
      expect(env.DINGTALK_CONFIG).toEqual({ Ref: 'DingtalkConfig' });
    }
  });
});
