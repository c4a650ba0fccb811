/**
 * `dingtalk-channel relay`: the relay alone, as the container runs it. Credentials are required;
 * messages go to RELAY_TARGET (Lambda, FC, an HMAC-signed HTTP function, or in-process).
 * SIGTERM/SIGINT drain in-flight hand-offs, close the sockets and exit 0.
 */
import type { Subcommand } from '../../lib/cli/main.js';
import { loadConfig } from '../../lib/config/index.js';
import { runRelay, waitForShutdownSignal } from '../../lib/relay/run.js';

export const relayCommand: Subcommand = async (_args, io) => {
  const config = loadConfig(io.env, { requireCredentials: true });
  const running = await runRelay(config);
  io.out(
    `relay running: ${config.accounts.length} account(s) → ${config.settings.relay.target}; health ${running.health.url}/healthz`,
  );
  await waitForShutdownSignal();
  await running.stop();
  return 0;
};
