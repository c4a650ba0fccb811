/**
 * The ROS side of `deploy`, `info` and `remove`, through the official `@alicloud/ros20190910`
 * SDK (ACS3-HMAC-SHA256 signed). A deploy creates or updates the stack, then follows GetStack
 * until the status leaves `*_IN_PROGRESS`; a failure is reported with every failed resource and
 * ROS's reason (ListStackEvents). ROS refuses an update that changes nothing with `NotSupported`
 * "Update the completely same stack…": that is a successful deploy, not an error.
 */
import ROS, * as $ros from '@alicloud/ros20190910';
import type { AliyunAccess } from './access.js';

type RosClientClass = typeof ROS.default;
// CommonJS with `exports.default` (as the FC 3.0 SDK, lib/forward/fc3.ts).
const RosClient: RosClientClass =
  (ROS as unknown as { default?: RosClientClass }).default ?? (ROS as unknown as RosClientClass);
type RosClient = InstanceType<RosClientClass>;

/** One failed resource, as ROS's events report it. */
export interface FailedResource {
  logicalId: string;
  type: string;
  status: string;
  reason: string;
}

/** How a stack operation ended. */
export interface StackOutcome {
  stackId?: string;
  status: string;
  /** True when ROS had nothing to change. */
  unchanged?: boolean;
  reason?: string;
  failed: FailedResource[];
  outputs: Record<string, string>;
}

/** A stack operation that did not end in `*_COMPLETE`; carries the failed resources. */
export class StackOperationError extends Error {
  override name = 'StackOperationError';
  constructor(
    message: string,
    readonly outcome: StackOutcome,
  ) {
    super(message);
  }
}

export interface StackClientOptions {
  /** Interval between GetStack polls. */
  pollMs?: number;
  /** Give up waiting after this long (the stack keeps going in ROS). */
  timeoutMs?: number;
  onStatus?: (status: string) => void;
}

const SUCCESS = new Set(['CREATE_COMPLETE', 'UPDATE_COMPLETE', 'DELETE_COMPLETE']);

const errorCode = (err: unknown): string | undefined =>
  typeof err === 'object' && err !== null
    ? (Reflect.get(err, 'code') as string | undefined)
    : undefined;

/** Consecutive failed polls tolerated before giving up (the stack itself is unaffected). */
const MAX_TRANSIENT_POLL_FAILURES = 5;

/** Throttling, a 5xx or no answer: worth asking again (anything else is final). */
export function isTransient(err: unknown): boolean {
  const status =
    typeof err === 'object' && err !== null ? Reflect.get(err, 'statusCode') : undefined;
  const code = errorCode(err) ?? '';
  return (
    /^Throttling|ServiceUnavailable|InternalError/.test(code) ||
    (typeof status === 'number' && status >= 500) ||
    (status === undefined && /ECONNRESET|ETIMEDOUT|ECONNREFUSED|socket hang up/i.test(String(err)))
  );
}

/** True for ROS's answer to an update with an identical template and parameters. */
export function isNoChange(err: unknown): boolean {
  const message = err instanceof Error ? err.message : String(err);
  return errorCode(err) === 'NotSupported' && /completely same stack/i.test(message);
}

/** The stack operations `deploy`/`info`/`remove` need, bound to one region. */
export class StackClient {
  private readonly client: RosClient;
  private readonly region: string;
  private readonly pollMs: number;
  private readonly timeoutMs: number;

  constructor(
    access: AliyunAccess,
    private readonly options: StackClientOptions = {},
  ) {
    this.region = access.region;
    this.pollMs = options.pollMs ?? 5_000;
    this.timeoutMs = options.timeoutMs ?? 60 * 60_000;
    this.client = new RosClient({
      accessKeyId: access.accessKeyId,
      accessKeySecret: access.accessKeySecret,
      ...(access.securityToken ? { securityToken: access.securityToken } : {}),
      regionId: access.region,
      endpoint: access.ros.host,
      protocol: access.ros.protocol,
    } as ConstructorParameters<RosClientClass>[0]);
  }

  /** The id of the live stack named `name`, if any. */
  async findStack(name: string): Promise<string | undefined> {
    const response = await this.client.listStacks(
      new $ros.ListStacksRequest({ regionId: this.region, stackName: [name], pageSize: 10 }),
    );
    const stacks = response.body?.stacks ?? [];
    return stacks.find((s) => s.stackName === name && s.status !== 'DELETE_COMPLETE')?.stackId;
  }

