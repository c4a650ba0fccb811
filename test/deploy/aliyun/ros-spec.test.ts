/**
 * The template against ROS's own resource reference: every property the compiler writes for
 * these types is one ROS documents, every required one is there, and every Fn::GetAtt names a
 * documented attribute. The lists are copied from the ROS developer reference pages cited
 * (checked 2026-12); types whose page was not checked are not listed (README: what needs an
 * account).
 */
import { describe, expect, it } from 'vitest';
import type { FunctionArtifact, FunctionName } from '../../../infra/aliyun/plugin/artifacts.js';
import { readStackInput } from '../../../infra/aliyun/plugin/schema.js';
import { compileTemplate } from '../../../infra/aliyun/plugin/template/index.js';

interface Spec {
  page: string;
  properties: string[];
  required: string[];
  attributes: string[];
}

const SPECS: Record<string, Spec> = {
  'ALIYUN::FC3::Function': {
    page: 'https://www.alibabacloud.com/help/en/ros/developer-reference/aliyun-fc3-function',
    properties: [
      'FunctionName',
      'Handler',
      'Runtime',
      'Cpu',
      'CustomContainerConfig',
      'Code',
      'CustomRuntimeConfig',
      'CustomDns',
      'Description',
      'DiskSize',
      'EnvironmentVariables',
      'GpuConfig',
      'InstanceLifecycleConfig',
      'InternetAccess',
      'InstanceConcurrency',
      'Layers',
      'LogConfig',
      'MemorySize',
      'NasConfig',
      'OssMountConfig',
      'Role',
      'TracingConfig',
      'Timeout',
      'VpcConfig',
      'DisableOndemand',
      'SessionAffinityConfig',
      'InstanceIsolationMode',
      'SessionAffinity',
      'Tags',
    ],
    required: ['FunctionName', 'Handler', 'Runtime'],
    attributes: ['ARN', 'FunctionName'],
  },
  'ALIYUN::FC3::AsyncInvokeConfig': {
    page: 'https://www.alibabacloud.com/help/en/ros/developer-reference/aliyun-fc3-asyncinvokeconfig',
    properties: [
      'FunctionName',
      'AsyncTask',
      'DestinationConfig',
      'MaxAsyncEventAgeInSeconds',
      'MaxAsyncRetryAttempts',
    ],
    required: ['FunctionName'],
    attributes: [],
  },
  'ALIYUN::FC3::ProvisionConfig': {
    page: 'https://www.alibabacloud.com/help/en/ros/developer-reference/aliyun-fc3-provisionconfig',
    properties: [
      'DefaultTarget',
      'FunctionName',
      'AlwaysAllocateCPU',
      'AlwaysAllocateGPU',
      'Qualifier',
      'ScheduledActions',
      'TargetTrackingPolicies',
    ],
    required: ['DefaultTarget', 'FunctionName'],
    attributes: [],
  },
  'ALIYUN::FC3::Trigger': {
    page: 'https://www.alibabacloud.com/help/en/ros/developer-reference/aliyun-fc3-trigger',
    properties: [
      'FunctionName',
      'TriggerType',
      'TriggerName',
      'TriggerConfig',
      'Description',
      'InvocationRole',
      'Qualifier',
      'SourceArn',
    ],
    required: ['FunctionName', 'TriggerType', 'TriggerName', 'TriggerConfig'],
    attributes: ['FunctionName', 'UrlIntranet', 'TriggerName', 'TriggerId', 'UrlInternet'],
  },
  'ALIYUN::OTS::Table': {
    page: 'https://www.alibabacloud.com/help/en/ros/developer-reference/aliyun-ots-table',
    properties: [
      'ReservedThroughput',
      'MaxVersions',
      'TableName',
      'SecondaryIndices',
      'DeviationCellVersionInSec',
      'TimeToLive',
      'InstanceName',
      'PrimaryKey',
      'Columns',
    ],
    required: ['TableName', 'InstanceName', 'PrimaryKey'],
    attributes: [],
  },
  'DATASOURCE::OOS::SecretParameter': {
    page: 'https://www.alibabacloud.com/help/en/ros/developer-reference/datasource-oos-secretparameter',
    properties: ['SecretParameterName', 'RefreshOptions'],
    required: ['SecretParameterName'],
    attributes: [
      'Description',
      'CreatedBy',
      'ResourceGroupId',
      'SecretParameterName',
      'UpdatedDate',
      'CreateTime',
      'KeyId',
      'SecretParameterId',
      'UpdatedBy',
      'Type',
      'Constraints',
      'ParameterVersion',
      'Value',
      'Tags',
      'ShareType',
    ],
  },
};

const artifact = (name: FunctionName): FunctionArtifact => ({
  name,
  file: '',
  sha256: '',
  bytes: 0,
  objectKey: `${name}.zip`,
});
const input = readStackInput(
  { service: 'dingtalk-channel', provider: {}, functions: { message: {}, send: {}, relay: {} } },
  'prod',
  'cn-hangzhou',
);
const template = compileTemplate(input, {
  message: artifact('message'),
  send: artifact('send'),
  relay: artifact('relay'),
});

function getAtts(value: unknown, found: [string, string][] = []): [string, string][] {
  if (Array.isArray(value)) for (const v of value) getAtts(v, found);
  else if (value && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) {
      if (key === 'Fn::GetAtt') found.push(inner as [string, string]);
      else getAtts(inner, found);
    }
  }
  return found;
}

describe('template vs the ROS resource reference', () => {
  const checked = Object.entries(template.Resources).filter(([, r]) => SPECS[r.Type]);

  it('covers the function resources, the state table and the configuration data source', () => {
    expect(new Set(checked.map(([, r]) => r.Type))).toEqual(new Set(Object.keys(SPECS)));
  });

  it.each(checked)(
    '%s uses only documented properties and sets the required ones',
    (_id, resource) => {
      const spec = SPECS[resource.Type]!;
      const used = Object.keys(resource.Properties ?? {});
      expect(
        used.filter((p) => !spec.properties.includes(p)),
        spec.page,
      ).toEqual([]);
      expect(
        spec.required.filter((p) => !used.includes(p)),
        spec.page,
      ).toEqual([]);
    },
  );

  it('reads only documented attributes of those resources', () => {
    for (const [id, attribute] of getAtts(template)) {
      const spec = SPECS[template.Resources[id]?.Type ?? ''];
      if (spec) expect(spec.attributes, `${id}.${attribute} (${spec.page})`).toContain(attribute);
    }
  });
});
