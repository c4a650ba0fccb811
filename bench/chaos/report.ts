/**
 * The chaos run's printed report: what was injected, what the simulator and relay saw, and the
 * reconciliation, with every lost or doubled message listed with its reason and how to replay.
 */
import type { ChaosResult } from './harness.js';
import {
  DEFAULT_CHAOS_OPTIONS,
  type FaultKind,
  MESSAGE_FAULTS,
  QUICK_CHAOS_OPTIONS,
  TIMED_FAULTS,
} from './options.js';
import type { Anomaly } from './reconcile.js';

const MAX_LISTED = 20;

/** The report as lines of text. */
export function formatChaosReport(r: ChaosResult): string[] {
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const lines = [
    `Chaos run: seed ${r.seed}, ${r.sent} messages (${r.dms} DM, ${r.groups} group) on ${r.options.accounts} account(s), offered ${r.options.rate}/s`,
    `  traffic ${s(r.durationMs.traffic)}, drain ${s(r.durationMs.drain)}, total ${s(r.durationMs.total)}${r.drainTimedOut ? '  (drain timed out: some work was still running)' : ''}`,
    '',
    'Faults (fired / planned)',
    `  around the handler: ${faultList(r, MESSAGE_FAULTS)}`,
    `  simulator:          ${faultList(r, TIMED_FAULTS)}`,
    '',
    'What happened',
    `  simulator: ${r.simulator.pushes} pushes, ${r.simulator.redeliveries} redeliveries, ${r.simulator.gaveUp} given up, ${r.simulator.acks} ACKs, ${r.simulator.disconnectsSent} disconnect frames, ${r.simulator.gatewayRejected} gateway and ${r.simulator.handshakesRejected} handshake rejections`,
    `  relay:     ${r.relay.received} received, ${r.relay.forwarded} handed off, ${r.relay.acked} ACKed, ${r.relay.retries} hand-off retries, ${r.relay.failed} failed, ${r.relay.shed} shed, ${r.relay.malformed} malformed payloads; ${r.relay.reconnects} reconnects, ${r.relay.malformedFrames} malformed frames`,
    `  replies:   ${r.simulator.webhookSends} webhook sends (${r.simulator.webhookErrors} webhook errors), ${r.simulator.openapiCalls} OpenAPI calls (${r.simulator.openapiErrors} errors)`,
    '',
    'Reconciliation (simulator inbound log ⇄ outbox)',
    `  messages sent    ${pad(r.sent)}`,
    `  answered once    ${pad(r.answeredOnce)}   (${r.errorReplies} of them with the agent's short error reply)`,
    `  answered twice   ${pad(r.answeredTwice)}`,
    `  never answered   ${pad(r.neverAnswered)}`,
    `  stray replies    ${pad(r.strayReplies)}   (replies no sent message explains)`,
    `  wrong text       ${pad(r.wrongText)}   (neither the echo nor the error reply)`,
    `  poison payloads  ${pad(r.poison.sent)}   (${r.poison.acked} ACKed, none may be answered)`,
    '',
    `AI cards (${r.cards.cardMessages} messages in card mode)`,
    `  cards created    ${pad(r.cards.created)}   (${r.cards.finished} finished, ${r.cards.failed} failed)`,
    `  left unfinished  ${pad(r.cards.unfinished)}   (still spinning at the end, after every retry)`,
    `  markdown instead ${pad(r.cards.markdownFallbacks)}   (card refused: the reply went out as markdown, once)`,
    `  spilled over     ${pad(r.cards.spilledOver)}   (the rest of a long reply as markdown after its card)`,
    `  stopped          ${pad(r.cards.stopped)}   (Stop clicked while streaming: finished with the text so far, of ${r.faults.fired.card_stop ?? 0} clicks)`,
    `  paid card calls  ${pad(r.cardCalls.total)}   (max ${r.cardCalls.maxPerAttempt} per attempt, budget ${r.cardCalls.budget}; max ${r.cardCalls.maxPerMessage} per message over its retries, ${r.cardCalls.messagesOverOneBudget} messages above one budget; ${r.cardCalls.qpsRefused} QPS and ${r.cardCalls.authRefused} stale-token refusals not charged)`,
  ];
  if (r.lost.length > 0) lines.push('', 'Never answered:', ...anomalies(r.lost));
  if (r.doubled.length > 0) lines.push('', 'Answered more than once:', ...anomalies(r.doubled));
  lines.push('');
  if (r.cardCalls.overBudget.length > 0) {
    lines.push(
      '',
      'Attempts over the card budget:',
      ...r.cardCalls.overBudget.map((a) => `  ${a}`),
    );
  }
  if (r.cards.open.length > 0) {
    lines.push('', 'Cards left open:', ...r.cards.open.slice(0, MAX_LISTED).map((id) => `  ${id}`));
  }
  if (r.ok) {
    lines.push(
      'PASS: every message answered exactly once, every card closed, every attempt within the card budget.',
    );
  } else {
    lines.push(
      `FAIL: ${r.neverAnswered} lost, ${r.answeredTwice} answered twice, ${r.strayReplies} stray, ${r.cards.unfinished} cards open, ${r.cardCalls.overBudgetAttempts} attempts over the card budget.`,
      `Replay: npm run chaos -- ${replayArgs(r)}`,
    );
  }
  return lines;
}

function faultList(r: ChaosResult, kinds: readonly FaultKind[]): string {
  const parts = kinds
    .filter((k) => r.faults.planned[k] !== undefined)
    .map((k) => `${k} ${r.faults.fired[k] ?? 0}/${r.faults.planned[k]}`);
  return parts.length > 0 ? parts.join(', ') : '(none)';
}

function anomalies(list: Anomaly[]): string[] {
  const lines = list.slice(0, MAX_LISTED).map((a) => {
    const fault = a.fault ? ` [${a.fault}]` : '';
    const via = a.via.length > 0 ? ` via ${a.via.join('+')}` : '';
    return `  #${a.index} ${a.token} (${a.conversation}, ${a.accountId}, msgId ${a.msgId})${fault}: ${a.replies} replies${via}; ${a.reason}`;
  });
  if (list.length > MAX_LISTED)
    lines.push(`  … and ${list.length - MAX_LISTED} more (--json lists all)`);
  return lines;
}

function replayArgs(r: ChaosResult): string {
  const o = r.options;
  const quick = o.handlerBudgetMs === QUICK_CHAOS_OPTIONS.handlerBudgetMs;
  const d = quick ? { ...DEFAULT_CHAOS_OPTIONS, ...QUICK_CHAOS_OPTIONS } : DEFAULT_CHAOS_OPTIONS;
  const args = [...(quick ? ['--quick'] : []), `--seed ${o.seed}`, `--messages ${o.messages}`];
  if (o.store !== d.store) args.push(`--store ${o.store}`);
  if (o.rate !== d.rate) args.push(`--rate ${o.rate}`);
  if (o.accounts !== d.accounts) args.push(`--accounts ${o.accounts}`);
  if (o.cardShare !== d.cardShare) args.push(`--card-share ${o.cardShare}`);
  if (o.faultEvery !== d.faultEvery) args.push(`--fault-every ${o.faultEvery}`);
  if (o.messageFaultRate !== d.messageFaultRate) {
    args.push(`--message-fault-rate ${o.messageFaultRate}`);
  }
  if (o.maxRedeliveries !== d.maxRedeliveries) args.push(`--max-redeliveries ${o.maxRedeliveries}`);
  if (o.faults.length !== d.faults.length) args.push(`--faults ${o.faults.join(',')}`);
  return args.join(' ');
}

function pad(n: number): string {
  return String(n).padStart(6);
}
