/**
 * The Alibaba FC 2.0 forwarder, for service-based functions: `invokeFunction` with
 * `x-fc-invocation-type: Async` through `@alicloud/fc2`. FC answers 202 once the event is
 * queued. The SDK defaults to plain http, so production always passes `secure: true` and an
 * https endpoint (deploy-stack.md). FC 2.0 has no enqueue dedup by default: the handler dedups.
 */
import FCClient from '@alicloud/fc2';
import { SETTINGS_ROOT } from '../config/index.js';
import { ConfigError } from '../errors.js';
import { type FcAccess, fcFailure, registerFcSecrets } from './fc-common.js';
import { ACCEPTED, DEFAULT_HANDOFF_TIMEOUT_MS, runHandoff } from './outcome.js';
import type { Forwarder } from './port.js';

export interface Fc2ForwarderOptions {
  serviceName: string;
  functionName: string;
  access: FcAccess;
  timeoutMs?: number;
}

/** Creates the FC 2.0 async-invoke forwarder; the SDK needs the account id and region. */
export function createFc2Forwarder(options: Fc2ForwarderOptions): Forwarder {
  const { access } = options;
  registerFcSecrets(access);
  if (!access.accountId || !access.region) {
    throw new ConfigError([
      `\`${SETTINGS_ROOT}.fc.accountId\` (env FC_ACCOUNT_ID) and \`${SETTINGS_ROOT}.fc.region\` ` +
        '(env FC_REGION) are both required for an fc2: relay target',
    ]);
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_HANDOFF_TIMEOUT_MS;
  const client = new FCClient(access.accountId, {
    accessKeyID: access.accessKeyId,
    accessKeySecret: access.accessKeySecret,
    ...(access.securityToken ? { securityToken: access.securityToken } : {}),
    region: access.region,
    secure: true,
    endpoint: `${access.protocol}://${access.host}`,
    timeout: timeoutMs,
  });
  const where = `fc2: ${options.serviceName}/${options.functionName}`;
  return {
    kind: 'fc2',
    forward: (event, signal) =>
      runHandoff({
        label: where,
        timeoutMs,
        signal,
        async attempt() {
          // The SDK resolves on any 2xx and throws otherwise; async invocations answer 202.
          await client.invokeFunction(
            options.serviceName,
            options.functionName,
            JSON.stringify(event),
            {
              'x-fc-invocation-type': 'Async',
            },
          );
          return ACCEPTED;
        },
        classify: (err) => fcFailure(where, err, statusOf(err)),
      }),
  };
}

/** The SDK puts the status only in its message: "POST /services/… failed with 429. …". */
function statusOf(err: unknown): number | undefined {
  const match = err instanceof Error ? /failed with (\d{3})\b/.exec(err.message) : null;
  return match?.[1] ? Number(match[1]) : undefined;
}
