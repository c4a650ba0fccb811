/**
 * The FC entries as FC 3.0 runs them, from the packages `serverless package` ships: each zip is
 * unpacked; the message and send functions run in a stand-in of the built-in nodejs20 runtime
 * (fc-runtime.cjs: `index.handler(Buffer, context)` with FC's context: request id, the role's
 * credentials, the function's timeout); the relay runs as the custom runtime starts it (the
 * template's Args in the code directory, on the runtime port, health-checked). Environment
 * variables are the template's, with the cloud endpoints pointed at local stand-ins: the state
 * is the fake Tablestore (lib/tablestore-fake) on the instance and table the template names,
 * reached with the role credentials FC injects.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { zipFunction } from '../../../infra/aliyun/plugin/artifacts.js';
import { readStackInput } from '../../../infra/aliyun/plugin/schema.js';
import { compileTemplate } from '../../../infra/aliyun/plugin/template/index.js';
import { asyncTaskIdOf } from '../../../lib/forward/fc-common.js';
import type { MessageEvent } from '../../../lib/forward/port.js';
import { type Simulator, startSimulator } from '../../../lib/simulator/index.js';
import { ensureTablestoreTable } from '../../../lib/state/tablestore.js';
import { type FakeTablestore, startFakeTablestore } from '../../../lib/tablestore-fake/index.js';
import { acs3AccessKey } from '../../forward/signatures.js';
import { type JsonServer, startJsonServer } from '../../support/fake-json-server.js';
import { pushedEvent } from '../../support/pushed-event.js';
import { REPO_ROOT } from '../support.js';
import {
  type FcInstance,
  freePort,
  removeDirs,
  startCustomRuntime,
  startInstance,
  unpack,
  waitHealthy,
} from './fc-host.js';

const APP = {
  clientId: 'dingfcentries',
  clientSecret: 'fc-entries-secret-1',
  accountId: 'default',
};
const SEND_TOKEN = 'fc-send-token-0123456789abcdef0123456789';
const ROLE = {
  accessKeyId: 'STS.fc-role-key',
  accessKeySecret: 'fc-role-secret-0123',
  securityToken: 'fc-sts-token',
};

const input = readStackInput(
  {
    service: 'dingtalk-channel',
    provider: { environment: { AGENT: 'echo', LOG_LEVEL: 'warn' } },
    functions: { message: {}, send: {}, relay: {} },
  },
  'test',
  'cn-hangzhou',
);
const template = compileTemplate(input, {
  message: { name: 'message', file: '', sha256: '', bytes: 0, objectKey: 'm.zip' },
  send: { name: 'send', file: '', sha256: '', bytes: 0, objectKey: 's.zip' },
  relay: { name: 'relay', file: '', sha256: '', bytes: 0, objectKey: 'r.zip' },
});
// biome-ignore lint/suspicious/noExplicitAny: template properties are untyped JSON, read in assertions
type Props = Record<string, any>;
const fnProps = (id: string) => template.Resources[id]?.Properties as Props;

let sim: Simulator;
let ots: FakeTablestore;
const dirs: string[] = [];
const closers: (() => Promise<unknown>)[] = [];
let codeDirs: Record<'message' | 'send' | 'relay', string>;

/** The template's environment with its intrinsic values resolved as ROS would. */
function templateEnv(id: string): Record<string, string> {
  const env: Record<string, string> = {};
  // The configuration document the OOS parameter holds (README "Deploy to Alibaba Cloud").
  const config = JSON.stringify({
    channels: {
      dingtalk: {
        clientId: APP.clientId,
        clientSecret: APP.clientSecret,
        dm: { policy: 'open', allowFrom: ['*'] },
      },
    },
    dingtalkChannel: { send: { token: SEND_TOKEN } },
  });
  for (const [key, value] of Object.entries(
    fnProps(id).EnvironmentVariables as Record<string, unknown>,
  )) {
    if (typeof value === 'string') env[key] = value;
    else if (key === 'DINGTALK_CONFIG') env[key] = config; // Fn::GetAtt ConfigSecret.Value
  }
  // The system variables FC sets in every instance (FC "environment variables" docs).
  return {
    ...env,
    FC_ACCOUNT_ID: '1234567890123456',
    FC_REGION: 'cn-hangzhou',
    FC_FUNCTION_NAME: String(fnProps(id).FunctionName),
  };
}

