/**
 * A local stand-in for the ROS API (2019-09-10, RPC style) as `deploy`, `info` and `remove` use
 * it through `@alicloud/ros20190910`: CreateStack, UpdateStack, GetStack, ListStacks,
 * ListStackEvents, DeleteStack. Every request must carry a valid ACS3-HMAC-SHA256 signature
 * (test/forward/signatures.ts), else 400 SignatureDoesNotMatch. It answers as ROS documents:
 * stacks pass through `*_IN_PROGRESS` for a few polls before settling; a resource can be made to
 * fail with a reason (its event carries StatusReason, the stack ends CREATE_FAILED); an update
 * with the same template and parameters is refused with `NotSupported` "Update the completely
 * same stack…"; a deleted stack is gone (StackNotFound). Code packages are looked up in the
 * OSS stand-in, as ROS's FC resources fail when the object is missing.
 */
import { randomUUID } from 'node:crypto';
import { acs3AccessKey } from '../../forward/signatures.js';
import {
  type JsonServer,
  type RecordedRequest,
  type ServerAnswer,
  startJsonServer,
} from '../../support/fake-json-server.js';

interface StackEvent {
  EventId: string;
  LogicalResourceId: string;
  ResourceType: string;
  Status: string;
  StatusReason: string;
  CreateTime: string;
}

/** One stack as the stand-in keeps it. */
export interface StandInStack {
  id: string;
  name: string;
  status: string;
  statusReason: string;
  template: Record<string, unknown>;
  templateBody: string;
  parameters: Record<string, string>;
  events: StackEvent[];
  /** GetStack polls left before an in-progress status settles. */
  pollsLeft: number;
  settlesTo: string;
  retained: string[];
}

export interface RosStandIn {
  url: string;
  server: JsonServer;
  stacks: Map<string, StandInStack>;
  /** Actions in the order they arrived (signed ones only). */
  actions: string[];
  /** The next create/update makes `logicalId` fail with `reason`. */
  failNext(logicalId: string, reason: string): void;
  /** The next `n` GetStack calls are throttled (400 Throttling.User, as ROS throttles). */
  throttleGetStack(n: number): void;
  close(): Promise<void>;
}

const ROS_VERSION = '2019-09-10';

function error(status: number, code: string, message: string): ServerAnswer {
  return {
    status,
    body: JSON.stringify({
      RequestId: randomUUID(),
      HostId: 'ros.aliyuncs.com',
      Code: code,
      Message: message,
    }),
  };
}

const ok = (body: Record<string, unknown>): ServerAnswer => ({
  status: 200,
  body: JSON.stringify({ RequestId: randomUUID(), ...body }),
});

/** Query and form parameters of an RPC call, decoded. */
function paramsOf(request: RecordedRequest): Map<string, string> {
  const params = new Map<string, string>();
  const query = request.path.includes('?') ? request.path.slice(request.path.indexOf('?') + 1) : '';
  for (const source of [query, request.rawBody]) {
    for (const [k, v] of new URLSearchParams(source)) params.set(k, v);
  }
  return params;
}

/** `Name.1.Key`-style flattened lists back into arrays of records. */
function listOf(params: Map<string, string>, name: string): Record<string, string>[] {
  const items: Record<string, string>[] = [];
  for (const [key, value] of params) {
    const m = new RegExp(`^${name}\\.(\\d+)(?:\\.(\\w+))?$`).exec(key);
    if (!m) continue;
    const index = Number(m[1]) - 1;
    items[index] ??= {};
    items[index][m[2] ?? ''] = value;
  }
  return items.filter(Boolean);
}

