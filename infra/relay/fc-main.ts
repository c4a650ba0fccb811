/**
 * The relay's entry on Function Compute 3.0 (custom runtime, bundled to fc-main.mjs beside the
 * container's main.mjs; the template's command runs it). It is the container entry plus one
 * thing FC needs: FC gives an instance its role's temporary credentials once, in the
 * environment, valid for 36 hours (FC "context" and "environment variables" docs), and a
 * provisioned relay instance receives no invocations that would bring fresh ones. So the relay
 * stops itself gracefully (as on SIGTERM: drain, close, exit) well before that; FC then replaces
 * the instance, which starts with new credentials. DingTalk redelivers whatever was not
 * acknowledged and the message function's dedup answers it once (channel-semantics.md §9).
 * The lifetime is jittered so two replicas do not recycle together.
 */
import { main } from '../../lib/cli/main.js';
import { createLogger } from '../../lib/log.js';

/** Planned lifetime: 12 h plus up to 1 h of jitter, a third of the credentials' 36 h. */
export function recycleDelayMs(random: () => number = Math.random): number {
  return 12 * 3_600_000 + Math.floor(random() * 3_600_000);
}

if (process.argv[1]?.endsWith('fc-main.mjs')) {
  const delay = recycleDelayMs();
  setTimeout(() => {
    createLogger().info('relay.fc_recycle', { afterMs: delay, reason: 'credentials refresh' });
    process.kill(process.pid, 'SIGTERM');
  }, delay).unref();
  process.exitCode = await main(['relay', ...process.argv.slice(2)]);
}