  /** Creates or updates `name` with `template`, and waits until it settles. */
  async deploy(
    name: string,
    template: string,
    parameters: Record<string, string>,
  ): Promise<StackOutcome> {
    const params = Object.entries(parameters).map(([parameterKey, parameterValue]) => ({
      parameterKey,
      parameterValue,
    }));
    const existing = await this.findStack(name);
    if (!existing) {
      const created = await this.client.createStack(
        new $ros.CreateStackRequest({
          regionId: this.region,
          stackName: name,
          templateBody: template,
          parameters: params,
          timeoutInMinutes: 60,
        }),
      );
      const stackId = created.body?.stackId;
      if (!stackId) throw new Error(`ROS CreateStack for ${name} answered without a StackId`);
      return this.settle(stackId, 'create');
    }
    try {
      await this.client.updateStack(
        new $ros.UpdateStackRequest({
          regionId: this.region,
          stackId: existing,
          templateBody: template,
          parameters: params,
        }),
      );
    } catch (err) {
      if (!isNoChange(err)) throw err;
      const stack = await this.getStack(existing);
      return { ...stack, unchanged: true };
    }
    return this.settle(existing, 'update');
  }

  /** Status and outputs of a stack. */
  async getStack(stackId: string): Promise<StackOutcome> {
    const response = await this.client.getStack(
      new $ros.GetStackRequest({ regionId: this.region, stackId }),
    );
    const body = response.body;
    const outputs: Record<string, string> = {};
    for (const output of body?.outputs ?? []) {
      const key = output.OutputKey;
      if (typeof key === 'string') outputs[key] = String(output.OutputValue ?? '');
    }
    return {
      stackId,
      status: body?.status ?? 'UNKNOWN',
      ...(body?.statusReason ? { reason: body.statusReason } : {}),
      failed: [],
      outputs,
    };
  }

  /** Deletes the stack, keeping `retain` (logical ids); waits until it is gone. */
  async remove(stackId: string, retain: string[]): Promise<StackOutcome> {
    await this.client.deleteStack(
      new $ros.DeleteStackRequest({
        regionId: this.region,
        stackId,
        ...(retain.length > 0 ? { retainResources: retain } : {}),
      }),
    );
    return this.settle(stackId, 'delete');
  }

  /** The failed resources of a stack, most recent first, with ROS's reasons. */
  async failedResources(stackId: string): Promise<FailedResource[]> {
    const response = await this.client.listStackEvents(
      new $ros.ListStackEventsRequest({ regionId: this.region, stackId, pageSize: 100 }),
    );
    const seen = new Set<string>();
    const failed: FailedResource[] = [];
    for (const event of response.body?.events ?? []) {
      const logicalId = event.logicalResourceId ?? '';
      if (!event.status?.endsWith('_FAILED') || seen.has(logicalId)) continue;
      if (event.resourceType === 'ALIYUN::ROS::Stack') continue; // the stack itself: in `reason`
      seen.add(logicalId);
      failed.push({
        logicalId,
        type: event.resourceType ?? '',
        status: event.status,
        reason: event.statusReason ?? '',
      });
    }
    return failed;
  }

  private async settle(stackId: string, action: string): Promise<StackOutcome> {
    const deadline = Date.now() + this.timeoutMs;
    let last = '';
    let transientFailures = 0;
    for (;;) {
      let stack: StackOutcome;
      try {
        stack = await this.getStack(stackId);
        transientFailures = 0;
      } catch (err) {
        // A deleted stack can vanish from GetStack before its status is read.
        if (action === 'delete' && errorCode(err) === 'StackNotFound') {
          return { stackId, status: 'DELETE_COMPLETE', failed: [], outputs: {} };
        }
        // Throttling or a 5xx while watching: the operation goes on in ROS; ask again.
        if (!isTransient(err) || ++transientFailures > MAX_TRANSIENT_POLL_FAILURES) throw err;
        await new Promise((resolve) => setTimeout(resolve, this.pollMs));
        continue;
      }
      if (stack.status !== last) this.options.onStatus?.(stack.status);
      last = stack.status;
      if (!stack.status.endsWith('_IN_PROGRESS')) {
        if (SUCCESS.has(stack.status)) return stack;
        const outcome = { ...stack, failed: await this.failedResources(stackId) };
        throw new StackOperationError(describeFailure(action, outcome), outcome);
      }
      if (Date.now() > deadline) {
        throw new StackOperationError(
          `gave up waiting for the stack to ${action} after ${Math.round(this.timeoutMs / 60_000)} min (still ${stack.status}); ROS continues: see the ROS console`,
          stack,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, this.pollMs));
    }
  }
}

/** One paragraph: the stack status and each failed resource with ROS's reason. */
export function describeFailure(action: string, outcome: StackOutcome): string {
  const lines = [
    `stack ${action} failed: ${outcome.status}${outcome.reason ? ` (${outcome.reason})` : ''}`,
    ...outcome.failed.map((f) => `  ${f.logicalId} (${f.type}) ${f.status}: ${f.reason}`),
  ];
  return lines.join('\n');
}
