/**
 * A fake Tablestore (Alibaba Cloud OTS) for tests and local runs: an HTTP server on 127.0.0.1
 * that the official `tablestore` SDK cannot tell from the service for the operations the
 * channel uses. It decodes the SDK's protobuf requests with the SDK's own definitions, reads
 * and writes PlainBuffer rows, verifies request signatures, and answers Tablestore's error
 * codes and statuses. What it models and what it does not: README "Fake Tablestore".
 *
 *   const fake = await startFakeTablestore({ accessKeyId, accessKeySecret, instance });
 *   new TableStore.Client({ endpoint: fake.endpoint, instancename: instance, ... });
 */
import type { AddressInfo } from 'node:net';
import { type FakeFaults, FaultState } from './faults.js';
import { FakeInstance } from './operations.js';
import { createFakeServer } from './server.js';

export type { FakeFaults } from './faults.js';

export interface FakeTablestoreOptions {
  /** Port on 127.0.0.1 (default 0 = any free port). */
  port?: number;
  accessKeyId: string;
  accessKeySecret: string;
  instance: string;
}

export interface FakeTablestore {
  /** The instance endpoint to give the SDK (`http://127.0.0.1:PORT`). */
  endpoint: string;
  /** Same as endpoint (for symmetry with the other fakes). */
  url: string;
  instance: string;
  faults: FakeFaults;
  /** Calls answered so far, per operation (`PutRow` …), errors included. */
  calls(): Record<string, number>;
  /** Names of the tables that exist. */
  tables(): string[];
  close(): Promise<void>;
}

/** Starts a fake Tablestore instance on 127.0.0.1. */
export async function startFakeTablestore(options: FakeTablestoreOptions): Promise<FakeTablestore> {
  if (!options.accessKeyId || !options.accessKeySecret || !options.instance) {
    throw new Error('startFakeTablestore needs accessKeyId, accessKeySecret and instance');
  }
  const instance = new FakeInstance();
  const faults = new FaultState();
  const calls = new Map<string, number>();
  const server = createFakeServer({
    instance,
    faults,
    calls,
    credentials: {
      accessKeyId: options.accessKeyId,
      accessKeySecret: options.accessKeySecret,
      instance: options.instance,
    },
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    url: endpoint,
    instance: options.instance,
    faults,
    calls: () => Object.fromEntries(calls),
    tables: () => [...instance.tables.keys()].sort(),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
