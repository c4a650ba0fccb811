/**
 * The three FC 3.0 functions and what carries their guarantees:
 * - message: built-in `nodejs20`, invoked asynchronously by the relay with a task id
 *   (lib/forward/fc3.ts). AsyncInvokeConfig bounds FC's retries and an event's age, and sends an
 *   event that still failed to an MNS queue, where it stays for inspection. `AsyncTask: true`
 *   turns on FC's asynchronous tasks, which is what makes `x-fc-async-task-id` dedup a second
 *   enqueue of the same message (channel-semantics.md, relay hand-off).
 * - send: built-in `nodejs20` behind an HTTP trigger; the trigger is anonymous because the
 *   function itself requires `Authorization: Bearer <send.token>` (as the AWS function URL).
 * - relay: the container's bundle on the `custom.debian10` runtime with the Node 20 that runtime
 *   ships (/var/fc/lang/nodejs20, FC "custom runtimes" docs), no container image. Its health
 *   server listens on the runtime port and answers FC's health check; one provisioned instance
 *   per replica with CPU always allocated keeps the WebSocket heartbeats running while idle, and
 *   a reserved concurrency equal to the replicas keeps FC from starting more.
 */
import { type FunctionArtifact, type FunctionName, RELAY_FC_ENTRY } from '../artifacts.js';
import type { FunctionSize, StackInput } from '../schema.js';
import type { StackNames } from './names.js';
import { getAtt, type RosResource, type RosValue, ref, sub } from './ros.js';

/** The port the relay's health server listens on, and FC's custom-runtime port. */
export const RELAY_PORT = 9000;
/** Node 20 as the custom.debian10 runtime installs it. */
export const CUSTOM_RUNTIME_NODE = '/var/fc/lang/nodejs20/bin/node';

type Artifacts = Record<FunctionName, FunctionArtifact>;

function logConfig(): RosValue {
  return {
    Project: getAtt('LogProject', 'Name'),
    Logstore: getAtt('LogStore', 'LogstoreName'),
    EnableRequestMetrics: true,
    EnableInstanceMetrics: true,
    LogBeginRule: 'None',
  };
}

function code(artifact: FunctionArtifact): RosValue {
  return { OssBucketName: ref('CodeBucket'), OssObjectName: artifact.objectKey };
}

function sizing(size: FunctionSize): Record<string, RosValue> {
  return { Cpu: size.cpu, MemorySize: size.memorySize, DiskSize: 512, Timeout: size.timeout };
}

/** Environment every function gets: plain settings and the configuration secret's value. */
function baseEnvironment(input: StackInput): Record<string, RosValue> {
  const config =
    input.configSource === 'env' ? ref(CONFIG_PARAMETER) : getAtt('ConfigSecret', 'Value');
  return { ...input.environment, DINGTALK_CONFIG: config };
}

/** The NoEcho stack parameter carrying DINGTALK_CONFIG when `configSource: env`. */
export const CONFIG_PARAMETER = 'DingtalkConfig';

/** The message function, its async policy and failure queue. */
export function messageResources(
  input: StackInput,
  names: StackNames,
  artifacts: Artifacts,
): Record<string, RosResource> {
  return {
    MessageFunction: {
      Type: 'ALIYUN::FC3::Function',
      Properties: {
        FunctionName: names.messageFunction,
        Description: 'dingtalk-channel: one forwarded DingTalk message per async invocation',
        Runtime: 'nodejs20',
        Handler: 'index.handler',
        ...sizing(input.message),
        InstanceConcurrency: 1,
        InternetAccess: true,
        Role: getAtt('MessageRole', 'Arn'),
        Code: code(artifacts.message),
        LogConfig: logConfig(),
        EnvironmentVariables: {
          ...baseEnvironment(input),
          STATE_BACKEND: 'tablestore',
          TABLESTORE_ENDPOINT: sub(
            `https://${input.state.instanceName}.\${ALIYUN::Region}.ots.aliyuncs.com`,
          ),
          TABLESTORE_INSTANCE: input.state.instanceName,
          STATE_TABLE: input.state.tableName,
        },
      },
      DependsOn: ['StateTable'],
    },
    MessageFailureQueue: {
      Type: 'ALIYUN::MNS::Queue',
      Properties: {
        QueueName: names.failureQueue,
        // The longest MNS keeps a message (7 days): time to look at what failed.
        MessageRetentionPeriod: 604800,
      },
    },
    MessageAsyncConfig: {
      Type: 'ALIYUN::FC3::AsyncInvokeConfig',
      Properties: {
        FunctionName: getAtt('MessageFunction', 'FunctionName'),
        AsyncTask: true,
        MaxAsyncRetryAttempts: input.message.maxAsyncRetries,
        MaxAsyncEventAgeInSeconds: input.message.maxEventAge,
        DestinationConfig: {
          OnFailure: {
            // FC's documented MNS destination form; not verified against a real account.
            Destination: sub(
              `acs:mns:\${ALIYUN::Region}:\${ALIYUN::AccountId}:/queues/${names.failureQueue}/messages`,
            ),
          },
        },
      },
      DependsOn: ['MessageFailureQueue'],
    },
  };
}

