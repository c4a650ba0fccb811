/**
 * `dingtalk-channel simulator [--port N] [--host H] [--app id:secret ...]`: runs the fake
 * DingTalk standalone until SIGINT/SIGTERM. The first stdout line carries the base URL, so
 * scripts can read it.
 */
import { parseArgs } from 'node:util';
import { ChannelError } from '../errors.js';
import { createLogger } from '../log.js';
import { waitForShutdownSignal } from '../shutdown.js';
import { DEMO_APP, type SimulatorAppOptions, startSimulator } from '../simulator/index.js';
import type { CliIo, Subcommand } from './main.js';

const HELP = `Usage: dingtalk-channel simulator [--port N] [--host H] [--app clientId:clientSecret ...]

Runs a fake DingTalk (Stream gateway, WebSocket, sessionWebhook, robot OpenAPI) plus its
control API under /__sim/. --app is repeatable; without it one demo app is served
(clientId ${DEMO_APP.clientId}, secret ${DEMO_APP.clientSecret}, account ${DEMO_APP.accountId}).`;

function parsePort(raw: string | undefined): number {
  if (raw === undefined) return 0;
  const port = Number(raw);
  if (!/^\d+$/.test(raw) || port > 65_535) {
    throw new ChannelError(
      'usage',
      `--port must be an integer from 0 to 65535, got "${raw}"\n${HELP}`,
    );
  }
  return port;
}

function parseApp(raw: string): SimulatorAppOptions {
  const colon = raw.indexOf(':');
  const clientId = raw.slice(0, colon);
  const clientSecret = raw.slice(colon + 1);
  if (colon <= 0 || clientSecret === '') {
    throw new ChannelError(
      'usage',
      `--app must look like clientId:clientSecret, got "${clientId || raw}:…"\n${HELP}`,
    );
  }
  return { clientId, clientSecret };
}

function parseCommandLine(args: string[]) {
  try {
    return parseArgs({
      args,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        app: { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    throw new ChannelError('usage', `${(err as Error).message}\n${HELP}`);
  }
}

function printBanner(
  io: CliIo,
  url: string,
  gatewayUrl: string,
  apps: readonly { clientId: string; accountId: string }[],
): void {
  io.out(`DingTalk simulator listening on ${url}`);
  io.out(`Gateway: ${gatewayUrl}`);
  io.out(`Apps: ${apps.map((a) => `${a.clientId} (account ${a.accountId})`).join(', ')}`);
  const sample = JSON.stringify({
    conversationType: '1',
    sender: { staffId: 'manager807', nick: '张三' },
    text: 'hello',
  });
  io.out(
    `Try: curl -s -X POST ${url}/__sim/messages -H 'content-type: application/json' -d '${sample}'`,
  );
}

/** Runs the simulator until SIGINT/SIGTERM; exit code 0. */
export const simulatorCommand: Subcommand = async (args, io) => {
  const values = parseCommandLine(args);
  if (values.help) {
    io.out(HELP);
    return 0;
  }
  const port = parsePort(values.port);
  const apps = values.app?.map(parseApp);
  const sim = await startSimulator({
    port,
    host: values.host,
    apps,
    logger: createLogger({ fields: { component: 'simulator' } }),
  });
  printBanner(io, sim.url, sim.gatewayUrl, sim.apps);
  const signal = await waitForShutdownSignal();
  io.err(`Received ${signal}; closing the simulator.`);
  await sim.close();
  return 0;
};
