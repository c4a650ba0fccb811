import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../lib/errors.js';
import { DEMO_APP, startSimulator } from '../../lib/simulator/index.js';
import { call, closeAll, onCleanup } from './helpers.js';

afterEach(closeAll);

describe('simulator options', () => {
  it('serves the demo app by default, with every base URL on one server', async () => {
    const sim = await startSimulator();
    onCleanup(() => sim.close());
    expect(sim.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect([sim.apiBase, sim.oapiBase]).toEqual([sim.url, sim.url]);
    expect(sim.gatewayUrl).toBe(`${sim.url}/v1.0/gateway/connections/open`);
    expect(sim.apps.map((a) => [a.clientId, a.accountId, a.robotCode])).toEqual([
      [DEMO_APP.clientId, 'default', DEMO_APP.clientId],
    ]);
    const res = await call(`${sim.url}/v1.0/oauth2/accessToken`, {
      body: { appKey: DEMO_APP.clientId, appSecret: DEMO_APP.clientSecret },
    });
    expect(res.status).toBe(200);
  });

  it.each([
    [{ apps: [] }, '`apps`'],
    [{ apps: [{ clientId: '', clientSecret: 's' }] }, 'apps[0]`.clientId'],
    [{ apps: [{ clientId: 'a', clientSecret: '' }] }, 'apps[0]`.clientSecret'],
    [
      {
        apps: [
          { clientId: 'a', clientSecret: 's' },
          { clientId: 'a', clientSecret: 't' },
        ],
      },
      'used by another app',
    ],
    [{ callbackAckTimeoutMs: -1 }, 'callbackAckTimeoutMs'],
    [{ port: 70_000 }, 'port'],
    [{ qpsPerApp: -3 }, 'qpsPerApp'],
  ])('rejects %j with a ConfigError naming %s', async (options, key) => {
    const started = startSimulator(options);
    await expect(started).rejects.toBeInstanceOf(ConfigError);
    await expect(started).rejects.toThrow(key);
  });
});
