/**
 * How owner commands reach a running demo: `npm start` in demo mode writes
 * `<stateDir>/demo.json` (pid, the simulator's URL, the simulated apps' credentials — demo
 * values that only this local simulator accepts). A command whose configuration has no
 * credentials reads it and, while that process lives, talks to the same simulated DingTalk
 * with the same credentials the demo uses, so `send` and `pairing approve --notify` work there
 * as the README promises. Without a live demo the environment is left unchanged.
 */
import { readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import JSON5 from 'json5';
import { resolveAccounts } from '../config/accounts.js';
import { type LoadedConfig, loadConfig } from '../config/index.js';
import { pidAlive } from '../state/discovery.js';

/** The content of `<stateDir>/demo.json`. */
export interface DemoDiscovery {
  pid: number;
  simulatorUrl: string;
  healthUrl?: string;
  apps: { accountId?: string; clientId: string; clientSecret: string }[];
}

export const DEMO_FILE = 'demo.json';

/** Path of the demo discovery file in a state directory. */
export function demoFilePath(stateDir: string): string {
  return join(stateDir, DEMO_FILE);
}

/** The running demo's discovery, if its file exists and its process lives. */
export async function readLiveDemo(stateDir: string): Promise<DemoDiscovery | undefined> {
  let parsed: Partial<DemoDiscovery>;
  try {
    parsed = JSON.parse(await readFile(demoFilePath(stateDir), 'utf8')) as Partial<DemoDiscovery>;
  } catch {
    return undefined;
  }
  if (!Number.isInteger(parsed.pid) || typeof parsed.simulatorUrl !== 'string') return undefined;
  if (!Array.isArray(parsed.apps) || !pidAlive(parsed.pid!)) return undefined;
  return parsed as DemoDiscovery;
}

/** Removes the demo file if it still belongs to `pid`. */
export async function removeDemoFile(file: string, pid: number): Promise<void> {
  try {
    const current = JSON.parse(await readFile(file, 'utf8')) as { pid?: unknown };
    if (current.pid !== pid) return;
  } catch {
    return;
  }
  await unlink(file).catch(() => undefined);
}

function deepMerge(target: Record<string, unknown>, source: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(source)) {
    const existing = target[key];
    if (isObject(existing) && isObject(value)) deepMerge(existing, value);
    else target[key] = value;
  }
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The environment that points `config`'s accounts at the demo's simulator: the endpoint
 * settings, the default account's credentials as env variables, and every account's
 * credentials merged into `DINGTALK_CONFIG` at the key path each account reads them from.
 */
export function demoCredentialEnv(
  env: NodeJS.ProcessEnv,
  config: LoadedConfig,
  demo: Pick<DemoDiscovery, 'simulatorUrl' | 'apps'>,
): NodeJS.ProcessEnv {
  const byAccount = new Map(demo.apps.map((a) => [a.accountId ?? 'default', a]));
  const credentials: Record<string, unknown> = {};
  let defaultApp: DemoDiscovery['apps'][number] | undefined;
  for (const account of resolveAccounts(config.channel)) {
    const app = byAccount.get(account.config.accountId);
    if (!app || !account.config.enabled) continue;
    if (account.config.accountId === config.defaultAccountId) defaultApp = app;
    const path = account.pathOf('clientId').slice(0, -1);
    let node = credentials;
    for (const key of path) {
      node[key] = isObject(node[key]) ? node[key] : {};
      node = node[key] as Record<string, unknown>;
    }
    Object.assign(node, { clientId: app.clientId, clientSecret: app.clientSecret });
  }
  const inline = env.DINGTALK_CONFIG?.trim() ? JSON5.parse(env.DINGTALK_CONFIG) : undefined;
  let document: Record<string, unknown> = { channels: { dingtalk: credentials } };
  if (isObject(inline)) {
    const channels = inline.channels;
    const channel = isObject(channels) && isObject(channels.dingtalk) ? channels.dingtalk : inline;
    deepMerge(channel, credentials);
    document = inline;
  }
  const url = demo.simulatorUrl;
  return {
    DINGTALK_CONFIG: JSON.stringify(document),
    ...(defaultApp
      ? { DINGTALK_CLIENT_ID: defaultApp.clientId, DINGTALK_CLIENT_SECRET: defaultApp.clientSecret }
      : {}),
    DINGTALK_GATEWAY_URL: `${url}/v1.0/gateway/connections/open`,
    DINGTALK_API_BASE: url,
    DINGTALK_OAPI_BASE: url,
  };
}

/**
 * The environment an owner command should load: unchanged when the configuration has
 * credentials (a real deployment) or no demo runs; else pointed at the running demo.
 */
export async function demoAwareEnv(env: NodeJS.ProcessEnv): Promise<NodeJS.ProcessEnv> {
  const config = loadConfig(env);
  if (config.hasCredentials) return env;
  const demo = await readLiveDemo(config.settings.state.dir);
  if (!demo) return env;
  return { ...env, ...demoCredentialEnv(env, config, demo) };
}
