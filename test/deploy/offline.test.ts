/**
 * The local Lambda run README "Run the functions locally" documents, followed step by step:
 * `serverless offline --stage local` with the settings in the shell (no --localEnvironment, no
 * Secrets Manager), the dynalite table `dingtalk-channel-local-state`, and the real relay
 * handing messages over with the Lambda Invoke API (`RELAY_TARGET=lambda:…`,
 * `AWS_ENDPOINT_URL_LAMBDA`). The DM's reply must land in the simulator's outbox.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SERVERLESS_BIN } from '../../infra/scripts/isolated-service.js';
import { loadConfig } from '../../lib/config/index.js';
import { createLogger } from '../../lib/log.js';
import { type RunningRelay, runRelay } from '../../lib/relay/run.js';
import { type Simulator, startSimulator } from '../../lib/simulator/index.js';
import { startTestDynalite, type TestDynalite } from '../support/dynalite.js';
import { type IsolatedService, isolatedEnv, isolatedService } from './support.js';

const APP = { clientId: 'dingofflineapp', clientSecret: 'offline-secret-1', accountId: 'default' };
const TABLE = 'dingtalk-channel-local-state';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

let sim: Simulator;
let db: TestDynalite;
let service: IsolatedService;
let offline: ChildProcess | undefined;
let relay: RunningRelay | undefined;
let lambdaPort: number;

beforeAll(async () => {
  sim = await startSimulator({ apps: [APP] });
  db = await startTestDynalite({ tableName: TABLE });
  service = await isolatedService('offline');
  lambdaPort = await freePort();
  const httpPort = await freePort();
  // Step 1 of the README: the settings the functions need, in the shell.
  const env = isolatedEnv({
    DINGTALK_CONFIG: JSON.stringify({
      clientId: APP.clientId,
      clientSecret: APP.clientSecret,
      dm: { policy: 'open', allowFrom: ['*'] },
    }),
    DINGTALK_API_BASE: sim.apiBase,
    DINGTALK_OAPI_BASE: sim.oapiBase,
    DYNAMODB_ENDPOINT: db.endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    LOG_LEVEL: 'warn',
  });
  // Step 2: serverless offline --stage local (lambda port for the Invoke API).
  const child = spawn(
    process.execPath,
    [
      SERVERLESS_BIN,
      'offline',
      '--stage',
      'local',
      '--host',
      '127.0.0.1',
      '--httpPort',
      String(httpPort),
      '--lambdaPort',
      String(lambdaPort),
    ],
    { cwd: service.dir, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  offline = child;
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`offline did not start:\n${output}`)), 120_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('dingtalk-channel-local-message')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => reject(new Error(`offline exited ${code}:\n${output}`)));
  });
  // Step 3: the relay, pointed at offline's Lambda endpoint.
  vi.stubEnv('AWS_ENDPOINT_URL_LAMBDA', `http://127.0.0.1:${lambdaPort}`);
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'local');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'local');
  const config = loadConfig(
    {
      DINGTALK_CLIENT_ID: APP.clientId,
      DINGTALK_CLIENT_SECRET: APP.clientSecret,
      DINGTALK_GATEWAY_URL: sim.gatewayUrl,
      RELAY_TARGET: 'lambda:dingtalk-channel-local-message',
      AWS_REGION: 'us-east-1',
      PORT: '0',
    },
    { requireCredentials: true },
  );
  relay = await runRelay(config, { logger: createLogger({ level: 'silent' }) });
}, 180_000);

afterAll(async () => {
  await relay?.stop(0);
  if (offline?.pid && offline.exitCode === null) {
    const exited = new Promise((resolve) => offline!.once('exit', resolve));
    offline.kill('SIGTERM');
    await exited;
  }
  vi.unstubAllEnvs();
  await sim?.close();
  await db?.close();
  await service?.remove();
});

describe('serverless offline --stage local, as README documents it', () => {
  it('the relay invokes the offline message function, which answers through the simulator', async () => {
    const injected = sim.injectMessage({
      conversationType: '1',
      sender: { staffId: 'manager807', nick: 'Zhang' },
      text: 'hello from offline',
    });
    const reply = await sim.waitFor(
      () => sim.outbox().find((e) => e.text?.includes('hello from offline')),
      60_000,
    );
    expect(reply).toMatchObject({ via: 'webhook', account: 'default' });
    expect(reply.text).toContain('Echo agent');
    // The function kept its state in the dynalite table the README names (completed just after
    // the reply was sent).
    let claim: Record<string, unknown> | undefined;
    for (let i = 0; i < 200 && claim?.status !== 'COMPLETED'; i++) {
      claim = await db.store.get(`dedup#default#${injected.msgId}`, 'claim');
      if (claim?.status !== 'COMPLETED') await new Promise((r) => setTimeout(r, 50));
    }
    expect(claim).toMatchObject({ status: 'COMPLETED' });
  }, 90_000);
});
