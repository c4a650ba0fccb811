/**
 * The packaged message function, run by `serverless invoke local --stage local` exactly as
 * serverless.yml bundles it (serverless-esbuild, CommonJS), on an event the simulator built:
 * the reply must land in the simulator's outbox, and the state in the (dynalite) table.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MessageEvent } from '../../lib/forward/port.js';
import { type Simulator, startSimulator } from '../../lib/simulator/index.js';
import { keys } from '../../lib/state/keys.js';
import { startTestDynalite, type TestDynalite } from '../support/dynalite.js';
import { pushedEvent } from '../support/pushed-event.js';
import { type IsolatedService, isolatedEnv, isolatedService, runServerless } from './support.js';

const APP = {
  clientId: 'dinginvokelocal',
  clientSecret: 'invoke-local-secret-1',
  accountId: 'default',
};
// serverless.yml names the table `${service}-${stage}-state`.
const TABLE = 'dingtalk-channel-local-state';

let sim: Simulator;
let db: TestDynalite;
let service: IsolatedService;

beforeAll(async () => {
  sim = await startSimulator({ apps: [APP] });
  db = await startTestDynalite({ tableName: TABLE });
  service = await isolatedService('invoke-local');
});

afterAll(async () => {
  await sim?.close();
  await db?.close();
  await service?.remove();
});

function eventFor(text: string): { event: MessageEvent; msgId: string } {
  const injected = sim.injectMessage({
    conversationType: '1',
    sender: { staffId: 'manager807', nick: 'Zhang' },
    text,
  });
  return { event: pushedEvent(sim, injected.messageId), msgId: injected.msgId };
}

describe('serverless invoke local: the message function', () => {
  it('handles a simulator-built event and the reply reaches the simulator outbox', async () => {
    const { event, msgId } = eventFor('hello from invoke local');
    const eventFile = join(service.dir, 'event.json');
    await writeFile(eventFile, JSON.stringify(event));
    const env = isolatedEnv({
      // `--stage local` takes DINGTALK_CONFIG from the shell instead of Secrets Manager.
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

    const run = await runServerless(
      ['invoke', 'local', '--function', 'message', '--stage', 'local', '--path', eventFile],
      { env, serviceDir: service.dir },
    );

    expect(run.stderr + run.stdout).not.toContain('Error');
    expect(run.code).toBe(0);
    // stdout carries the function's CloudWatch EMF metric lines, then invoke local's result.
    const lines = run.stdout.split('\n');
    const emf = lines.filter((l) => l.startsWith('{"_aws"')).map((l) => JSON.parse(l));
    expect(emf).toContainEqual(
      expect.objectContaining({ account: 'default', status: 'handled', MessagesHandled: 1 }),
    );
    const result = lines.filter((l) => !l.startsWith('{"_aws"')).join('\n');
    expect(JSON.parse(result.slice(result.indexOf('{')))).toEqual({ status: 'handled' });
    expect(sim.outbox()).toEqual([
      expect.objectContaining({
        via: 'webhook',
        account: 'default',
        text: expect.stringContaining('hello from invoke local'),
      }),
    ]);
    const { pk, sk } = keys.dedupClaim('default', msgId);
    const claim = await db.store.get(pk, sk);
    expect(claim?.status).toBe('COMPLETED');
  }, 240_000); // bundles the function first; slow when the other deploy tests build in parallel
});
