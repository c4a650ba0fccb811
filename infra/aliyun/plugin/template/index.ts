/**
 * Compiles the service into one ROS template (deploy-stack.md, Alibaba section): what
 * `serverless package --config serverless.aliyun.yml` writes to .serverless/, offline.
 *
 * Guarantees carried by the template (each asserted in test/deploy/aliyun/template.test.ts):
 * - no secret is written into it: DINGTALK_CONFIG is read by ROS from an OOS encrypted
 *   parameter at deploy time (`DATASOURCE::OOS::SecretParameter`, refreshed on every update),
 *   or, for a quick start, arrives as a NoEcho stack parameter;
 * - code comes from content-hashed OSS keys, so changed code always updates the functions;
 * - the message function's async retries and event age are bounded, failures kept in MNS;
 * - the relay has always-allocated provisioned instances and a reserved concurrency cap;
 * - each function has its own least-privilege role and logs to the stack's logstore;
 * - the state instance and table are named, so `remove` can retain them (stack.ts).
 */
import type { FunctionArtifact, FunctionName } from '../artifacts.js';
import type { StackInput } from '../schema.js';
import { CONFIG_PARAMETER, messageResources, relayResources, sendResources } from './functions.js';
import { stackNames } from './names.js';
import { roleResources } from './roles.js';
import { getAtt, type RosResource, type RosTemplate, ref, sub } from './ros.js';

/** Logical ids of the state resources `remove` keeps unless told otherwise. */
export const STATE_RESOURCES = ['StateInstance', 'StateTable'] as const;

/** Where DINGTALK_CONFIG comes from: the OOS parameter (read by ROS) or a NoEcho parameter. */
function configSource(input: StackInput): {
  parameters: RosTemplate['Parameters'];
  resources: Record<string, RosResource>;
} {
  if (input.configSource === 'env') {
    return {
      parameters: {
        [CONFIG_PARAMETER]: {
          Type: 'String',
          NoEcho: true,
          Description: 'DINGTALK_CONFIG JSON, passed by `serverless deploy` from its environment.',
        },
      },
      resources: {},
    };
  }
  return {
    parameters: {
      ConfigSecretName: {
        Type: 'String',
        Default: input.configSecret,
        Description: 'OOS encrypted parameter whose value is the DINGTALK_CONFIG JSON.',
      },
    },
    resources: {
      ConfigSecret: {
        Type: 'DATASOURCE::OOS::SecretParameter',
        Properties: { SecretParameterName: ref('ConfigSecretName'), RefreshOptions: 'Always' },
      },
    },
  };
}

function sharedResources(input: StackInput): Record<string, RosResource> {
  const names = stackNames(input);
  return {
    LogProject: {
      Type: 'ALIYUN::SLS::Project',
      Properties: {
        Name: sub(`${names.logProjectPrefix}-\${ALIYUN::AccountId}`),
        Description: `dingtalk-channel ${input.stage} function logs`,
      },
    },
    LogStore: {
      Type: 'ALIYUN::SLS::Logstore',
      Properties: {
        ProjectName: getAtt('LogProject', 'Name'),
        LogstoreName: names.logstore,
        TTL: input.logRetentionDays,
        ShardCount: 1,
      },
    },
    StateInstance: {
      Type: 'ALIYUN::OTS::Instance',
      Properties: {
        InstanceName: input.state.instanceName,
        Description: `dingtalk-channel ${input.stage} state`,
        // Capacity instance: this load is a few operations per message.
        ClusterType: 'HYBRID',
        // Functions without a VPC reach the instance's public endpoint.
        Network: 'NORMAL',
      },
    },
    StateTable: {
      Type: 'ALIYUN::OTS::Table',
      Properties: {
        InstanceName: getAtt('StateInstance', 'InstanceName'),
        TableName: input.state.tableName,
        PrimaryKey: [
          { Name: 'pk', Type: 'STRING' },
          { Name: 'sk', Type: 'STRING' },
        ],
        MaxVersions: 1,
        // Tablestore's TTL is per table: the pairing allowlist must never expire, so the
        // default is -1 and every expiring record carries `expiresAt`, checked in code.
        TimeToLive: input.state.timeToLive,
      },
    },
  };
}

/** The whole template for `input`, with code at `artifacts`' keys. */
export function compileTemplate(
  input: StackInput,
  artifacts: Record<FunctionName, FunctionArtifact>,
): RosTemplate {
  const names = stackNames(input);
  const config = configSource(input);
  return {
    ROSTemplateFormatVersion: '2015-09-01',
    Description: `dingtalk-channel ${input.stage}: relay, message and send functions on FC 3.0, Tablestore state`,
    Parameters: {
      CodeBucket: {
        Type: 'String',
        Description: 'OSS bucket holding the function packages (created by `serverless deploy`).',
      },
      ...config.parameters,
    },
    Resources: {
      ...config.resources,
      ...sharedResources(input),
      ...roleResources(input, names),
      ...messageResources(input, names, artifacts),
      ...sendResources(input, names, artifacts),
      ...relayResources(input, names, artifacts),
    },
    Outputs: {
      SendUrl: {
        Description: 'POST { target, text } here',
        Value: getAtt('SendTrigger', 'UrlInternet'),
      },
      MessageFunction: { Description: 'message function', Value: names.messageFunction },
      RelayFunction: { Description: 'relay function', Value: names.relayFunction },
      StateInstance: { Description: 'Tablestore instance', Value: input.state.instanceName },
      StateTable: { Description: 'Tablestore table', Value: input.state.tableName },
      TablestoreEndpoint: {
        Description: 'Tablestore endpoint (pairing approval from your machine)',
        Value: sub(`https://${input.state.instanceName}.\${ALIYUN::Region}.ots.aliyuncs.com`),
      },
      FailureQueue: {
        Description: 'MNS queue of failed message events',
        Value: names.failureQueue,
      },
      LogProject: {
        Description: 'SLS project of the function logs',
        Value: getAtt('LogProject', 'Name'),
      },
    },
  };
}