const simEnv = () => ({
  PATH: process.env.PATH ?? '',
  DINGTALK_API_BASE: sim.apiBase,
  DINGTALK_OAPI_BASE: sim.oapiBase,
  DINGTALK_GATEWAY_URL: sim.gatewayUrl,
});

/** The role credentials FC injects as ALIBABA_CLOUD_* variables (and in the context). */
const roleEnv = () => ({
  ALIBABA_CLOUD_ACCESS_KEY_ID: ROLE.accessKeyId,
  ALIBABA_CLOUD_ACCESS_KEY_SECRET: ROLE.accessKeySecret,
  ALIBABA_CLOUD_SECURITY_TOKEN: ROLE.securityToken,
});

function messageEnv(): NodeJS.ProcessEnv {
  const env = templateEnv('MessageFunction');
  expect(env.STATE_BACKEND).toBe('tablestore');
  // The template's endpoint is https://<instance>.<region>.ots.aliyuncs.com: here, the fake.
  return { ...env, ...simEnv(), ...roleEnv(), TABLESTORE_ENDPOINT: ots.endpoint };
}

const fcContext = (name: string, timeout: number) => ({
  requestId: `req-${Math.random().toString(36).slice(2)}`,
  credentials: ROLE,
  function: { name, handler: 'index.handler', memory: 512, timeout },
  region: 'cn-hangzhou',
  accountId: '1234567890123456',
});

function eventFor(text: string): MessageEvent {
  const injected = sim.injectMessage({
    conversationType: '1',
    sender: { staffId: 'manager807', nick: 'Zhang' },
    text,
  });
  return pushedEvent(sim, injected.messageId);
}

