/**
 * The printed bench report: one block per section, then the targets with MET / MISSED. Every
 * figure says what it measures; ratios compare our path with the inline baseline (ours ÷ inline).
 */
import type { CardStreamResult } from './card-stream.js';
import type { ColdStartSection } from './cold-start-section.js';
import type { EndToEndResult, EndToEndSide } from './e2e.js';
import type { HandlingResult } from './handling.js';
import type { MemoryResult } from './memory.js';
import type { RelayThroughputResult } from './relay-throughput.js';
import type { Summary } from './stats.js';
import { fmt, type TargetCheck } from './targets.js';

export interface BenchReport {
  machine: {
    os: string;
    cpu: string;
    cores: number;
    memoryGb: number;
    node: string;
    date: string;
  };
  /** How the relay child ran: the container bundle, or tsx when the build failed. */
  relayRunner: string;
  relay?: RelayThroughputResult;
  handling?: HandlingResult[];
  e2e?: EndToEndResult;
  cards?: CardStreamResult;
  coldStart?: ColdStartSection;
  memory?: MemoryResult;
  targets: TargetCheck[];
  durationSeconds: number;
}

const ms = (s: Summary) => `p50 ${fmt(s.p50)} ms, p99 ${fmt(s.p99)} ms`;
const row = (label: string, value: string) => `  ${label.padEnd(34)} ${value}`;

export function formatBenchReport(r: BenchReport): string[] {
  const m = r.machine;
  const lines = [
    `dingtalk-channel bench, ${m.date}`,
    `machine: ${m.cores} cores (${m.cpu}), ${m.memoryGb} GB, ${m.os}, Node ${m.node}; relay child: ${r.relayRunner}`,
  ];
  if (r.relay) lines.push('', ...relaySection(r.relay));
  if (r.handling) lines.push('', ...handlingSection(r.handling));
  if (r.e2e) lines.push('', ...e2eSection(r.e2e));
  if (r.cards) lines.push('', ...cardSection(r.cards));
  if (r.coldStart) lines.push('', ...r.coldStart.lines);
  if (r.memory) lines.push('', ...memorySection(r.memory));
  lines.push('', 'Targets');
  for (const t of r.targets) {
    const verdict = t.met === undefined ? 'not run' : t.met ? 'MET' : 'MISSED';
    lines.push(`  ${verdict.padEnd(7)} ${t.target.padEnd(46)} ${t.measured}`);
  }
  const met = r.targets.filter((t) => t.met === true).length;
  const run = r.targets.filter((t) => t.met !== undefined).length;
  lines.push(`  ${met} of ${run} measured targets met; bench took ${fmt(r.durationSeconds)} s`);
  return lines;
}

function relaySection(r: RelayThroughputResult): string[] {
  return [
    'Relay hand-off: 1 account → HTTP sink answering 202 (relay in its own process)',
    row(
      'sustained, measured',
      `${fmt(r.msgsPerSec)} msgs/s (${fmt(r.messages)} messages; simulator and sink share the cores)`,
    ),
    row(
      'relay CPU per message',
      `${fmt(r.relayCpuUsPerMsg)} µs → ${fmt(r.oneCoreMsgsPerSec)} msgs/s on one core`,
    ),
    row(
      `push→ACK at ${r.ackLatencyMs.rate}/s`,
      `${ms(r.ackLatencyMs)}, max ${fmt(r.ackLatencyMs.max)} ms (${fmt(r.ackLatencyMs.n)} messages)`,
    ),
    row('shed / failed hand-offs', `${r.shed} / ${r.failed}`),
  ];
}

function handlingSection(results: HandlingResult[]): string[] {
  const lines = [
    'Message handling overhead: everything but the agent (echo), one message at a time',
  ];
  for (const h of results) {
    lines.push(
      row(
        `${h.store} store`,
        `${ms(h.overheadMs)} (waiting on the store: p50 ${fmt(h.storeMs.p50)} ms, ${fmt(h.perMessage.storeOps)} store operations in ${fmt(h.perMessage.storeRounds)} sequential round trips; ${fmt(h.perDrop.storeOps)} per dropped message)`,
      ),
    );
  }
  const first = results[0];
  if (first) {
    const p = first.perMessage;
    lines.push(
      row(
        'per message (DM, webhook reply)',
        `${fmt(p.storeOps)} store operations, ${fmt(p.apiCalls)} DingTalk API call(s), ${fmt(p.paidApiCalls)} paid OpenAPI calls`,
      ),
    );
  }
  return lines;
}

