/**
 * `dingtalk-channel status [--health <url>] [--json]`: what an operator asks first, for the
 * local channel or a deployed table (STATE_BACKEND / STATE_TABLE): the accounts, each one's
 * stream connection, its pending pairing requests, and the relay's counters of the last hour.
 *
 * Where the facts come from: accounts from the configuration; pending pairings from the state
 * store (the same read as `pairing list`); connection state and the hourly counters from the
 * relay's health server (`/healthz`, `/stats/hour`), found through a running demo's
 * `demo.json`, `--health`, or `http://127.0.0.1:$PORT`. The hour window lives in the relay's
 * memory (lib/relay/metrics.ts): no store write per message, at the price of being per replica
 * and reset on restart; fleet-wide history is in Prometheus / CloudWatch / SLS.
 * Exit codes: 0 printed (unreachable parts are said so), 2 usage or configuration error.
 */
import { systemClock } from '../clock.js';
import { loadConfig } from '../config/index.js';
import { errorSummary } from '../errors.js';
import { listPendingRequests } from '../policy/pairing-store.js';
import type { RelayCounters, RelayStatus } from '../relay/relay.js';
import { parseCommandArgs } from './args.js';
import { readLiveDemo } from './demo-link.js';
import { EXIT_OK, type Subcommand } from './main.js';
import {
  describeStore,
  formatTable,
  formatTime,
  usageError,
  withOwnerContext,
} from './open-store.js';

const HELP = `Usage: dingtalk-channel status [--health <url>] [--json]

Prints the accounts, each account's stream connection and pending pairing requests, and the
relay's counters for the last hour. The relay is found through a running \`npm start\`, or
--health <url> (its health server, e.g. http://127.0.0.1:8080), or PORT on this machine.`;

const FETCH_TIMEOUT_MS = 1_500;

interface HourlyStats {
  since: number;
  until: number;
  accounts: { accountId: string; counters: RelayCounters }[];
}

interface AccountReport {
  accountId: string;
  enabled: boolean;
  default: boolean;
  connection?: string;
  pendingPairings?: number;
  lastHour?: RelayCounters;
}

interface StatusReport {
  store: string;
  relay: { url: string; reachable: boolean; ready?: boolean; error?: string };
  pairingsError?: string;
  hour?: { since: string; until: string };
  accounts: AccountReport[];
}

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
  // /readyz-style 503s still carry the status body; anything else is an error.
  if (!res.ok && res.status !== 503) throw new Error(`HTTP ${res.status}`);
  return (await res.json()) as T;
}

async function healthUrl(flag: string | undefined, env: NodeJS.ProcessEnv, stateDir: string) {
  if (flag) return flag.replace(/\/+$/, '');
  const demo = await readLiveDemo(stateDir);
  if (demo?.healthUrl) return demo.healthUrl;
  return `http://127.0.0.1:${env.PORT?.trim() || '8080'}`;
}

async function pendingCounts(
  io: Parameters<Subcommand>[1],
  accountIds: string[],
): Promise<Map<string, number>> {
  return withOwnerContext(io, undefined, async ({ store }) => {
    const counts = new Map<string, number>();
    for (const id of accountIds) {
      counts.set(id, (await listPendingRequests(store, id, systemClock.now())).length);
    }
    return counts;
  });
}

async function collect(io: Parameters<Subcommand>[1], flag: string | undefined) {
  const config = loadConfig(io.env);
  const url = await healthUrl(flag, io.env, config.settings.state.dir);
  const report: StatusReport = {
    store: describeStore(config.settings.state),
    relay: { url, reachable: false },
    accounts: config.allAccounts.map((a) => ({
      accountId: a.accountId,
      enabled: a.enabled,
      default: a.accountId === config.defaultAccountId,
    })),
  };
  const [health, hour, pending] = await Promise.allSettled([
    getJson<RelayStatus>(`${url}/healthz`),
    getJson<HourlyStats>(`${url}/stats/hour`),
    pendingCounts(
      io,
      config.accounts.map((a) => a.accountId),
    ),
  ]);
  if (health.status === 'fulfilled') {
    report.relay = { url, reachable: true, ready: health.value.ready };
    for (const account of report.accounts) {
      const live = health.value.accounts?.find((a) => a.accountId === account.accountId);
      if (live) account.connection = live.state;
    }
  } else {
    report.relay.error = errorSummary(health.reason).message;
  }
  if (hour.status === 'fulfilled') {
    report.hour = {
      since: new Date(hour.value.since).toISOString(),
      until: new Date(hour.value.until).toISOString(),
    };
    for (const account of report.accounts) {
      const counts = hour.value.accounts.find((a) => a.accountId === account.accountId);
      if (counts) account.lastHour = counts.counters;
    }
  }
  if (pending.status === 'fulfilled') {
    for (const account of report.accounts) {
      const count = pending.value.get(account.accountId);
      if (count !== undefined) account.pendingPairings = count;
    }
  } else {
    report.pairingsError = errorSummary(pending.reason).message.split('\n')[0];
  }
  return report;
}

function print(report: StatusReport, out: (line: string) => void): void {
  out(`State: ${report.store}`);
  const relay = report.relay;
  out(
    relay.reachable
      ? `Relay: ${relay.url} (${relay.ready ? 'ready' : 'not ready'})`
      : `Relay: not reachable at ${relay.url} (${relay.error}); connection state and counters come from a running relay (npm start, or --health <url>)`,
  );
  if (report.pairingsError) out(`Pending pairings: unavailable (${report.pairingsError})`);
  out('');
  const rows = report.accounts.map((a) => [
    `${a.accountId}${a.default ? ' (default)' : ''}`,
    a.enabled ? 'yes' : 'no',
    a.connection ?? (a.enabled ? '?' : '-'),
    a.pendingPairings === undefined ? '?' : String(a.pendingPairings),
  ]);
  for (const line of formatTable(['ACCOUNT', 'ENABLED', 'CONNECTION', 'PENDING PAIRINGS'], rows))
    out(line);
  if (!report.hour) return;
  out('');
  out(
    `Last hour (relay counters since ${formatTime(Date.parse(report.hour.since))}, this replica):`,
  );
  const counted = report.accounts.filter((a) => a.lastHour);
  const hourRows = counted.map((a) => {
    const c = a.lastHour!;
    const row = [a.accountId, c.received, c.dropped ?? 0, c.forwarded, c.acked, c.shed];
    return [...row, c.malformed, c.failed].map(String);
  });
  for (const line of formatTable(
    ['ACCOUNT', 'RECEIVED', 'DROPPED', 'HANDED OFF', 'ACKED', 'SHED', 'MALFORMED', 'FAILED'],
    hourRows,
  ))
    out(line);
}

/** The `status` subcommand. */
export const statusCommand: Subcommand = async (args, io) => {
  const { values, positionals } = parseCommandArgs(
    args,
    {
      health: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    HELP,
  );
  if (values.help) {
    io.out(HELP);
    return EXIT_OK;
  }
  if (positionals.length > 0) throw usageError(`Unexpected argument "${positionals[0]}".`, HELP);
  const report = await collect(io, values.health);
  if (values.json) io.out(JSON.stringify(report, null, 2));
  else print(report, io.out);
  return EXIT_OK;
};
