/**
 * The relay container's entry point (bundled to dist/relay/main.mjs by `npm run build:relay`).
 * Exit codes: 0 after a graceful stop, 1 on a start failure (bad credentials, unreachable
 * target), 2 on a configuration error — so the orchestrator restarts only what can recover.
 */
import { main } from '../../lib/cli/main.js';
import { relayConfigView } from './secret-view.js';

relayConfigView(process.env);
process.exitCode = await main(['relay', ...process.argv.slice(2)]);
