/**
 * Finding or starting the embedded dynalite for one state directory (see embedded.ts):
 *
 *   acquireEmbedded
 *     ├─ endpoint.json names a live pid whose endpoint answers → connect over HTTP (owned: false)
 *     ├─ it names a live pid that is still starting            → wait for it, then connect
 *     ├─ it names a dead pid (or is unreadable)                → remove it, start over
 *     └─ no file → claim it, start dynalite on the path, publish the endpoint (owned: true);
 *                  close() removes the file, then stops dynalite
 *
 * Never open the LevelDB path when someone else holds it: dynalite crashes the whole process at
 * its first request (deploy-stack.md, "local + test store").
 */
import { access, mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ChannelError, errorSummary } from '../errors.js';
import type { Logger } from '../log.js';
import {
  claimDiscovery,
  DISCOVERY_FILE,
  type Discovery,
  discoveryPath,
  endpointAnswers,
  pidAlive,
  publishDiscovery,
  readDiscovery,
  releaseDiscovery,
  removeStale,
} from './discovery.js';
import { assertPathFree, type RunningDynalite, startDynalite } from './dynalite-server.js';
import { DynamoStateStore } from './dynamodb.js';
import { ensureTable, localDynamoClient } from './dynamodb-table.js';
import { EMBEDDED_SWEEP_INTERVAL_MS, sweepExpired } from './embedded-sweep.js';

export interface EmbeddedStoreOptions {
  /** Directory for the database (`<stateDir>/dynalite`) and `endpoint.json`; created if needed. */
  stateDir: string;
  tableName: string;
  logger?: Logger;
  /** How long to wait for another process that is starting or releasing the store (default 10 s). */
  waitMs?: number;
}

/** A store on the embedded dynalite, plus who runs it. */
export interface EmbeddedConnection {
  store: DynamoStateStore;
  endpoint: string;
  owned: boolean;
  /** Deletes expired items now (see embedded-sweep.ts); the owner also does it on a timer. */
  sweep(nowSeconds?: number): Promise<number>;
  close(): Promise<void>;
}

/** Connects to the process that owns the state directory, or becomes the owner. */
export async function acquireEmbedded(options: EmbeddedStoreOptions): Promise<EmbeddedConnection> {
  const stateDir = resolve(options.stateDir);
  await mkdir(stateDir, { recursive: true });
  const file = discoveryPath(stateDir);
  const deadline = Date.now() + (options.waitMs ?? 10_000);
  let staleRemovals = 0; // bounds the loop if the file cannot be removed (permissions)
  for (;;) {
    const found = await readDiscovery(file);
    if (found && pidAlive(found.pid)) {
      if (found.endpoint && (await endpointAnswers(found.endpoint))) {
        return connect(found.endpoint, options, found.pid);
      }
      if (Date.now() <= deadline) {
        await sleep(50); // the owner is starting (endpoint null) or briefly busy
        continue;
      }
      // A live pid that never answers may be an unrelated process that reused the pid.
      if (!(await databaseIsFree(stateDir))) throw notAnswering(stateDir, found);
    }
    if (found || (await fileExists(file))) {
      // Dead owner, reused pid or unreadable file: replace it.
      options.logger?.warn('state.embedded.stale_discovery', { file, pid: found?.pid });
      await removeStale(file, found);
      if (++staleRemovals > 20) {
        throw new ChannelError(
          'state_unavailable',
          `cannot replace the stale discovery file ${file}`,
        );
      }
      continue;
    }
    const claim: Discovery = { endpoint: null, pid: process.pid, tableName: options.tableName };
    if (await claimDiscovery(file, claim)) {
      return startOwned(stateDir, file, claim, options, deadline);
    }
  }
}

async function connect(
  endpoint: string,
  options: EmbeddedStoreOptions,
  ownerPid: number,
): Promise<EmbeddedConnection> {
  const client = localDynamoClient(endpoint);
  const store = new DynamoStateStore({ tableName: options.tableName, client });
  const close = async () => {
    await store.close();
    client.destroy();
  };
  try {
    await ensureTable(client, options.tableName);
  } catch (err) {
    await close();
    throw err;
  }
  options.logger?.info('state.embedded.connected', { endpoint, ownerPid });
  const sweep = (nowSeconds = Math.floor(Date.now() / 1000)) =>
    sweepExpired(client, options.tableName, nowSeconds);
  return { store, endpoint, owned: false, sweep, close };
}

async function startOwned(
  stateDir: string,
  file: string,
  claim: Discovery,
  options: EmbeddedStoreOptions,
  deadline: number,
): Promise<EmbeddedConnection> {
  let running: RunningDynalite | undefined;
  let connection: EmbeddedConnection;
  try {
    const path = join(stateDir, 'dynalite');
    await mkdir(path, { recursive: true });
    await waitForFreePath(path, deadline);
    running = await startDynalite({ path });
    connection = await connect(running.endpoint, options, process.pid);
  } catch (err) {
    await running?.close().catch(() => undefined);
    await releaseDiscovery(file, claim);
    throw err;
  }
  const owner: Discovery = { ...claim, endpoint: running.endpoint };
  // Before anyone else connects: what expired while nothing ran goes first.
  await sweepLogged(connection, options);
  await publishDiscovery(file, owner);
  options.logger?.info('state.embedded.started', { endpoint: owner.endpoint, stateDir });
  const server = running;
  const timer = setInterval(() => {
    void sweepLogged(connection, options);
  }, EMBEDDED_SWEEP_INTERVAL_MS);
  timer.unref();
  return {
    ...connection,
    owned: true,
    close: async () => {
      clearInterval(timer);
      // Remove the file first, so nobody connects to an endpoint that is about to go away.
      await releaseDiscovery(file, owner);
      await connection.close();
      await server.close();
    },
  };
}

/** One sweep; a failure is logged and counted as none (the next sweep tries again). */
async function sweepLogged(
  connection: EmbeddedConnection,
  options: EmbeddedStoreOptions,
): Promise<number> {
  try {
    const deleted = await connection.sweep();
    if (deleted > 0) options.logger?.info('state.embedded.swept', { deleted });
    return deleted;
  } catch (err) {
    options.logger?.warn('state.embedded.sweep_failed', { error: errorSummary(err) });
    return 0;
  }
}

/** A previous owner that just removed endpoint.json may still be closing LevelDB: give it time. */
async function waitForFreePath(path: string, deadline: number): Promise<void> {
  for (;;) {
    try {
      return await assertPathFree(path);
    } catch (err) {
      const locked = err instanceof ChannelError && err.code === 'state_locked';
      if (!locked || Date.now() > deadline) throw err;
      await sleep(50);
    }
  }
}

async function databaseIsFree(stateDir: string): Promise<boolean> {
  try {
    await assertPathFree(join(stateDir, 'dynalite'));
    return true;
  } catch (err) {
    if (err instanceof ChannelError && err.code === 'state_locked') return false;
    throw err;
  }
}

function fileExists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

function notAnswering(stateDir: string, found: Discovery): ChannelError {
  return new ChannelError(
    'state_unavailable',
    `process ${found.pid} owns the state in ${stateDir} but its endpoint ${found.endpoint ?? '(starting)'} does not answer; stop that process, or delete ${DISCOVERY_FILE} there if it is not this app`,
    { retryable: true },
  );
}
