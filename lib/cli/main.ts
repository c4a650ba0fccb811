/**
 * The `dingtalk-channel` command. Each subcommand lives in its own module and is loaded only
 * when used, so `pairing list` does not pay for the simulator's imports.
 * Exit codes: 0 success, 1 not found / refused, 2 usage or configuration error.
 */
import { ChannelError } from '../errors.js';

export interface CliIo {
  out(line: string): void;
  err(line: string): void;
  env: NodeJS.ProcessEnv;
}

export type Subcommand = (args: string[], io: CliIo) => Promise<number>;

const subcommands: Record<string, { summary: string; load: () => Promise<Subcommand> }> = {
  simulator: {
    summary: 'run a fake DingTalk (Stream gateway, webhooks, OpenAPI, /__sim/ control API)',
    load: async () => (await import('./simulator-command.js')).simulatorCommand,
  },
  'tablestore-fake': {
    summary: 'run a fake Alibaba Cloud Tablestore on 127.0.0.1 (in memory, SDK-compatible)',
    load: async () => (await import('./tablestore-fake-command.js')).tablestoreFakeCommand,
  },
  pairing: {
    summary: 'list, approve or reject pending DM pairing requests',
    load: async () => (await import('./pairing-command.js')).pairingCommand,
  },
  allow: {
    summary: 'list, add or remove DM senders on the runtime allowlist',
    load: async () => (await import('./allow-command.js')).allowCommand,
  },
  start: {
    summary:
      'run the whole channel locally (demo mode with a simulated DingTalk without credentials)',
    load: async () => (await import('./start-command.js')).startCommand,
  },
  relay: {
    summary: 'run the relay only (the container entry): stream clients → RELAY_TARGET, /healthz',
    load: async () => (await import('../../infra/relay/command.js')).relayCommand,
  },
  status: {
    summary: "accounts, connection state, pending pairings and the last hour's counters",
    load: async () => (await import('./status-command.js')).statusCommand,
  },
  send: {
    summary: 'send a message to a DingTalk user or group: send <target> <text>',
    load: async () => (await import('./send-command.js')).sendCommand,
  },
};

export const EXIT_OK = 0;
export const EXIT_REFUSED = 1;
export const EXIT_USAGE = 2;

export function usage(): string {
  const lines = Object.entries(subcommands).map(([name, s]) => `  ${name.padEnd(15)} ${s.summary}`);
  return ['Usage: dingtalk-channel <command> [options]', '', 'Commands:', ...lines].join('\n');
}

const processIo: CliIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  env: process.env,
};

export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.out(usage());
    return name ? EXIT_OK : EXIT_USAGE;
  }
  const entry = subcommands[name];
  if (!entry) {
    io.err(`Unknown command "${name}".\n${usage()}`);
    return EXIT_USAGE;
  }
  try {
    const command = await entry.load();
    return await command(rest, io);
  } catch (err) {
    if (err instanceof ChannelError && err.code === 'usage') {
      io.err(err.message);
      return EXIT_USAGE;
    }
    if (err instanceof ChannelError && err.code === 'config') {
      io.err(err.message);
      return EXIT_USAGE;
    }
    io.err(`dingtalk-channel ${name}: ${err instanceof Error ? err.message : String(err)}`);
    return EXIT_REFUSED;
  }
}
