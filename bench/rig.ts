/**
 * What every benchmark shares: a simulator with N apps, the channel configuration that points
 * at it (the same environment variables a user sets), and message injection helpers.
 */
import { clearTokenCache } from '../lib/dingtalk/api.js';
import {
  type InjectedMessage,
  type Simulator,
  type SimulatorAppOptions,
  type SimulatorOptions,
  startSimulator,
} from '../lib/simulator/index.js';

/** The i-th benchmark app (DingTalk robot); its account id is `acct<i>`. */
export function benchApp(i: number): Required<Omit<SimulatorAppOptions, 'robotCode'>> {
  return { clientId: `dingbench${i}`, clientSecret: `bench-secret-${i}`, accountId: `acct${i}` };
}

/** Starts a simulator serving `accounts` apps; redelivery is off unless the options say so. */
export async function startBenchSimulator(
  accounts: number,
  options: SimulatorOptions = {},
): Promise<Simulator> {
  clearTokenCache();
  return startSimulator({
    apps: Array.from({ length: accounts }, (_, i) => benchApp(i)),
    // A benchmark must not be disturbed by redeliveries of slow ACKs.
    callbackAckTimeoutMs: 120_000,
    maxRedeliveries: 0,
    ...options,
  });
}

/**
 * The environment `loadConfig` / the CLI read: open DM and group policies, one
 * `channels.dingtalk.accounts` entry per simulator app, and the simulator's URLs.
 */
export function channelEnv(
  sim: Simulator,
  accounts: number,
  extra: Record<string, string> = {},
): Record<string, string> {
  const entries = Array.from({ length: accounts }, (_, i) => {
    const app = benchApp(i);
    return [app.accountId, { clientId: app.clientId, clientSecret: app.clientSecret }] as const;
  });
  return {
    DINGTALK_CONFIG: JSON.stringify({
      dm: { policy: 'open', allowFrom: ['*'] },
      groupPolicy: 'open',
      accounts: Object.fromEntries(entries),
    }),
    DINGTALK_GATEWAY_URL: sim.gatewayUrl,
    DINGTALK_API_BASE: sim.apiBase,
    DINGTALK_OAPI_BASE: sim.oapiBase,
    LOG_LEVEL: 'silent',
    PORT: '0',
    ...extra,
  };
}

/** Injects DM number `i` to account `acct<account>`, from its own sender, with a unique text. */
export function injectDm(sim: Simulator, i: number, account = 0): InjectedMessage {
  return sim.injectMessage({
    account: benchApp(account).accountId,
    conversationType: '1',
    sender: { staffId: `user${i}`, nick: `User ${i}` },
    text: `bench message ${i}`,
  });
}

/** Resolves after the event loop has run once (lets sockets and timers make progress). */
export function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