/** Starts the stand-in; `objectExists` answers whether a code package is in OSS. */
export async function startRosStandIn(options: {
  accessKeyId: string;
  accessKeySecret: string;
  objectExists: (bucket: string, key: string) => boolean;
  /** GetStack polls an operation stays in progress (default 2). */
  polls?: number;
}): Promise<RosStandIn> {
  const stacks = new Map<string, StandInStack>();
  const actions: string[] = [];
  let failure: { logicalId: string; reason: string } | undefined;
  let throttled = 0;
  const polls = options.polls ?? 2;
  const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

  const event = (
    stack: StandInStack,
    logicalId: string,
    type: string,
    status: string,
    reason: string,
  ) =>
    stack.events.unshift({
      EventId: randomUUID(),
      LogicalResourceId: logicalId,
      ResourceType: type,
      Status: status,
      StatusReason: reason,
      CreateTime: now(),
    });

  /** Runs an operation: each resource's outcome is decided now, reported when it settles. */
  const operate = (stack: StandInStack, action: 'CREATE' | 'UPDATE') => {
    const resources = (stack.template.Resources ?? {}) as Record<
      string,
      { Type: string; Properties?: Record<string, unknown> }
    >;
    let failed: { id: string; type: string; reason: string } | undefined;
    for (const [id, resource] of Object.entries(resources)) {
      const code = resource.Properties?.Code as { OssObjectName?: string } | undefined;
      if (
        code?.OssObjectName &&
        !options.objectExists(stack.parameters.CodeBucket ?? '', code.OssObjectName)
      ) {
        failed ??= {
          id,
          type: resource.Type,
          reason: `code package oss://${stack.parameters.CodeBucket}/${code.OssObjectName} does not exist`,
        };
      }
      if (failure?.logicalId === id) failed ??= { id, type: resource.Type, reason: failure.reason };
    }
    failure = undefined;
    stack.status = `${action}_IN_PROGRESS`;
    stack.statusReason = `Stack ${action} started`;
    stack.pollsLeft = polls;
    event(stack, stack.name, 'ALIYUN::ROS::Stack', `${action}_IN_PROGRESS`, 'Stack started');
    if (failed) {
      event(stack, failed.id, failed.type, `${action}_FAILED`, failed.reason);
      stack.settlesTo = `${action}_FAILED`;
      stack.statusReason = `Resource ${action} failed: ${failed.id}`;
    } else {
      stack.settlesTo = `${action}_COMPLETE`;
    }
  };

  const outputsOf = (stack: StandInStack) => {
    const outputs = (stack.template.Outputs ?? {}) as Record<
      string,
      { Description?: string; Value: unknown }
    >;
    const resolve = (value: unknown): string => {
      if (typeof value === 'string') return value;
      const v = value as Record<string, unknown>;
      if (v.Ref) return stack.parameters[String(v.Ref)] ?? String(v.Ref);
      if (v['Fn::Sub']) {
        return String(v['Fn::Sub'])
          .replace(/\$\{ALIYUN::Region\}/g, 'cn-hangzhou')
          .replace(/\$\{ALIYUN::AccountId\}/g, '1234567890123456');
      }
      if (v['Fn::GetAtt']) {
        const [id, attr] = v['Fn::GetAtt'] as [string, string];
        return attr === 'UrlInternet'
          ? `https://${id.toLowerCase()}-abcdef.cn-hangzhou.fcapp.run`
          : `${id}.${attr}`;
      }
      return JSON.stringify(value);
    };
    return Object.entries(outputs).map(([key, o]) => ({
      OutputKey: key,
      OutputValue: resolve(o.Value),
      Description: o.Description ?? '',
    }));
  };

  const settle = (stack: StandInStack) => {
    if (!stack.status.endsWith('_IN_PROGRESS')) return;
    if (stack.pollsLeft-- > 0) return;
    stack.status = stack.settlesTo;
    stack.statusReason = stack.status.endsWith('_COMPLETE')
      ? `Stack ${stack.status.split('_')[0]} completed successfully`
      : stack.statusReason;
    event(stack, stack.name, 'ALIYUN::ROS::Stack', stack.status, stack.statusReason);
  };

  const live = (id: string | undefined) => {
    const stack = id ? stacks.get(id) : undefined;
    return stack && stack.status !== 'DELETE_COMPLETE' ? stack : undefined;
  };

  const notFound = (id: string | undefined) =>
    error(404, 'StackNotFound', `The Stack (${id}) could not be found.`);

  const handlers: Record<string, (p: Map<string, string>) => ServerAnswer> = {
    CreateStack(p) {
      const name = p.get('StackName') ?? '';
      if ([...stacks.values()].some((s) => s.name === name && s.status !== 'DELETE_COMPLETE')) {
        return error(409, 'StackExists', `The Stack (${name}) already exists.`);
      }
      let template: Record<string, unknown>;
      try {
        template = JSON.parse(p.get('TemplateBody') ?? '') as Record<string, unknown>;
      } catch {
        return error(400, 'InvalidTemplate', 'Template format error: not JSON.');
      }
      const parameters = Object.fromEntries(
        listOf(p, 'Parameters').map((x) => [x.ParameterKey ?? '', x.ParameterValue ?? '']),
      );
      const declared = (template.Parameters ?? {}) as Record<string, { Default?: unknown }>;
      for (const [key, decl] of Object.entries(declared)) {
        if (parameters[key] === undefined && decl.Default === undefined) {
          return error(400, 'StackValidationFailed', `The Parameter (${key}) was not provided.`);
        }
      }
      const stack: StandInStack = {
        id: randomUUID(),
        name,
        status: '',
        statusReason: '',
        template,
        templateBody: p.get('TemplateBody') ?? '',
        parameters,
        events: [],
        pollsLeft: 0,
        settlesTo: '',
        retained: [],
      };
      stacks.set(stack.id, stack);
      operate(stack, 'CREATE');
      return ok({ StackId: stack.id });
    },
    UpdateStack(p) {
      const stack = live(p.get('StackId'));
      if (!stack) return notFound(p.get('StackId'));
      if (stack.status.endsWith('_IN_PROGRESS')) {
        return error(409, 'ActionInProgress', `Stack ${stack.name} is in ${stack.status} state.`);
      }
      const body = p.get('TemplateBody') ?? '';
      const parameters = Object.fromEntries(
        listOf(p, 'Parameters').map((x) => [x.ParameterKey ?? '', x.ParameterValue ?? '']),
      );
      if (
        body === stack.templateBody &&
        JSON.stringify(parameters) === JSON.stringify(stack.parameters)
      ) {
        return error(
          400,
          'NotSupported',
          `Update the completely same stack(${stack.id}) is not supported.`,
        );
      }
      stack.template = JSON.parse(body) as Record<string, unknown>;
      stack.templateBody = body;
      stack.parameters = parameters;
      operate(stack, 'UPDATE');
      return ok({ StackId: stack.id });
    },
    GetStack(p) {
      if (throttled > 0) {
        throttled--;
        return error(400, 'Throttling.User', 'Request was denied due to user flow control.');
      }
      const stack = live(p.get('StackId'));
      if (!stack) return notFound(p.get('StackId'));
      settle(stack);
      if (stack.status === 'DELETE_COMPLETE') return notFound(stack.id);
      return ok({
        StackId: stack.id,
        StackName: stack.name,
        RegionId: p.get('RegionId'),
        Status: stack.status,
        StatusReason: stack.statusReason,
        Outputs: stack.status.endsWith('_COMPLETE') ? outputsOf(stack) : [],
        Parameters: Object.entries(stack.parameters).map(([ParameterKey, ParameterValue]) => ({
          ParameterKey,
          ParameterValue,
        })),
      });
    },
    ListStacks(p) {
      const names = listOf(p, 'StackName').map((x) => x['']);
      const found = [...stacks.values()].filter(
        (s) => s.status !== 'DELETE_COMPLETE' && (names.length === 0 || names.includes(s.name)),
      );
      return ok({
        Stacks: found.map((s) => ({
          StackId: s.id,
          StackName: s.name,
          Status: s.status,
          RegionId: p.get('RegionId'),
        })),
        TotalCount: found.length,
        PageNumber: 1,
        PageSize: Number(p.get('PageSize') ?? 10),
      });
    },
    ListStackEvents(p) {
      const stack = stacks.get(p.get('StackId') ?? '');
      if (!stack) return notFound(p.get('StackId'));
      return ok({
        Events: stack.events.map((e) => ({ ...e, StackId: stack.id, StackName: stack.name })),
        TotalCount: stack.events.length,
        PageNumber: 1,
        PageSize: 100,
      });
    },
    DeleteStack(p) {
      const stack = live(p.get('StackId'));
      if (!stack) return notFound(p.get('StackId'));
      stack.retained = listOf(p, 'RetainResources')
        .map((x) => x[''])
        .filter((x): x is string => Boolean(x));
      stack.status = 'DELETE_IN_PROGRESS';
      stack.pollsLeft = polls;
      stack.settlesTo = 'DELETE_COMPLETE';
      return ok({});
    },
  };

  const server = await startJsonServer((request) => {
    if (acs3AccessKey(request, options.accessKeySecret) !== options.accessKeyId) {
      return error(
        400,
        'SignatureDoesNotMatch',
        'Specified signature is not matched with our calculation.',
      );
    }
    if (request.headers['x-acs-version'] !== ROS_VERSION) {
      return error(400, 'InvalidVersion', `Specified parameter Version is not valid.`);
    }
    const action = String(request.headers['x-acs-action'] ?? '');
    const handler = handlers[action];
    if (!handler)
      return error(404, 'InvalidAction.NotFound', `Specified api ${action} is not found.`);
    actions.push(action);
    return handler(paramsOf(request));
  });
  return {
    url: server.url,
    server,
    stacks,
    actions,
    failNext(logicalId, reason) {
      failure = { logicalId, reason };
    },
    throttleGetStack(n) {
      throttled = n;
    },
    close: server.close,
  };
}
