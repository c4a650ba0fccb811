/**
 * Forwarders: how the relay hands one inbound robot message to the message function
 * (architecture.md "Ports"). One adapter per `RELAY_TARGET` kind, in one literal map; each is
 * loaded only when chosen, so local mode never loads a cloud SDK.
 *
 * Invariants (each guarded by a test):
 * - `accepted` means durable: 2xx over HTTP, 202 from Lambda/FC, 409 "task exists" from FC 3.0,
 *   or processed in-process (test/forward/{http,lambda,fc3,fc2,inprocess}.test.ts);
 * - unsigned, stale or tampered HTTP hand-offs are refused with 401 (test/forward/http.test.ts,
 *   hmac.test.ts);
 * - failures are split into retryable (throttling, 5xx, network, timeout) and final (bad
 *   signature, missing function, denied access) (every adapter's test);
 * - no credential appears in a rejection reason (test/forward/secrets.test.ts);
 * - a missing setting fails at start, naming the key (test/forward/factory.test.ts).
 */
import type { Clock } from '../clock.js';
import {
  type AppSettings,
  parseRelayTarget,
  type RelayTarget,
  SETTINGS_ROOT,
} from '../config/index.js';
import { ConfigError } from '../errors.js';
import type { Logger } from '../log.js';
import { resolveFcAccess } from './fc-common.js';
import { createInProcessForwarder } from './inprocess.js';
import type { Forwarder, MessageHandler } from './port.js';

export { asyncTaskIdOf, dedupIdOf } from './fc-common.js';
export * from './hmac.js';
export * from './http-entry.js';
export { createInProcessForwarder, type InProcessForwarderOptions } from './inprocess.js';
export { DEFAULT_HANDOFF_TIMEOUT_MS, isRetryableStatus } from './outcome.js';
export * from './port.js';

/** What `createForwarder` needs besides settings. */
export interface ForwarderDeps {
  /** The message handler; required for `inprocess`. */
  handler?: MessageHandler;
  logger?: Logger;
  clock?: Clock;
  /** Bound for one hand-off: default 10 s remote, the agent timeout + 30 s in-process. */
  timeoutMs?: number;
}

type Adapter<K extends RelayTarget['kind']> = (
  target: Extract<RelayTarget, { kind: K }>,
  settings: AppSettings,
  deps: ForwarderDeps,
) => Promise<Forwarder>;

const setting = (path: string, env: string) => `\`${SETTINGS_ROOT}.${path}\` (env ${env})`;

function required<T>(value: T | undefined, key: string, settings: AppSettings): T {
  if (value !== undefined) return value;
  const target = JSON.stringify(settings.relay.target);
  throw new ConfigError([`${key} is required when \`${SETTINGS_ROOT}.relay.target\` is ${target}`]);
}

const adapters: { [K in RelayTarget['kind']]: Adapter<K> } = {
  inprocess: async (_target, settings, deps) => {
    const handler = required(
      deps.handler,
      'a message handler (createForwarder deps.handler)',
      settings,
    );
    const timeoutMs = deps.timeoutMs ?? settings.agent.timeoutMs + 30_000;
    const { clock, logger } = deps;
    return createInProcessForwarder({
      handler,
      timeoutMs,
      clock,
      logger,
    });
  },
  http: async (target, settings, deps) => {
    const hmacSecret = required(
      settings.relay.hmacSecret,
      setting('relay.hmacSecret', 'RELAY_HMAC_SECRET'),
      settings,
    );
    const { createHttpForwarder } = await import('./http.js');
    return createHttpForwarder({
      url: target.url,
      hmacSecret,
      timeoutMs: deps.timeoutMs,
      clock: deps.clock,
    });
  },
  lambda: async (target, settings, deps) => {
    const region = required(settings.state.region, setting('state.region', 'AWS_REGION'), settings);
    const { createLambdaForwarder } = await import('./lambda.js');
    return createLambdaForwarder({
      functionName: target.functionName,
      region,
      timeoutMs: deps.timeoutMs,
    });
  },
  fc: async (target, settings, deps) => {
    const access = resolveFcAccess(settings.fc, settings.relay.target);
    const { createFc3Forwarder } = await import('./fc3.js');
    const { functionName } = target;
    return createFc3Forwarder({
      functionName,
      access,
      timeoutMs: deps.timeoutMs,
      logger: deps.logger,
    });
  },
  fc2: async (target, settings, deps) => {
    const access = resolveFcAccess(settings.fc, settings.relay.target);
    const { createFc2Forwarder } = await import('./fc2.js');
    const { serviceName, functionName } = target;
    return createFc2Forwarder({ serviceName, functionName, access, timeoutMs: deps.timeoutMs });
  },
};

/**
 * Creates the forwarder `settings.relay.target` names. Rejects with ConfigError naming the key
 * when a setting it needs is missing, before any message arrives (invariant 7).
 */
export async function createForwarder(
  settings: AppSettings,
  deps: ForwarderDeps = {},
): Promise<Forwarder> {
  const target = parseRelayTarget(settings.relay.target);
  if (!target) {
    throw new ConfigError([
      `${setting('relay.target', 'RELAY_TARGET')} is not a relay target: ${JSON.stringify(settings.relay.target)}`,
    ]);
  }
  const adapter = adapters[target.kind] as Adapter<RelayTarget['kind']>;
  return adapter(target, settings, deps);
}
