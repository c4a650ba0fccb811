/**
 * `deploy-aws.sh` runs this before building anything: loads the configuration the deployed relay
 * and functions will see (DINGTALK_CONFIG from the Secrets Manager secret, the agent settings
 * passed as `--param`s) and stops the deploy with the loader's message (which names the key and
 * never prints a secret) instead of letting ECS roll back a crash-looping relay ten minutes later.
 *
 *   DINGTALK_CONFIG=… npx tsx infra/scripts/check-config.ts [serverless args…]
 */

import { configForRole } from '../../lib/config/aws-secret.js';
import { loadConfig } from '../../lib/config/index.js';
import { ChannelError, ConfigError } from '../../lib/errors.js';

/** Secrets Manager holds at most 64 KB per secret value (the functions read it from there). */
export const MAX_CONFIG_BYTES = 65_536;

/** serverless.yml params that become environment variables, and their variables. */
const PARAM_ENV: Record<string, string> = {
  agent: 'AGENT',
  agentBaseUrl: 'AGENT_BASE_URL',
  agentModel: 'AGENT_MODEL',
  agentProtocol: 'AGENT_PROTOCOL',
  agentTimeoutMs: 'AGENT_TIMEOUT_MS',
  logLevel: 'LOG_LEVEL',
};

/** The `key=value` an argument at `i` carries (`--param=key=value`, or `--param key=value`). */
function paramAt(args: readonly string[], i: number): string | undefined {
  const arg = args[i] ?? '';
  if (arg.startsWith('--param=')) return arg.slice('--param='.length);
  return arg === '--param' ? args[i + 1] : undefined;
}

/** The `--param key=value` / `--param=key=value` pairs among serverless CLI arguments. */
export function paramsOf(args: readonly string[]): Record<string, string> {
  const params: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const pair = paramAt(args, i);
    const at = pair?.indexOf('=') ?? -1;
    if (pair && at > 0) params[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return params;
}

/** Problems with the deployed configuration, or an empty list. */
export function checkDeployConfig(env: NodeJS.ProcessEnv, args: readonly string[]): string[] {
  const config = env.DINGTALK_CONFIG ?? '';
  if (Buffer.byteLength(config) > MAX_CONFIG_BYTES) {
    return [
      `the config secret is ${Buffer.byteLength(config)} bytes; Secrets Manager holds at most 64 KB (${MAX_CONFIG_BYTES} bytes)`,
    ];
  }
  const deployed: NodeJS.ProcessEnv = {
    DINGTALK_CONFIG: config,
    STATE_BACKEND: 'dynamodb',
    STATE_TABLE: 'deploy-check',
    RELAY_TARGET: 'lambda:deploy-check',
    AWS_REGION: env.AWS_REGION ?? 'us-east-1',
  };
  for (const [param, value] of Object.entries(paramsOf(args))) {
    const name = PARAM_ENV[param];
    if (name) deployed[name] = value;
  }
  try {
    loadConfig(deployed, { requireCredentials: true });
    // Each function loads its own filtered view of the secret (lib/config/aws-secret.ts): check
    // those too, so no function starts with a configuration only the whole secret satisfies.
    for (const role of ['message', 'send', 'relay'] as const) {
      loadConfig(
        { ...deployed, DINGTALK_CONFIG: configForRole(config, role) },
        { requireCredentials: true },
      );
    }
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return [...err.issues];
    if (err instanceof ChannelError && err.code === 'config') return [err.message];
    throw err;
  }
}

if (process.argv[1]?.endsWith('check-config.ts')) {
  const issues = checkDeployConfig(process.env, process.argv.slice(2));
  if (issues.length > 0) {
    process.stderr.write(`The config secret is not valid:\n  - ${issues.join('\n  - ')}\n`);
    process.exitCode = 2;
  } else {
    process.stdout.write('config secret: valid\n');
  }
}
