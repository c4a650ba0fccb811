/**
 * Runs dynalite (a DynamoDB emulator on LevelDB) inside this process, hardened against two
 * crashes it has (deploy-stack.md, "local + test store"):
 * - it answers every request on a LevelDB path nobody else holds; a second opener of the same
 *   path throws "Database is closed" from a callback at its first request and kills the process,
 *   so `assertPathFree` opens the path first and turns "locked" into a clear error;
 * - it rethrows request stream errors (`req.on('error', throw)`), so a client that disconnects
 *   mid-request (a CLI stopped with Ctrl-C) would kill the owner; we swallow those instead.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import dynalite from 'dynalite';
import { ChannelError } from '../errors.js';

export interface RunningDynalite {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  /** Stops accepting requests, lets pending ones finish and closes LevelDB. */
  close(): Promise<void>;
}

/** Starts dynalite on 127.0.0.1 (port 0 = any free port); in memory unless `path` is given. */
export async function startDynalite(
  options: { path?: string; port?: number } = {},
): Promise<RunningDynalite> {
  if (options.path) await assertPathFree(options.path);
  const server = dynalite({
    ...(options.path ? { path: options.path } : {}),
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
  });
  guardRequestErrors(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () => {
      closing ??= new Promise<void>((resolve, reject) =>
        server.close((err?: Error) => (err ? reject(err) : resolve())),
      );
      return closing;
    },
  };
}

function guardRequestErrors(server: Server): void {
  const handlers = server.listeners('request') as ((
    req: IncomingMessage,
    res: ServerResponse,
  ) => void)[];
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const on = req.on.bind(req);
    // dynalite's only 'error' listener throws; replace it with one that drops the request.
    req.on = ((event: string, listener: (...args: unknown[]) => void) =>
      event === 'error' ? on('error', () => res.destroy()) : on(event, listener)) as typeof req.on;
    for (const handler of handlers) handler.call(server, req, res);
  });
}

type LevelCtor = new (path: string) => { open(): Promise<void>; close(): Promise<void> };

/** Throws `state_locked` if another process (or this one) already has the LevelDB path open. */
export async function assertPathFree(path: string): Promise<void> {
  // `level` is dynalite's own dependency: resolve it from there rather than assuming hoisting.
  const fromDynalite = createRequire(createRequire(import.meta.url).resolve('dynalite'));
  const { Level } = fromDynalite('level') as { Level: LevelCtor };
  const db = new Level(path);
  try {
    await db.open();
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause;
    if (cause?.code === 'LEVEL_LOCKED') {
      throw new ChannelError(
        'state_locked',
        `the state database ${path} is open in another process; only one process may open it (others connect over HTTP via endpoint.json)`,
        { cause: err },
      );
    }
    throw new ChannelError('state_unavailable', `cannot open state database ${path}`, {
      cause: err,
      retryable: true,
    });
  }
  await db.close();
}