function e2eSection(e: EndToEndResult): string[] {
  const o = e.ours;
  const b = e.inline;
  const ratio = (a: number, c: number) => (c > 0 ? `×${fmt(a / c)}` : 'n/a');
  const line = (label: string, ours: string, inline: string, r: string) =>
    `  ${label.padEnd(34)} ${ours.padEnd(24)} ${inline.padEnd(18)} ${r}`.trimEnd();
  const per = (s: EndToEndSide) =>
    `${fmt(s.perMessage.storeOps)} / ${fmt(s.perMessage.apiCalls)} / ${fmt(s.perMessage.paidApiCalls)}`;
  return [
    'End to end, push → reply, instant agent (echo); same messages to both',
    line('', 'relay (npm start path)', 'inline baseline', 'ours ÷ inline'),
    line(
      `reply latency p50 at ${o.replyLatencyMs.rate}/s`,
      `${fmt(o.replyLatencyMs.p50)} ms`,
      `${fmt(b.replyLatencyMs.p50)} ms`,
      ratio(o.replyLatencyMs.p50, b.replyLatencyMs.p50),
    ),
    line(
      'reply latency p99',
      `${fmt(o.replyLatencyMs.p99)} ms`,
      `${fmt(b.replyLatencyMs.p99)} ms`,
      ratio(o.replyLatencyMs.p99, b.replyLatencyMs.p99),
    ),
    line(
      'push→ACK p50 / p99 (ratio: p99)',
      `${fmt(o.ackLatencyMs.p50)} / ${fmt(o.ackLatencyMs.p99)} ms`,
      `${fmt(b.ackLatencyMs.p50)} / ${fmt(b.ackLatencyMs.p99)} ms`,
      ratio(o.ackLatencyMs.p99, b.ackLatencyMs.p99),
    ),
    line(
      'replies/s (closed loop, ≤ 64 open)',
      fmt(o.repliesPerSec),
      fmt(b.repliesPerSec),
      ratio(o.repliesPerSec, b.repliesPerSec),
    ),
    line('store ops / API / paid per msg', per(o), per(b), ''),
    line('unanswered in the latency run', String(o.unanswered), String(b.unanswered), ''),
    '  (inline ACKs on receipt and keeps dedup in memory: a crash after its ACK loses the message)',
  ];
}

function cardSection(c: CardStreamResult): string[] {
  const line = (label: string, ours: string, peer: string) =>
    `  ${label.padEnd(34)} ${ours.padEnd(24)} ${peer}`.trimEnd();
  const calls = (s: Summary) => `max ${fmt(s.max)}, mean ${fmt(s.mean)}`;
  const shape = (s: CardStreamResult['shapes']['latency']) =>
    `${s.replies} replies of ${s.tokens} token chunks ${s.gapMs} ms apart`;
  return [
    `AI card streaming: the same streaming http agent and simulator (ours: budget ${c.budget}, updates ≥ ${fmt(c.minIntervalMs)} ms apart)`,
    `  (short: ${shape(c.shapes.latency)}; slow long: ${shape(c.shapes.slowLong)}; fast long: ${shape(c.shapes.fastLong)})`,
    line('', 'ours (replyMode card)', 'peer pattern (4 + 1 per chunk)'),
    line(
      'first token → first visible (short)',
      `p50 ${fmt(c.ours.firstVisibleMs.p50)}, p99 ${fmt(c.ours.firstVisibleMs.p99)} ms`,
      `p50 ${fmt(c.peer.firstVisibleMs.p50)}, p99 ${fmt(c.peer.firstVisibleMs.p99)} ms`,
    ),
    line(
      'paid card calls per reply, short',
      calls(c.ours.calls.latency),
      calls(c.peer.calls.latency),
    ),
    line('… slow long answer', calls(c.ours.calls.slowLong), calls(c.peer.calls.slowLong)),
    line('… fast long answer', calls(c.ours.calls.fastLong), calls(c.peer.calls.fastLong)),
    line(
      'cards unfinished / wrong content',
      `${c.ours.unfinished} / ${c.ours.wrongContent}`,
      `${c.peer.unfinished} / ${c.peer.wrongContent}`,
    ),
  ];
}

function memorySection(m: MemoryResult): string[] {
  const lines = ['Relay memory (relay in its own process; live heap measured after a full GC)'];
  for (const idle of m.idle) {
    lines.push(
      row(
        `idle, ${idle.accounts} account(s)`,
        `RSS ${fmt(idle.rssMb)} MB, live heap ${fmt(idle.heapUsedMb)} MB`,
      ),
    );
  }
  for (const c of m.load.checkpoints) {
    lines.push(
      row(
        `after ${fmt(c.messages)} messages`,
        `RSS ${fmt(c.rssMb)} MB, live heap ${fmt(c.heapUsedMb)} MB (${m.load.accounts} accounts)`,
      ),
    );
  }
  lines.push(
    row('live heap trend', `${fmt(m.load.heapSlopeBytesPerMsg)} bytes per message (least squares)`),
  );
  return lines;
}
