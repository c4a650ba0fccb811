/**
 * The Alibaba FC 3.0 forwarder: `InvokeFunction` with `x-fc-invocation-type: Async` through
 * `@alicloud/fc20230330`. FC answers 202 once the event is queued (durable). The async task id
 * (fc-common.ts) is derived from the message, so a redelivery or a second relay replica gets
 * 409 "already exists": the message is already queued, which counts as accepted.
 */
import { Readable } from 'node:stream';
import FC3, { InvokeFunctionHeaders, InvokeFunctionRequest } from '@alicloud/fc20230330';
import { createLogger, type Logger } from '../log.js';
import {
  asyncTaskIdOf,
  dedupIdOf,
  type FcAccess,
  fcFailure,
  registerFcSecrets,
} from './fc-common.js';
import { ACCEPTED, DEFAULT_HANDOFF_TIMEOUT_MS, rejected, runHandoff } from './outcome.js';
import type { Forwarder, MessageEvent } from './port.js';

type Fc3ClientClass = typeof FC3.default;
type Fc3Client = InstanceType<Fc3ClientClass>;
type Fc3Config = ConstructorParameters<Fc3ClientClass>[0];
type Fc3Runtime = Parameters<Fc3Client['invokeFunctionWithOptions']>[3];

/**
 * The SDK is CommonJS with `exports.default`: Node's ESM loader hands over `module.exports`,
 * while vitest and bundlers that honour `__esModule` hand over the class itself.
 */
const Fc3ClientClass: Fc3ClientClass =
  (FC3 as unknown as { default?: Fc3ClientClass }).default ?? (FC3 as unknown as Fc3ClientClass);

export interface Fc3ForwarderOptions {
  functionName: string;
  access: FcAccess;
  timeoutMs?: number;
  logger?: Logger;
}

// The SDK takes the endpoint as a bare host and the scheme separately (openapi-core doRequest).
function createClient(access: FcAccess, timeoutMs: number): Fc3Client {
  return new Fc3ClientClass({
    endpoint: access.host,
    protocol: access.protocol,
    accessKeyId: access.accessKeyId,
    accessKeySecret: access.accessKeySecret,
    securityToken: access.securityToken,
    readTimeout: timeoutMs,
    connectTimeout: timeoutMs,
  } as Fc3Config);
}

/** One async invocation; resolves with FC's status (202 = queued), throws on 4xx/5xx. */
async function invokeAsync(
  client: Fc3Client,
  functionName: string,
  event: MessageEvent,
  taskId: string,
): Promise<number | undefined> {
  // The SDK signs and sends a stream body only (deploy-stack.md).
  const body = Readable.from([Buffer.from(JSON.stringify(event))]);
  const response = await client.invokeFunctionWithOptions(
    functionName,
    new InvokeFunctionRequest({ body }),
    new InvokeFunctionHeaders({ xFcInvocationType: 'Async', xFcAsyncTaskId: taskId }),
    {} as Fc3Runtime,
  );
  response.body?.resume();
  return response.statusCode;
}

/** Creates the FC 3.0 async-invoke forwarder. */
export function createFc3Forwarder(options: Fc3ForwarderOptions): Forwarder {
  const { access, functionName } = options;
  registerFcSecrets(access);
  const timeoutMs = options.timeoutMs ?? DEFAULT_HANDOFF_TIMEOUT_MS;
  const logger = options.logger ?? createLogger();
  const client = createClient(access, timeoutMs);
  const where = `fc: ${functionName}`;
  return {
    kind: 'fc',
    forward: (event, signal) => {
      const taskId = asyncTaskIdOf(event);
      return runHandoff({
        label: where,
        timeoutMs,
        signal,
        async attempt() {
          const status = await invokeAsync(client, functionName, event, taskId);
          return status === 202
            ? ACCEPTED
            : rejected(`${where}: unexpected status ${status}`, true);
        },
        classify(err) {
          const status = statusOf(err);
          if (status !== 409) return fcFailure(where, err, status);
          const { accountId, messageId } = event;
          const fields = { accountId, messageId, taskId, dedupId: dedupIdOf(event) };
          logger.info('forward.fc.duplicate_task', fields);
          return ACCEPTED;
        },
      });
    },
  };
}

/** The HTTP status the SDK's ClientError/ServerError carries; absent for network failures. */
function statusOf(err: unknown): number | undefined {
  const status =
    typeof err === 'object' && err !== null ? Reflect.get(err, 'statusCode') : undefined;
  return typeof status === 'number' ? status : undefined;
}
