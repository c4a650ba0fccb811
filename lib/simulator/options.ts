/**
 * Options of the fake DingTalk and their realistic defaults (dingtalk-protocol.md §8.1).
 * Tests pass small timeouts; demo mode and the CLI keep the defaults.
 */
import type { Clock } from '../clock.js';
import { systemClock } from '../clock.js';
import { ConfigError } from '../errors.js';
import type { Logger } from '../log.js';
import { createLogger } from '../log.js';
import { appIdFor, botUserIdFor, corpIdFor } from './ids.js';

/** One DingTalk app (robot) the simulator accepts credentials for. */
export interface SimulatorAppOptions {
  clientId: string;
  clientSecret: string;
  /** The channel's account name for this app; defaults to the clientId. */
  accountId?: string;
  /** The robotCode OpenAPI calls must carry; defaults to the clientId (internal-app bots). */
  robotCode?: string;
}

/** Everything optional; see the README's simulator section for the table of defaults. */
export interface SimulatorOptions {
  apps?: SimulatorAppOptions[];
  /** Port to listen on; 0 (default) picks a free one. */
  port?: number;
  /** Interface to bind; default 127.0.0.1. URLs handed out always use 127.0.0.1 unless bound to a named host. */
  host?: string;
  callbackAckTimeoutMs?: number;
  maxRedeliveries?: number;
  /** SYSTEM `ping` schedule; 0 or absent = off. */
  pingIntervalMs?: number;
  pingAckTimeoutMs?: number;
  disconnectGraceMs?: number;
  /** Send `disconnect` to every connection this long after it opened; 0 or absent = off. */
  rotateAfterMs?: number;
  queueWhenOffline?: boolean;
  sessionWebhookTtlMs?: number;
  ticketTtlMs?: number;
  /** Per app+API token bucket: `true` = 20 QPS, a number = that QPS, false/absent = off. */
  qpsPerApp?: number | boolean;
  /** Answer 406 to `/open` calls without `Accept: application/json` (N215 L110-113). */
  strictAccept?: boolean;
  tokenTtlSeconds?: number;
  /** Decides expiry (tickets, sessions, tokens) and the QPS buckets; timers still run on real time. */
  clock?: Clock;
  /** staffIds known to the org besides those seen in injected messages. */
  users?: string[];
  /** Group openConversationIds every app is a member of besides those seen in injected messages. */
  groups?: string[];
  /** Picks the connection for each push (default Math.random): the real server picks at random. */
  random?: () => number;
  logger?: Logger;
}

/** An app as the simulator holds it, with its derived, stable identities. */
export interface SimApp {
  clientId: string;
  clientSecret: string;
  accountId: string;
  robotCode: string;
  /** The `appId` header of CALLBACK/EVENT frames (a uuid in production). */
  appId: string;
  /** The bot's encrypted dingtalkId, `chatbotUserId` in payloads. */
  chatbotUserId: string;
  corpId: string;
}

export interface ResolvedOptions {
  apps: SimApp[];
  port: number;
  host: string;
  callbackAckTimeoutMs: number;
  maxRedeliveries: number;
  pingIntervalMs: number;
  pingAckTimeoutMs: number;
  disconnectGraceMs: number;
  rotateAfterMs: number;
  queueWhenOffline: boolean;
  sessionWebhookTtlMs: number;
  ticketTtlMs: number;
  qpsPerApp: number;
  strictAccept: boolean;
  tokenTtlSeconds: number;
  clock: Clock;
  users: string[];
  groups: string[];
  random: () => number;
  logger: Logger;
}

export const DEMO_APP: SimulatorAppOptions = Object.freeze({
  clientId: 'dingsimulatorapp',
  clientSecret: 'simulator-secret',
  accountId: 'default',
});

const DEFAULTS = {
  callbackAckTimeoutMs: 60_000,
  maxRedeliveries: 1,
  pingIntervalMs: 0,
  pingAckTimeoutMs: 5_000,
  disconnectGraceMs: 10_000,
  rotateAfterMs: 0,
  sessionWebhookTtlMs: 90 * 60_000,
  ticketTtlMs: 90_000,
  tokenTtlSeconds: 7_200,
  qpsWhenEnabled: 20,
};

