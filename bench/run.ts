/**
 * `npm run bench`: measures the channel locally against the simulator (the real `dingtalk-stream`
 * SDK over real WebSockets) and prints a table, or with `--json` one JSON object. Sections run
 * one after another so they do not compete for the cores. See the README's bench section for
 * how to read the figures.
 */
import { cpus, platform, release, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { benchCardStream } from './card-stream.js';
import { coldStartSection } from './cold-start-section.js';
import { benchEndToEnd } from './e2e.js';
import { benchHandling } from './handling.js';
import { benchMemory } from './memory.js';
import { buildRelayBundle } from './relay-bundle.js';
import { benchRelayThroughput } from './relay-throughput.js';
import { type BenchReport, formatBenchReport } from './report.js';
import { checkTargets } from './targets.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const SECTIONS = ['relay', 'handling', 'e2e', 'cards', 'cold-start', 'memory'] as const;
type Section = (typeof SECTIONS)[number];

/** Message counts: the default run (about 2–3 minutes on 2 cores) and a quick smoke run. */
const SIZES = {
  full: {
    relay: { messages: 8_000, latencyRate: 500, latencyMessages: 5_000 },
    handling: 500,
    e2e: { rate: 25, messages: 250, throughputMessages: 1_000 },
    cards: {
      latency: { replies: 60, tokens: 20, gapMs: 40, concurrency: 4 },
      slowLong: { replies: 3, tokens: 150, gapMs: 40, concurrency: 3 },
      fastLong: { replies: 5, tokens: 400, gapMs: 0, concurrency: 5 },
    },
    memory: { accountCounts: [1, 10], messages: 50_000, checkpointEvery: 10_000 },
  },
  quick: {
    relay: { messages: 2_000, latencyRate: 500, latencyMessages: 1_000 },
    handling: 100,
    e2e: { rate: 25, messages: 50, throughputMessages: 200 },
    cards: {
      latency: { replies: 16, tokens: 10, gapMs: 40, concurrency: 4 },
      slowLong: { replies: 2, tokens: 80, gapMs: 40, concurrency: 2 },
      fastLong: { replies: 3, tokens: 300, gapMs: 0, concurrency: 3 },
    },
    memory: { accountCounts: [1, 10], messages: 5_000, checkpointEvery: 1_000 },
  },
};

const HELP = `Usage: npm run bench -- [--json] [--quick] [--only ${SECTIONS.join(',')}]

  --json     print one JSON object instead of the table
  --quick    smaller message counts (a smoke run; figures are less stable)
  --only     run only these sections (comma-separated)
  --relay-node-flags "<flags>"
             Node flags for the relay child in the memory section (e.g. the FC relay's)`;

async function main(args: string[]): Promise<number> {
  let values: {
    json?: boolean;
    quick?: boolean;
    only?: string;
    'relay-node-flags'?: string;
    help?: boolean;
  };
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      options: {
        json: { type: 'boolean' },
        quick: { type: 'boolean' },
        only: { type: 'string' },
        'relay-node-flags': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const only = values.only?.split(',').map((s) => s.trim()) ?? [...SECTIONS];
  const unknown = only.filter((s) => !(SECTIONS as readonly string[]).includes(s));
  if (unknown.length > 0) {
    console.error(
      `--only: unknown section(s) ${unknown.join(', ')}; known: ${SECTIONS.join(', ')}`,
    );
    return 2;
  }
  const report = await runBench(
    new Set(only as Section[]),
    values.quick ? 'quick' : 'full',
    (m) => {
      if (!values.json) console.error(m);
    },
    values['relay-node-flags']?.split(/\s+/).filter(Boolean),
  );
  console.log(values.json ? JSON.stringify(report, null, 2) : formatBenchReport(report).join('\n'));
  return 0;
}

async function runBench(
  sections: Set<Section>,
  size: keyof typeof SIZES,
  progress: (message: string) => void,
  relayNodeFlags?: string[],
): Promise<BenchReport> {
  const started = performance.now();
  const sizes = SIZES[size];
  const needsRelay = sections.has('relay') || sections.has('memory');
  const bundle = needsRelay ? await buildRelayBundle() : undefined;
  const bundlePath = bundle && 'path' in bundle ? bundle.path : undefined;
  const report: BenchReport = {
    machine: machine(),
    relayRunner: !bundle
      ? 'not used'
      : bundlePath
        ? 'the container bundle (npm run build:relay)'
        : `tsx (the relay bundle could not be built: ${'error' in bundle ? bundle.error : ''})`,
    targets: [],
    durationSeconds: 0,
  };
  const relayOptions = bundlePath ? { bundle: bundlePath } : {};
  if (sections.has('relay')) {
    progress('bench: relay hand-off…');
    report.relay = await benchRelayThroughput({ ...sizes.relay, ...relayOptions });
  }
  if (sections.has('handling')) {
    progress('bench: handling overhead (memory store, dynalite, fake Tablestore)…');
    report.handling = [
      await benchHandling('memory', sizes.handling),
      await benchHandling('dynalite', sizes.handling),
      await benchHandling('tablestore', sizes.handling),
    ];
  }
  if (sections.has('e2e')) {
    progress('bench: end to end, ours and the inline baseline…');
    report.e2e = await benchEndToEnd(sizes.e2e);
  }
  if (sections.has('cards')) {
    progress('bench: AI card streaming, ours and the peer pattern…');
    report.cards = await benchCardStream(sizes.cards);
  }
  if (sections.has('cold-start')) {
    progress('bench: cold start (bench/cold-start.ts)…');
    report.coldStart = await coldStartSection();
  }
  if (sections.has('memory')) {
    progress(`bench: relay memory (${sizes.memory.messages.toLocaleString('en')} messages)…`);
    const nodeFlags = relayNodeFlags ? { nodeFlags: relayNodeFlags } : {};
    report.memory = await benchMemory({ ...sizes.memory, ...relayOptions, ...nodeFlags });
  }
  report.targets = checkTargets(report);
  report.durationSeconds = (performance.now() - started) / 1000;
  return report;
}

function machine(): BenchReport['machine'] {
  const cpu = cpus();
  return {
    os: `${platform()} ${release()}`,
    cpu: cpu[0]?.model.trim() ?? 'unknown CPU',
    cores: cpu.length,
    memoryGb: Math.round(totalmem() / 1024 ** 3),
    node: process.version,
    date: new Date().toISOString().slice(0, 10),
  };
}

process.exitCode = await main(process.argv.slice(2));