/** The send function and its HTTP trigger. */
export function sendResources(
  input: StackInput,
  names: StackNames,
  artifacts: Artifacts,
): Record<string, RosResource> {
  return {
    SendFunction: {
      Type: 'ALIYUN::FC3::Function',
      Properties: {
        FunctionName: names.sendFunction,
        Description: 'dingtalk-channel: POST { target, text } with a bearer token',
        Runtime: 'nodejs20',
        Handler: 'index.handler',
        ...sizing(input.send),
        InstanceConcurrency: 1,
        InternetAccess: true,
        Role: getAtt('SendRole', 'Arn'),
        Code: code(artifacts.send),
        LogConfig: logConfig(),
        EnvironmentVariables: baseEnvironment(input),
      },
    },
    SendTrigger: {
      Type: 'ALIYUN::FC3::Trigger',
      Properties: {
        FunctionName: getAtt('SendFunction', 'FunctionName'),
        TriggerName: 'http',
        TriggerType: 'http',
        Qualifier: 'LATEST',
        TriggerConfig: { authType: 'anonymous', methods: ['POST'], disableURLInternet: false },
      },
    },
  };
}

/** The relay function, its always-on instances and the cap on instances. */
export function relayResources(
  input: StackInput,
  names: StackNames,
  artifacts: Artifacts,
): Record<string, RosResource> {
  return {
    RelayFunction: {
      Type: 'ALIYUN::FC3::Function',
      Properties: {
        FunctionName: names.relayFunction,
        Description: 'dingtalk-channel relay: holds the DingTalk streams, hands messages to FC',
        Runtime: 'custom.debian10',
        Handler: 'main.handler', // required by the API; a custom runtime runs Command instead
        ...sizing(input.relay),
        InstanceConcurrency: 1,
        InternetAccess: true,
        Role: getAtt('RelayRole', 'Arn'),
        Code: code(artifacts.relay),
        LogConfig: logConfig(),
        CustomRuntimeConfig: {
          Command: [CUSTOM_RUNTIME_NODE],
          Args: [...input.relay.nodeFlags, `/code/${RELAY_FC_ENTRY}.mjs`],
          Port: RELAY_PORT,
          HealthCheckConfig: {
            // Liveness, not readiness: a stream that is reconnecting must not get the
            // instance replaced (lib/relay/health.ts).
            HttpGetUrl: '/healthz',
            InitialDelaySeconds: 2,
            PeriodSeconds: 10,
            TimeoutSeconds: 3,
            FailureThreshold: 3,
            SuccessThreshold: 1,
          },
        },
        EnvironmentVariables: {
          ...baseEnvironment(input),
          PORT: String(RELAY_PORT),
          // The FC endpoint comes from FC_ACCOUNT_ID and FC_REGION, which FC itself sets in every
          // instance (FC_* names are reserved: a function may not define them).
          RELAY_TARGET: `fc:${names.messageFunction}`,
        },
      },
      DependsOn: ['MessageAsyncConfig'],
    },
    RelayProvision: {
      Type: 'ALIYUN::FC3::ProvisionConfig',
      Properties: {
        FunctionName: getAtt('RelayFunction', 'FunctionName'),
        Qualifier: 'LATEST',
        DefaultTarget: input.relay.replicas,
        AlwaysAllocateCPU: true,
      },
    },
    RelayConcurrency: {
      Type: 'ALIYUN::FC3::ConcurrencyConfig',
      Properties: {
        FunctionName: getAtt('RelayFunction', 'FunctionName'),
        ReservedConcurrency: input.relay.replicas,
      },
    },
  };
}
