/**
 * `npx tsx bench/metrics-scrape.ts`: what the operator metrics cost. A relay on the simulator
 * (in-process pipeline, echo agent, memory store) answers 200 DMs, then `/metrics` is scraped
 * 500 times over loopback; and the message function's EMF formatting of one invocation's points
 * is timed. Figures only (not a test): a Prometheus scrape every 15–30 s and one log line set
 * per invocation are the budgets these are read against.
 */
import { loadConfig } from '../lib/config/index.js';
import { memoryLogger } from '../lib/log.js';
import { formatMetrics, type MetricPoint } from '../lib/metrics/index.js';
import { runRelay } from '../lib/relay/run.js';
import { startSimulator } from '../lib/simulator/index.js';

const APP = { clientId: 'dingbenchmetrics', clientSecret: 'bench-secret', accountId: 'default' };
const sim = await startSimulator({ apps: [APP] });
const config = loadConfig(
  {
    DINGTALK_CLIENT_ID: APP.clientId,
    DINGTALK_CLIENT_SECRET: APP.clientSecret,
    DINGTALK_GATEWAY_URL: sim.gatewayUrl,
    DINGTALK_API_BASE: sim.apiBase,
    DINGTALK_OAPI_BASE: sim.oapiBase,
    DINGTALK_DM_POLICY: 'open',
    DINGTALK_DM_ALLOW_FROM: '*',
    RELAY_TARGET: 'inprocess',
    STATE_BACKEND: 'memory',
    PORT: '0',
  },
  { requireCredentials: true },
);
const relay = await runRelay(config, { logger: memoryLogger('error'), healthHost: '127.0.0.1' });
for (let i = 0; i < 200; i += 1) {
  sim.injectMessage({ conversationType: '1', sender: { staffId: `user${i}` }, text: `m${i}` });
}
await sim.waitForOutbox(200, 60_000);

const url = `${relay.health.url}/metrics`;
for (let i = 0; i < 50; i += 1) await (await fetch(url)).text(); // warm-up
const scrapes = 500;
let bytes = 0;
const started = performance.now();
for (let i = 0; i < scrapes; i += 1) bytes = (await (await fetch(url)).text()).length;
const scrapeMs = (performance.now() - started) / scrapes;

const points: MetricPoint[] = [
  {
    name: 'MessagesHandled',
    value: 1,
    unit: 'Count',
    dimensions: { account: 'a', status: 'handled' },
  },
  { name: 'HandlerDuration', value: 12, unit: 'Milliseconds', dimensions: { account: 'a' } },
  { name: 'AgentLatency', value: 9, unit: 'Milliseconds', dimensions: { account: 'a' } },
  { name: 'ReplyCalls', value: 1, unit: 'Count', dimensions: { account: 'a', route: 'webhook' } },
];
const rounds = 20_000;
const formatStarted = performance.now();
for (let i = 0; i < rounds; i += 1) {
  formatMetrics(points, 'emf', { namespace: 'DingTalkChannel', timestamp: Date.now() });
}
const formatUs = ((performance.now() - formatStarted) / rounds) * 1000;

console.log(
  `relay /metrics scrape: ${scrapeMs.toFixed(2)} ms mean over ${scrapes} (${bytes} bytes)`,
);
console.log(`function EMF lines for one invocation: ${formatUs.toFixed(1)} µs mean over ${rounds}`);
await relay.stop(0);
await sim.close();
