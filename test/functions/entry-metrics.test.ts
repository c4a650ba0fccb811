/**
 * The platform entries pick their metric format: the Lambda entry writes CloudWatch EMF lines
 * to stdout (which Lambda ships to CloudWatch Logs), the FC entry plain JSON lines for SLS.
 * The entries run as deployed: configuration from the environment (pointing at the simulator),
 * the module-level runtime, stdout captured at the process boundary.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { clearTokenCache } from '../../lib/dingtalk/api.js';
import { type Simulator, startSimulator } from '../../lib/simulator/index.js';
import { pushedEvent } from '../support/pushed-event.js';

const APP = { clientId: 'dingentryapp', clientSecret: 'entry-secret-1', accountId: 'default' };
let sim: Simulator;
const written: string[] = [];

beforeAll(async () => {
  clearTokenCache();
  sim = await startSimulator({ apps: [APP] });
  Object.assign(process.env, {
    DINGTALK_CLIENT_ID: APP.clientId,
    DINGTALK_CLIENT_SECRET: APP.clientSecret,
    DINGTALK_API_BASE: sim.apiBase,
    DINGTALK_OAPI_BASE: sim.oapiBase,
    DINGTALK_DM_POLICY: 'open',
    DINGTALK_DM_ALLOW_FROM: '*',
    STATE_BACKEND: 'memory',
    LOG_LEVEL: 'error',
  });
  // Node's stdout is the boundary the platforms read; keep what the entries write to it.
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  });
});

afterAll(async () => {
  vi.restoreAllMocks();
  await sim.close();
});

const metricLines = () =>
  written
    .flatMap((chunk) => chunk.split('\n'))
    .filter((l) => l.includes('"MessagesHandled"'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('metrics from the function entries', () => {
  it('the Lambda entry emits EMF for a handled message', async () => {
    const { handler } = await import('../../functions/message/aws.js');
    const injected = sim.injectMessage({
      conversationType: '1',
      sender: { staffId: 'u1' },
      text: 'hi',
    });
    const outcome = await handler(pushedEvent(sim, injected.messageId), {
      getRemainingTimeInMillis: () => 30_000,
    });
    expect(outcome).toEqual({ status: 'handled' });
    const [line] = metricLines();
    expect(line).toMatchObject({
      account: 'default',
      status: 'handled',
      MessagesHandled: 1,
      _aws: {
        CloudWatchMetrics: [
          {
            Namespace: 'DingTalkChannel',
            Dimensions: [['account', 'status']],
            Metrics: [{ Name: 'MessagesHandled', Unit: 'Count' }],
          },
        ],
      },
    });
  });

  it('the FC entry emits plain JSON, counting an unreadable event as dropped by reason', async () => {
    const { handler } = await import('../../functions/message/fc.js');
    written.length = 0;
    expect(await handler(Buffer.from('not json'), {})).toEqual({
      status: 'dropped',
      reason: 'invalid_event',
    });
    const dropped = written
      .flatMap((chunk) => chunk.split('\n'))
      .filter((l) => l.includes('"MessagesDropped"'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(dropped).toEqual([
      expect.objectContaining({
        kind: 'metrics',
        account: 'unknown',
        reason: 'invalid_event',
        MessagesDropped: 1,
      }),
    ]);
    expect(dropped[0]?._aws).toBeUndefined();
  });
});
