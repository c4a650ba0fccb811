/**
 * What serverless.aliyun.yml may say, as the JSON schema osls validates the file against
 * (`configSchemaHandler.defineProvider`, with `configValidationMode: error` a typo fails the
 * command), and the typed stack description the template is compiled from.
 */
import type { FunctionName } from './artifacts.js';

/** `provider:` properties besides `name`. */
export const providerSchema = {
  properties: {
    stage: { type: 'string', pattern: '^[a-zA-Z0-9-]+$' },
    region: { type: 'string', pattern: '^[a-z]{2}-[a-z0-9-]+$' },
    runtime: { enum: ['nodejs20'] },
    /** Name of the OOS encrypted parameter holding the DINGTALK_CONFIG JSON. */
    configSecret: { type: 'string', pattern: '^[A-Za-z0-9_/-]{1,180}$' },
    /**
     * `oos` (default): ROS reads the configuration from that parameter. `env` (quick start): the
     * deployer's DINGTALK_CONFIG is passed as a NoEcho stack parameter.
     */
    configSource: { enum: ['oos', 'env'] },
    /** Plain, non-secret settings for every function (AGENT, LOG_LEVEL, …). */
    environment: {
      type: 'object',
      additionalProperties: { type: 'string' },
    },
    logRetentionDays: { type: 'integer', minimum: 1, maximum: 3650 },
    state: {
      type: 'object',
      properties: {
        instanceName: { type: 'string', pattern: '^[a-zA-Z][a-zA-Z0-9-]{1,14}[a-zA-Z0-9]$' },
        tableName: { type: 'string', pattern: '^[a-zA-Z_][a-zA-Z0-9_]{0,254}$' },
        timeToLive: { type: 'integer', minimum: -1 },
      },
      additionalProperties: false,
    },
  },
} as const;

/** `functions.<name>:` properties. */
export const functionSchema = {
  properties: {
    handler: { type: 'string' },
    description: { type: 'string' },
    cpu: { type: 'number', minimum: 0.05, maximum: 16 },
    memorySize: { type: 'integer', minimum: 128, maximum: 32768, multipleOf: 64 },
    timeout: { type: 'integer', minimum: 1, maximum: 86400 },
    /** Message function: FC async retries after the first attempt (FC allows 0–8). */
    maxAsyncRetries: { type: 'integer', minimum: 0, maximum: 8 },
    /** Message function: how long FC keeps trying an event, seconds. */
    maxEventAge: { type: 'integer', minimum: 1, maximum: 86400 },
    /** Relay: always-on instances (each holds every account's stream). */
    replicas: { type: 'integer', minimum: 1, maximum: 3 },
    /** Relay: flags for `node` in the custom runtime's command. */
    nodeFlags: {
      type: 'array',
      items: { type: 'string', pattern: '^--[a-z0-9-]+(=[0-9]+)?$' },
    },
  },
} as const;

export interface FunctionSize {
  cpu: number;
  memorySize: number;
  timeout: number;
}

/** Everything the template depends on, resolved from the service file with defaults. */
export interface StackInput {
  service: string;
  stage: string;
  region: string;
  /** ROS stack name: `<service>-<stage>`. */
  stackName: string;
  configSecret: string;
  configSource: 'oos' | 'env';
  environment: Record<string, string>;
  logRetentionDays: number;
  state: { instanceName: string; tableName: string; timeToLive: number };
  message: FunctionSize & { maxAsyncRetries: number; maxEventAge: number };
  send: FunctionSize;
  relay: FunctionSize & { replicas: number; nodeFlags: string[] };
}

interface ServiceLike {
  service: string;
  provider: Record<string, unknown>;
  functions: Record<string, Record<string, unknown> | undefined>;
}

/**
 * Node flags the relay runs with on FC, measured with `npm run bench -- --only memory
 * "--relay-node-flags=…"` (10 accounts, 50,000 messages; README "Deploy to Alibaba Cloud"):
 * RSS peaks about 85 MB with them, 127–133 MB without. The live heap is ~17 MB, so most of the
 * RSS was V8's young generation (16 MB semi-spaces by default) and lazily-grown old space.
 */
export const DEFAULT_RELAY_NODE_FLAGS = [
  '--max-semi-space-size=1',
  '--max-old-space-size=64',
  '--optimize-for-size',
];

const num = (value: unknown, fallback: number): number =>
  typeof value === 'number' && Number.isFinite(value) ? value : fallback;

/** The OTS instance name rule: 3–16 characters, a letter first, no trailing hyphen. */
export function defaultInstanceName(service: string, stage: string): string {
  const base = `${service.replace(/[^a-zA-Z0-9]/g, '').slice(0, 6)}-${stage.replace(/[^a-zA-Z0-9]/g, '')}`;
  return base.slice(0, 16).replace(/-+$/, '');
}

/** Resolves the stack description; throws naming the key when the service file is unusable. */
export function readStackInput(service: ServiceLike, stage: string, region: string): StackInput {
  const p = service.provider;
  const fn = (name: FunctionName) => service.functions[name] ?? {};
  const missing = (['message', 'send', 'relay'] as const).filter((n) => !service.functions[n]);
  if (missing.length > 0) {
    throw new Error(
      `serverless.aliyun.yml: functions ${missing.map((m) => `\`${m}\``).join(', ')} must be declared (the stack has exactly message, send and relay)`,
    );
  }
  const extra = Object.keys(service.functions).filter(
    (n) => !['message', 'send', 'relay'].includes(n),
  );
  if (extra.length > 0) {
    throw new Error(
      `serverless.aliyun.yml: unknown function(s) ${extra.join(', ')}; the stack has exactly message, send and relay`,
    );
  }
  const state = (p.state ?? {}) as Record<string, unknown>;
  const size = (name: FunctionName, cpu: number, memorySize: number, timeout: number) => ({
    cpu: num(fn(name).cpu, cpu),
    memorySize: num(fn(name).memorySize, memorySize),
    timeout: num(fn(name).timeout, timeout),
  });
  const nodeFlags = fn('relay').nodeFlags;
  return {
    service: service.service,
    stage,
    region,
    stackName: `${service.service}-${stage}`,
    configSecret:
      typeof p.configSecret === 'string' ? p.configSecret : `${service.service}-${stage}`,
    configSource: p.configSource === 'env' ? 'env' : 'oos',
    environment: { ...((p.environment ?? {}) as Record<string, string>) },
    logRetentionDays: num(p.logRetentionDays, 30),
    state: {
      instanceName:
        typeof state.instanceName === 'string'
          ? state.instanceName
          : defaultInstanceName(service.service, stage),
      tableName:
        typeof state.tableName === 'string'
          ? state.tableName
          : `${service.service}_${stage}_state`.replace(/[^a-zA-Z0-9_]/g, '_'),
      timeToLive: num(state.timeToLive, -1),
    },
    message: {
      ...size('message', 0.5, 512, 120),
      maxAsyncRetries: num(fn('message').maxAsyncRetries, 2),
      maxEventAge: num(fn('message').maxEventAge, 900),
    },
    send: size('send', 0.25, 256, 30),
    relay: {
      ...size('relay', 0.05, 128, 300),
      replicas: num(fn('relay').replicas, 1),
      nodeFlags: Array.isArray(nodeFlags) ? nodeFlags.map(String) : DEFAULT_RELAY_NODE_FLAGS,
    },
  };
}