async function until(check: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

beforeAll(async () => {
  sim = await startSimulator({ apps: [APP] });
  ots = await startFakeTablestore({ ...ROLE, instance: input.state.instanceName });
  // ROS creates the table (ALIYUN::OTS::Table) before the functions exist.
  await ensureTablestoreTable({
    ...ROLE,
    endpoint: ots.endpoint,
    instance: input.state.instanceName,
    tableName: input.state.tableName,
  });
  const [message, send, relay] = await Promise.all(
    (['message', 'send', 'relay'] as const).map(async (name) =>
      unpack(await zipFunction(REPO_ROOT, name), `fc-${name}`),
    ),
  );
  codeDirs = { message: message!, send: send!, relay: relay! };
  dirs.push(message!, send!, relay!);
}, 120_000);

afterAll(async () => {
  for (const close of closers.reverse()) await close();
  await sim?.close();
  await ots?.close();
  await removeDirs(dirs);
});

describe('message function on the nodejs20 runtime (functions/message/fc.ts)', () => {
  let instance: FcInstance;
  beforeAll(() => {
    instance = startInstance(codeDirs.message, messageEnv());
    closers.push(() => instance.close());
  });

  it('handles an async-invoked event (Buffer body, FC context) and replies in the simulator', async () => {
    const event = eventFor('hello from FC');
    const answer = await instance.invoke(
      JSON.stringify(event),
      fcContext(fnProps('MessageFunction').FunctionName, 120),
    );
    expect(answer).toEqual({ result: { status: 'handled' } });
    // The dedup claim and session went through the Tablestore API, signed with the role's keys.
    expect(ots.calls().PutRow ?? 0).toBeGreaterThan(0);
    expect(sim.outbox()).toContainEqual(
      expect.objectContaining({ via: 'webhook', text: expect.stringContaining('hello from FC') }),
    );
  });

  it('drops bytes that are not an event instead of failing (FC would retry them forever)', async () => {
    const answer = await instance.invoke('not json at all', fcContext('m', 120));
    expect(answer).toEqual({ result: { status: 'dropped', reason: 'invalid_event' } });
  });
});

describe('send function behind the HTTP trigger (functions/send/fc.ts)', () => {
  let instance: FcInstance;
  beforeAll(() => {
    instance = startInstance(codeDirs.send, { ...templateEnv('SendFunction'), ...simEnv() });
    closers.push(() => instance.close());
  });

  const httpEvent = (authorization: string | undefined, body: string, base64 = false) =>
    JSON.stringify({
      version: 'v1',
      rawPath: '/',
      headers: {
        'Content-Type': 'application/json',
        ...(authorization ? { Authorization: authorization } : {}),
      },
      queryParameters: {},
      body: base64 ? Buffer.from(body, 'utf8').toString('base64') : body,
      isBase64Encoded: base64,
      requestContext: {
        accountId: '1234567890123456',
        http: { method: 'POST', path: '/', protocol: 'HTTP/1.1' },
        requestId: 'r1',
      },
    });

  it('sends with the bearer token (a base64 body decoded as UTF-8) and answers 200', async () => {
    const body = JSON.stringify({ target: 'dingtalk:user:manager807', text: '你好，来自 FC' });
    const answer = await instance.invoke(
      httpEvent(`Bearer ${SEND_TOKEN}`, body, true),
      fcContext('s', 30),
    );
    const result = answer.result as { statusCode: number; body: string };
    expect(result.statusCode, result.body).toBe(200);
    expect(sim.outbox()).toContainEqual(expect.objectContaining({ text: '你好，来自 FC' }));
  });

  it('refuses a request without the token with 401', async () => {
    const body = JSON.stringify({ target: 'dingtalk:user:manager807', text: 'no token' });
    const answer = await instance.invoke(httpEvent(undefined, body), fcContext('s', 30));
    expect((answer.result as { statusCode: number }).statusCode).toBe(401);
  });
});

describe('relay on the custom runtime, handing off to the message function via FC async invoke', () => {
  let fc: JsonServer;
  const taskIds: string[] = [];

  beforeAll(async () => {
    const message = startInstance(codeDirs.message, messageEnv());
    closers.push(() => message.close());
    // FC's InvokeFunction API: checks the relay's signature (its role's credentials), queues the
    // event (202), refuses a task id it already has (409), then runs the function.
    fc = await startJsonServer((request) => {
      if (acs3AccessKey(request, ROLE.accessKeySecret) !== ROLE.accessKeyId) {
        return { status: 403, body: JSON.stringify({ Code: 'InvalidSignature' }) };
      }
      const taskId = String(request.headers['x-fc-async-task-id'] ?? '');
      if (request.headers['x-fc-invocation-type'] !== 'Async' || !taskId) {
        return { status: 400, body: JSON.stringify({ Code: 'InvalidArgument' }) };
      }
      if (taskIds.includes(taskId))
        return { status: 409, body: JSON.stringify({ Code: 'AsyncTaskAlreadyExists' }) };
      taskIds.push(taskId);
      void message.invoke(request.rawBody, fcContext(fnProps('MessageFunction').FunctionName, 120));
      return { status: 202, body: '' };
    });
    closers.push(() => fc.close());
  });

  it('starts from the template command, passes FC health checks, and a DM is answered', async () => {
    const fn = fnProps('RelayFunction');
    const port = await freePort();
    const relay = startCustomRuntime(
      codeDirs.relay,
      {
        args: (fn.CustomRuntimeConfig.Args as string[]).map((a) =>
          a.startsWith('/code/') ? a.slice('/code/'.length) : a,
        ),
      },
      {
        ...templateEnv('RelayFunction'),
        ...simEnv(),
        PORT: String(port),
        // Test-only: production derives the endpoint from FC_ACCOUNT_ID and FC_REGION.
        FC_ENDPOINT: fc.url,
        // FC injects the role's credentials into a custom runtime's environment.
        ...roleEnv(),
      },
    );
    closers.push(() => relay.close());
    await waitHealthy(
      `http://127.0.0.1:${port}${fn.CustomRuntimeConfig.HealthCheckConfig.HttpGetUrl}`,
    );
    await until(() => sim.connections().length > 0, 'the relay to connect its stream');
    const event = eventFor('through the FC relay');
    await until(
      () => sim.outbox().some((m) => m.text.includes('through the FC relay')),
      `the reply (relay output: ${relay.output.join('').slice(-2000)})`,
    );
    // The hand-off carried the message's task id (FC dedups a second enqueue with it). Messages
    // injected before the relay connected were delivered to it too, hence `toContain`.
    expect(taskIds).toContain(asyncTaskIdOf(event));
  }, 60_000);
});

describe('relay FC entry: planned recycle before the role credentials expire', () => {
  it("stops between 12 and 13 hours, well inside the credentials' 36 hours", async () => {
    const { recycleDelayMs } = await import('../../../infra/relay/fc-main.js');
    expect(recycleDelayMs(() => 0)).toBe(12 * 3_600_000);
    expect(recycleDelayMs(() => 0.999_999)).toBeLessThan(13 * 3_600_000);
    expect(recycleDelayMs(() => 0.5)).toBe(12.5 * 3_600_000);
  });
});
