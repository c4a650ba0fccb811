/**
 * `npm run chaos`: a bounded run through the full local path with faults injected from the
 * simulator and around the handler, then reconciliation. Exit code 0 when every message was
 * answered exactly once, 1 when any was lost or answered twice, 2 on bad options.
 */
import { runChaos } from './harness.js';
import { CHAOS_HELP, parseChaosArgs } from './options.js';
import { formatChaosReport } from './report.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

async function main(args: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseChaosArgs>;
  try {
    parsed = parseChaosArgs(args);
  } catch (err) {
    console.error((err as Error).message);
    console.error('Run `npm run chaos -- --help` for the options.');
    return 2;
  }
  if (parsed.help) {
    console.log(CHAOS_HELP);
    return 0;
  }
  if (!parsed.json) {
    console.log(
      `chaos: ${parsed.options.messages} messages, seed ${parsed.options.seed}, ${parsed.options.store} store…`,
    );
  }
  const result = await runChaos(parsed.options);
  if (parsed.json) console.log(JSON.stringify(result, null, 2));
  else console.log(formatChaosReport(result).join('\n'));
  return result.ok ? 0 : 1;
}

process.exitCode = await main(process.argv.slice(2));
