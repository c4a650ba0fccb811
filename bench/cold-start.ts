/**
 * `npm run bench:cold-start [-- --runs N] [-- --json]`: the Lambda artifacts as `serverless
 * package` builds them — their zipped sizes, and the cold start of the message function: a fresh
 * `node` process requires the bundle from the unpacked message.zip and handles one
 * simulator-built message against dynalite (targets: < 1.5 MB zipped, < 300 ms). Measured on
 * this machine's Node; Lambda adds its own runtime start (and runs Node 22 on arm64).
 */
import { execFile } from 'node:child_process';
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  type IsolatedService,
  isolatedService,
  SERVERLESS_BIN,
} from '../infra/scripts/isolated-service.js';
import { readZip } from '../infra/scripts/read-zip.js';
import type { MessageEvent } from '../lib/forward/port.js';
import { type Simulator, startSimulator } from '../lib/simulator/index.js';
import { startDynalite } from '../lib/state/dynalite-server.js';
import { ensureTable, localDynamoClient } from '../lib/state/dynamodb.js';
import { pushedEvent } from '../test/support/pushed-event.js';

// The SDK's notice about Node 20 (Lambda runs Node 22) is noise here, and in the measured child.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const APP = { clientId: 'dingcoldstart', clientSecret: 'cold-start-secret', accountId: 'default' };
const TABLE = 'cold-start-state';
const HANDLER = 'functions/message/aws.cjs';

/** Runs in the fresh process: the clock starts at process start (performance.timeOrigin). */
const DRIVER = `
const required = performance.now();
const { handler } = require('./${HANDLER}');
const loaded = performance.now();
const event = JSON.parse(process.env.BENCH_EVENT);
handler(event, { getRemainingTimeInMillis: () => 60000 }).then(
  (outcome) => {
    const done = performance.now();
    process.stdout.write(JSON.stringify({ outcome, bootMs: required, requireMs: loaded - required, handledMs: done - required }));
    process.exit(0);
  },
  (err) => { process.stderr.write(String(err && err.stack || err)); process.exit(1); },
);
`;

interface Run {
  bootMs: number;
  requireMs: number;
  /** From `require()` of the bundle to the first message handled (reply sent, state written). */
  handledMs: number;
}

function exec(args: string[], env: NodeJS.ProcessEnv, cwd = ROOT): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      args,
      { cwd, env, timeout: 120_000, maxBuffer: 8 << 20 },
      (err, out, errOut) =>
        err
          ? reject(new Error(`${args.join(' ')} failed: ${errOut || err.message}`))
          : resolve(out),
    );
  });
}

/** `serverless package` in a throwaway service directory; returns where the zips are. */
async function packageFunctions(service: IsolatedService): Promise<string> {
  await exec(
    [SERVERLESS_BIN, 'package', '--stage', 'bench'],
    {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      SLS_TELEMETRY_DISABLED: '1',
      SLS_NOTIFICATIONS_MODE: 'off',
    },
    service.dir,
  );
  return service.packageDir;
}

async function zipSizes(
  dir: string,
): Promise<Record<string, { zippedBytes: number; unzippedBytes: number }>> {
  const sizes: Record<string, { zippedBytes: number; unzippedBytes: number }> = {};
  for (const file of (await readdir(dir)).filter((f) => f.endsWith('.zip')).sort()) {
    const files = await readZip(join(dir, file));
    const unzippedBytes = [...files.values()].reduce((sum, b) => sum + b.length, 0);
    sizes[file.replace(/\.zip$/, '')] = {
      zippedBytes: (await stat(join(dir, file))).size,
      unzippedBytes,
    };
  }
  return sizes;
}

async function unpack(zipPath: string, dir: string): Promise<void> {
  for (const [name, data] of await readZip(zipPath)) {
    await mkdir(dirname(join(dir, name)), { recursive: true });
    await writeFile(join(dir, name), data);
  }
  await writeFile(join(dir, 'driver.cjs'), DRIVER);
}

function eventFor(sim: Simulator, i: number): MessageEvent {
  const injected = sim.injectMessage({
    conversationType: '1',
    sender: { staffId: `user${i}` },
    text: `cold ${i}`,
  });
  return pushedEvent(sim, injected.messageId);
}