const NUMBER_KEYS = [
  'port',
  'callbackAckTimeoutMs',
  'maxRedeliveries',
  'pingIntervalMs',
  'pingAckTimeoutMs',
  'disconnectGraceMs',
  'rotateAfterMs',
  'sessionWebhookTtlMs',
  'ticketTtlMs',
  'tokenTtlSeconds',
] as const;

/** Fills defaults and checks the options; throws ConfigError naming each bad key. */
export function resolveOptions(options: SimulatorOptions = {}): ResolvedOptions {
  const issues: string[] = [];
  for (const key of NUMBER_KEYS) {
    const value = options[key];
    if (value !== undefined && (!Number.isInteger(value) || value < 0)) {
      issues.push(`simulator option \`${key}\` must be a non-negative integer`);
    }
  }
  if (options.port !== undefined && options.port > 65_535) {
    issues.push('simulator option `port` must be at most 65535');
  }
  const apps = resolveApps(options.apps ?? [DEMO_APP], issues);
  const qps = resolveQps(options.qpsPerApp, issues);
  if (issues.length > 0) throw new ConfigError(issues);
  return {
    apps,
    port: options.port ?? 0,
    host: options.host ?? '127.0.0.1',
    callbackAckTimeoutMs: options.callbackAckTimeoutMs ?? DEFAULTS.callbackAckTimeoutMs,
    maxRedeliveries: options.maxRedeliveries ?? DEFAULTS.maxRedeliveries,
    pingIntervalMs: options.pingIntervalMs ?? DEFAULTS.pingIntervalMs,
    pingAckTimeoutMs: options.pingAckTimeoutMs ?? DEFAULTS.pingAckTimeoutMs,
    disconnectGraceMs: options.disconnectGraceMs ?? DEFAULTS.disconnectGraceMs,
    rotateAfterMs: options.rotateAfterMs ?? DEFAULTS.rotateAfterMs,
    queueWhenOffline: options.queueWhenOffline ?? true,
    sessionWebhookTtlMs: options.sessionWebhookTtlMs ?? DEFAULTS.sessionWebhookTtlMs,
    ticketTtlMs: options.ticketTtlMs ?? DEFAULTS.ticketTtlMs,
    qpsPerApp: qps,
    strictAccept: options.strictAccept ?? false,
    tokenTtlSeconds: options.tokenTtlSeconds ?? DEFAULTS.tokenTtlSeconds,
    clock: options.clock ?? systemClock,
    users: [...(options.users ?? [])],
    groups: [...(options.groups ?? [])],
    random: options.random ?? Math.random,
    logger: options.logger ?? createLogger({ level: 'silent' }),
  };
}

function resolveQps(value: number | boolean | undefined, issues: string[]): number {
  if (value === undefined || value === false) return 0;
  if (value === true) return DEFAULTS.qpsWhenEnabled;
  if (typeof value !== 'number' || !(value > 0)) {
    issues.push('simulator option `qpsPerApp` must be true, false or a positive number');
    return 0;
  }
  return value;
}

function resolveApps(apps: SimulatorAppOptions[], issues: string[]): SimApp[] {
  if (!Array.isArray(apps) || apps.length === 0) {
    issues.push('simulator option `apps` must list at least one app');
    return [];
  }
  const seen = new Set<string>();
  const out: SimApp[] = [];
  apps.forEach((app, i) => {
    const where = `simulator option \`apps[${i}]\``;
    if (typeof app?.clientId !== 'string' || app.clientId === '') {
      issues.push(`${where}.clientId must be a non-empty string`);
      return;
    }
    if (typeof app.clientSecret !== 'string' || app.clientSecret === '') {
      issues.push(`${where}.clientSecret must be a non-empty string`);
      return;
    }
    const accountId = app.accountId ?? app.clientId;
    for (const name of new Set([app.clientId, accountId])) {
      if (seen.has(name)) issues.push(`${where}: "${name}" is used by another app`);
      seen.add(name);
    }
    out.push({
      clientId: app.clientId,
      clientSecret: app.clientSecret,
      accountId,
      robotCode: app.robotCode ?? app.clientId,
      appId: appIdFor(app.clientId),
      chatbotUserId: botUserIdFor(app.clientId),
      corpId: corpIdFor('simulator-org'),
    });
  });
  return out;
}
