/**
 * `dingtalk-channel start` (what `npm start` runs): the whole channel in one process — relay,
 * in-process forwarder, message pipeline, embedded store, and the echo agent unless an agent is
 * configured. Without DingTalk credentials it runs in demo mode: the simulator stands in for
 * DingTalk and the command prints how to talk to the bot. Ctrl-C (or SIGTERM) stops it cleanly.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/index.js';
import { runRelay, waitForShutdownSignal } from '../relay/run.js';
import type { Simulator } from '../simulator/index.js';
import { startDemo } from './demo.js';
import { EXIT_OK, type Subcommand } from './main.js';
import { usageError } from './open-store.js';

const HELP = `Usage: dingtalk-channel start

Runs the channel locally. With DINGTALK_CLIENT_ID / DINGTALK_CLIENT_SECRET (or a config file)
it connects to DingTalk; without them a simulated DingTalk stands in (demo mode).
Ports: PORT (health, default 8080) and DINGTALK_SIMULATOR_PORT (demo mode); 0 picks a free one.`;

export const startCommand: Subcommand = async (args, io) => {
  try {
    const { values } = parseArgs({
      args,
      options: { help: { type: 'boolean', short: 'h' } },
      strict: true,
    });
    if (values.help) {
      io.out(HELP);
      return EXIT_OK;
    }
  } catch (err) {
    throw usageError((err as Error).message, HELP);
  }
  const base = loadConfig(io.env);
  const demo = base.hasCredentials ? undefined : await startDemo(io.env, base);
  const running =
    demo?.running ??
    (await runRelay(
      loadConfig({ ...io.env, RELAY_TARGET: 'inprocess' }, { requireCredentials: true }),
    ));
  const config = demo?.config ?? base;
  try {
    for (const line of banner(
      running.health.url,
      demo?.sim,
      config.settings.agent.kind,
      config.settings.state.backend,
    ))
      io.out(line);
    const signal = await waitForShutdownSignal();
    io.out(`Received ${signal}, shutting down…`);
  } finally {
    if (demo) await demo.stop();
    else await running.stop();
  }
  io.out('Stopped.');
  return EXIT_OK;
};

function banner(
  healthUrl: string,
  sim: Simulator | undefined,
  agent: string,
  state: string,
): string[] {
  const lines = [
    `dingtalk-channel is running (${sim ? 'demo mode: a simulated DingTalk, no credentials set' : 'connected to DingTalk'})`,
    `  Health:    ${healthUrl}/healthz   (ready: ${healthUrl}/readyz)`,
    `  Agent:     ${agent}   State: ${state}`,
  ];
  if (sim) {
    lines.splice(1, 0, `  Chat page: ${sim.url}/   (open it in a browser)`);
    const dm = JSON.stringify({
      conversationType: '1',
      sender: { staffId: 'manager807', nick: 'Demo User' },
      text: 'hello bot',
    });
    const group = JSON.stringify({
      conversationType: '2',
      conversationId: 'cidDemoGroup==',
      conversationTitle: 'Demo group',
      sender: { staffId: 'manager807', nick: 'Demo User' },
      text: 'hello group',
      atBot: true,
    });
    lines.push(
      `  Simulator: ${sim.url}   (apps: ${sim.apps.map((a) => a.accountId).join(', ')})`,
      '',
      'Talk to the bot in a DM:',
      `  curl -s -X POST ${sim.url}/__sim/messages -H 'content-type: application/json' -d '${dm}'`,
      'In a group, @-mentioning the bot:',
      `  curl -s -X POST ${sim.url}/__sim/messages -H 'content-type: application/json' -d '${group}'`,
      'Read what the bot answered:',
      `  curl -s ${sim.url}/__sim/outbox`,
    );
  }
  lines.push(
    '',
    'Owner commands work from another terminal (npx dingtalk-channel pairing list). Ctrl-C stops.',
  );
  return lines;
}