async function measure(dir: string, runs: number): Promise<Run[]> {
  const sim = await startSimulator({ apps: [APP], maxRedeliveries: 0 });
  const db = await startDynalite();
  const client = localDynamoClient(db.endpoint);
  try {
    await ensureTable(client, TABLE);
    const env = {
      PATH: process.env.PATH,
      DINGTALK_CONFIG: JSON.stringify({
        clientId: APP.clientId,
        clientSecret: APP.clientSecret,
        dm: { policy: 'open', allowFrom: ['*'] },
      }),
      DINGTALK_API_BASE: sim.apiBase,
      DINGTALK_OAPI_BASE: sim.oapiBase,
      STATE_BACKEND: 'dynamodb',
      STATE_TABLE: TABLE,
      DYNAMODB_ENDPOINT: db.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'bench',
      AWS_SECRET_ACCESS_KEY: 'bench',
      LOG_LEVEL: 'warn',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    };
    const results: Run[] = [];
    for (let i = 0; i < runs; i++) {
      const out = await exec(
        ['driver.cjs'],
        { ...env, BENCH_EVENT: JSON.stringify(eventFor(sim, i)) },
        dir,
      );
      // The function writes its metrics (EMF lines) to stdout too; the driver's result is last.
      const last = out.trim().split('\n').at(-1) ?? '';
      const run = JSON.parse(last) as Run & { outcome: { status: string } };
      if (run.outcome.status !== 'handled')
        throw new Error(`run ${i}: ${JSON.stringify(run.outcome)}`);
      results.push({ bootMs: run.bootMs, requireMs: run.requireMs, handledMs: run.handledMs });
    }
    const replies = sim.outbox().length;
    if (replies !== runs)
      throw new Error(`expected ${runs} replies in the simulator outbox, found ${replies}`);
    return results;
  } finally {
    client.destroy();
    await db.close();
    await sim.close();
  }
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const round = (ms: number) => Math.round(ms * 10) / 10;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { runs: { type: 'string', default: '5' }, json: { type: 'boolean', default: false } },
  });
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1)
    throw new Error(`--runs must be a positive integer, got ${values.runs}`);
  const service = await isolatedService('cold-start');
  try {
    const packageDir = await packageFunctions(service);
    const sizes = await zipSizes(packageDir);
    await unpack(join(packageDir, 'message.zip'), join(service.dir, 'unpacked-message'));
    const measured = await measure(join(service.dir, 'unpacked-message'), runs);
    const report = {
      node: process.version,
      functions: sizes,
      coldStart: {
        runs,
        requireToFirstHandledMs: {
          median: round(median(measured.map((r) => r.handledMs))),
          min: round(Math.min(...measured.map((r) => r.handledMs))),
          max: round(Math.max(...measured.map((r) => r.handledMs))),
        },
        requireMs: { median: round(median(measured.map((r) => r.requireMs))) },
        nodeBootMs: { median: round(median(measured.map((r) => r.bootMs))) },
      },
      targets: { zippedBytes: 1.5 * 1024 * 1024, requireToFirstHandledMs: 300 },
    };
    if (values.json) {
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      return;
    }
    console.log(`Lambda artifacts (serverless package, Node ${process.version} measuring):`);
    for (const [name, s] of Object.entries(sizes)) {
      console.log(
        `  ${name.padEnd(12)} ${(s.zippedBytes / 1024).toFixed(0).padStart(6)} KiB zipped  ${(s.unzippedBytes / 1024).toFixed(0).padStart(6)} KiB unzipped`,
      );
    }
    const c = report.coldStart;
    console.log(
      `Message function cold start over ${runs} fresh processes (require → first message handled):`,
    );
    console.log(
      `  median ${c.requireToFirstHandledMs.median} ms (min ${c.requireToFirstHandledMs.min}, max ${c.requireToFirstHandledMs.max}); of which require() ${c.requireMs.median} ms; node boot before it ${c.nodeBootMs.median} ms`,
    );
  } finally {
    await service.remove();
  }
}

await main();
