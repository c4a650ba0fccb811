/**
 * Demo mode, the whole product in miniature: a simulated DingTalk with one app per enabled
 * account, the channel connected to it, and the chat page. The channel reports each message's
 * outcome to the simulator (so the page can say why a message was ignored) and lends the page
 * the owner's pairing operations. A discovery file `<stateDir>/demo.json` tells owner commands
 * in another terminal (`send`, `pairing approve --notify`) where the simulated DingTalk is and
 * which app credentials it accepts (see demo-link.ts).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { getAccount, type LoadedConfig, loadConfig } from '../config/index.js';
import { ChannelError } from '../errors.js';
import type { Logger } from '../log.js';
import { approveCommand, isPairingCodeShape } from '../policy/pairing.js';
import { listPendingRequests } from '../policy/pairing-store.js';
import { type RunningRelay, type RunRelayOptions, runRelay } from '../relay/run.js';
import {
  DEMO_APP,
  type OwnerOperations,
  type Simulator,
  type SimulatorAppOptions,
  startSimulator,
} from '../simulator/index.js';
import { normalizePairingCode } from '../state/keys.js';
import type { StateStore } from '../state/port.js';
import {
  type DemoDiscovery,
  demoCredentialEnv,
  demoFilePath,
  removeDemoFile,
} from './demo-link.js';
import { approveAndNotify } from './pairing-command.js';

/** A running demo. */
export interface DemoHandle {
  sim: Simulator;
  running: RunningRelay;
  config: LoadedConfig;
  /** The chat page. */
  chatUrl: string;
  stop(): Promise<void>;
}

/** One simulated app per enabled account; the single default account keeps the known demo app. */
export function demoApps(config: LoadedConfig): SimulatorAppOptions[] {
  const ids = config.accounts.map((a) => a.accountId);
  if (ids.length === 1 && ids[0] === DEMO_APP.accountId) return [{ ...DEMO_APP }];
  return ids.map((accountId) => ({
    clientId: `dingdemo${accountId.replace(/[^A-Za-z0-9]/g, '')}`,
    clientSecret: `demo-secret-${accountId}`,
    accountId,
  }));
}

/** Demo mode opens DMs and groups unless the user chose policies (so the first message gets an answer). */
function policyDefaults(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const configured = env.DINGTALK_CONFIG_FILE || env.DINGTALK_CONFIG;
  return {
    ...(configured || env.DINGTALK_DM_POLICY
      ? {}
      : { DINGTALK_DM_POLICY: 'open', DINGTALK_DM_ALLOW_FROM: '*' }),
    ...(configured || env.DINGTALK_GROUP_POLICY ? {} : { DINGTALK_GROUP_POLICY: 'open' }),
  };
}

/** The owner operations the chat page's pairing panel uses, on the demo's own store. */
export function demoOwnerOperations(store: StateStore, config: LoadedConfig): OwnerOperations {
  return {
    async listPairings() {
      const lists = await Promise.all(
        config.accounts.map(async (account) => {
          const requests = await listPendingRequests(store, account.accountId, Date.now());
          return requests.map((r) => ({
            account: account.accountId,
            code: r.code,
            userId: r.userId,
            ...(r.nick === undefined ? {} : { nick: r.nick }),
            createdAt: r.createdAt,
            expiresAt: r.expiresAt * 1000,
            command: approveCommand(r.code, account.accountId, config.defaultAccountId),
          }));
        }),
      );
      return lists.flat();
    },
    async approvePairing({ account: accountId, code: raw, notify }) {
      let account: ReturnType<typeof getAccount>;
      try {
        account = getAccount(config, accountId);
      } catch (err) {
        if (err instanceof ChannelError)
          return { approved: false, status: 400, error: err.message };
        throw err;
      }
      const code = normalizePairingCode(raw);
      if (!isPairingCodeShape(code))
        return { approved: false, status: 400, error: `"${raw}" is not a pairing code` };
      const result = await approveAndNotify({ store, account, config }, code, notify);
      if (!result) {
        return {
          approved: false,
          status: 404,
          error: `No pending pairing request with code ${code} for account ${account.accountId}`,
        };
      }
      return {
        approved: true,
        account: account.accountId,
        code,
        userId: result.request.userId,
        lines: result.warning ? [...result.lines, result.warning] : result.lines,
      };
    },
  };
}

/**
 * Starts the simulator, the channel against it, and the page's hooks. `base` is the
 * configuration loaded without credentials (its accounts decide the simulated apps).
 */
export async function startDemo(
  env: NodeJS.ProcessEnv,
  base: LoadedConfig,
  options: Omit<RunRelayOptions, 'onOutcome'> & { simulatorLogger?: Logger } = {},
): Promise<DemoHandle> {
  const apps = demoApps(base);
  const sim = await startSimulator({
    port: base.settings.simulator.port,
    apps,
    ...(options.simulatorLogger ? { logger: options.simulatorLogger } : {}),
  });
  const discovery: DemoDiscovery = { pid: process.pid, simulatorUrl: sim.url, apps };
  let running: RunningRelay | undefined;
  try {
    const demoEnv = { ...env, ...policyDefaults(env), ...demoCredentialEnv(env, base, discovery) };
    const config = loadConfig(
      { ...demoEnv, RELAY_TARGET: 'inprocess' },
      { requireCredentials: true },
    );
    const { simulatorLogger: _unused, ...relayOptions } = options;
    running = await runRelay(config, {
      ...relayOptions,
      onOutcome: (event, outcome) => {
        // Demo-only hook outside the pipeline: the page shows why a message got no answer.
        // The simulator forgets its oldest messages; an outcome for one of those is dropped.
        const reported = sim.tryRecordOutcome({ messageId: event.messageId, ...outcome });
        if (!reported.ok)
          options.logger?.debug('demo.outcome_unrecorded', { reason: reported.error });
      },
    });
    const store = running.runtime?.store;
    if (store) sim.setOwnerOperations(demoOwnerOperations(store, config));
    // The state directory may not exist yet (STATE_BACKEND=memory creates nothing there).
    await mkdir(config.settings.state.dir, { recursive: true });
    const file = demoFilePath(config.settings.state.dir);
    const published: DemoDiscovery = { ...discovery, healthUrl: running.health.url };
    await writeFile(file, `${JSON.stringify(published)}\n`, { mode: 0o600 });
    const handle = running;
    let stopping: Promise<void> | undefined;
    const stop = async () => {
      await removeDemoFile(file, process.pid);
      await handle.stop();
      await sim.close();
    };
    return {
      sim,
      running: handle,
      config,
      chatUrl: `${sim.url}/`,
      stop: () => {
        stopping ??= stop();
        return stopping;
      },
    };
  } catch (err) {
    await running?.stop(0);
    await sim.close();
    throw err;
  }
}
