/**
 * `dingtalk-channel tablestore-fake [--port N] [--instance NAME] [--access-key-id ID
 * --access-key-secret S] [--table NAME ...]`: runs the fake Tablestore (lib/tablestore-fake)
 * standalone until SIGINT/SIGTERM. The first stdout line carries the endpoint, so scripts can
 * read it. Data lives in memory and is gone when it stops.
 */
import { parseArgs } from 'node:util';
import { ChannelError } from '../errors.js';
import { waitForShutdownSignal } from '../shutdown.js';
import { ensureTablestoreTable } from '../state/tablestore-table.js';
import { startFakeTablestore } from '../tablestore-fake/index.js';
import type { CliIo, Subcommand } from './main.js';

/** Credentials of the fake when none are given (local use only). */
export const FAKE_DEFAULTS = {
  instance: 'local',
  accessKeyId: 'local-access-key-id',
  accessKeySecret: 'local-access-key-secret',
};

const HELP = `Usage: dingtalk-channel tablestore-fake [--port N] [--instance NAME]
       [--access-key-id ID --access-key-secret SECRET] [--table NAME ...]

Runs a fake Alibaba Cloud Tablestore instance on 127.0.0.1 that the tablestore SDK talks to
like the real service (signatures checked, data in memory). --table creates a pk/sk state
table at start (repeatable). Without credentials it accepts instance "${FAKE_DEFAULTS.instance}",
key id "${FAKE_DEFAULTS.accessKeyId}" and secret "${FAKE_DEFAULTS.accessKeySecret}".`;

function parseCommandLine(args: string[]) {
  try {
    return parseArgs({
      args,
      options: {
        port: { type: 'string' },
        instance: { type: 'string' },
        'access-key-id': { type: 'string' },
        'access-key-secret': { type: 'string' },
        table: { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    throw new ChannelError('usage', `${(err as Error).message}\n${HELP}`);
  }
}

function parsePort(raw: string | undefined): number {
  if (raw === undefined) return 0;
  if (!/^\d+$/.test(raw) || Number(raw) > 65_535) {
    throw new ChannelError(
      'usage',
      `--port must be an integer from 0 to 65535, got "${raw}"\n${HELP}`,
    );
  }
  return Number(raw);
}

/** Runs the fake Tablestore until SIGINT/SIGTERM; exit code 0. */
export const tablestoreFakeCommand: Subcommand = async (args, io: CliIo) => {
  const values = parseCommandLine(args);
  if (values.help) {
    io.out(HELP);
    return 0;
  }
  const id = values['access-key-id'];
  const secret = values['access-key-secret'];
  if ((id === undefined) !== (secret === undefined)) {
    throw new ChannelError('usage', `--access-key-id and --access-key-secret go together\n${HELP}`);
  }
  const options = {
    port: parsePort(values.port),
    instance: values.instance ?? FAKE_DEFAULTS.instance,
    accessKeyId: id ?? FAKE_DEFAULTS.accessKeyId,
    accessKeySecret: secret ?? FAKE_DEFAULTS.accessKeySecret,
  };
  const fake = await startFakeTablestore(options);
  try {
    for (const tableName of values.table ?? []) {
      await ensureTablestoreTable({ ...options, endpoint: fake.endpoint, tableName });
    }
    io.out(`Fake Tablestore listening on ${fake.endpoint}`);
    io.out(`Instance: ${options.instance}; tables: ${fake.tables().join(', ') || '(none)'}`);
    io.out(
      `Use: STATE_BACKEND=tablestore TABLESTORE_ENDPOINT=${fake.endpoint} TABLESTORE_INSTANCE=${options.instance} ` +
        `ALIBABA_CLOUD_ACCESS_KEY_ID=${options.accessKeyId} ALIBABA_CLOUD_ACCESS_KEY_SECRET=${
          secret === undefined ? options.accessKeySecret : '<your --access-key-secret>'
        }${values.table?.[0] ? ` STATE_TABLE=${values.table[0]}` : ''}`,
    );
    const signal = await waitForShutdownSignal();
    io.err(`Received ${signal}; closing the fake Tablestore.`);
  } finally {
    await fake.close();
  }
  return 0;
};
