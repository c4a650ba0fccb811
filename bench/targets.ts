/**
 * The issue's targets, checked against what a bench run measured. They are reported, never
 * asserted in tests: a slow CI machine must not fail the build, but the table must say plainly
 * which figures meet their target.
 */
import type { CardStreamResult } from './card-stream.js';
import { type ColdStartSection, isColdStartJson } from './cold-start-section.js';
import type { EndToEndResult } from './e2e.js';
import type { HandlingResult } from './handling.js';
import type { MemoryResult } from './memory.js';
import type { RelayThroughputResult } from './relay-throughput.js';
import { round } from './stats.js';

export interface TargetCheck {
  target: string;
  measured: string;
  /** undefined when the section did not run. */
  met: boolean | undefined;
}

export interface MeasuredSections {
  relay?: RelayThroughputResult;
  handling?: HandlingResult[];
  e2e?: EndToEndResult;
  cards?: CardStreamResult;
  memory?: MemoryResult;
  coldStart?: ColdStartSection;
}

/**
 * Growth tolerated over the run: the live-heap trend may add at most this much (a 100-byte
 * per-message leak over 40,000 messages is 4 MB), and RSS may end at most 10 % above the first
 * checkpoint (the heap has sized itself to the load by then).
 */
const HEAP_TREND_TOLERANCE_MB = 5;
const RSS_TOLERANCE = 1.1;

export function checkTargets(m: MeasuredSections): TargetCheck[] {
  const dynalite = m.handling?.find((h) => h.store === 'dynalite');
  const tenAccounts = m.memory?.idle.find((i) => i.accounts === 10);
  const load = m.memory?.load;
  const last = load?.checkpoints.at(-1);
  const paid = [
    ...(m.handling ?? []).map((h) => h.perMessage.paidApiCalls),
    ...(m.e2e ? [m.e2e.ours.perMessage.paidApiCalls] : []),
  ];
  return [
    {
      target: 'relay ≥ 2,000 msgs/s on one core',
      measured: m.relay
        ? `${fmt(m.relay.oneCoreMsgsPerSec)} msgs/s (${fmt(m.relay.relayCpuUsPerMsg)} µs CPU per message)`
        : '—',
      met: m.relay ? m.relay.oneCoreMsgsPerSec >= 2_000 : undefined,
    },
    {
      target: `push→ACK p99 ≤ 20 ms at 500/s`,
      measured: m.relay
        ? `p99 ${fmt(m.relay.ackLatencyMs.p99)} ms at ${m.relay.ackLatencyMs.rate}/s`
        : '—',
      met: m.relay ? m.relay.ackLatencyMs.p99 <= 20 && m.relay.ackLatencyMs.rate >= 500 : undefined,
    },
    {
      target: 'handling overhead p50 ≤ 5 ms on dynalite',
      measured: dynalite ? `p50 ${fmt(dynalite.overheadMs.p50)} ms` : '—',
      met: dynalite ? dynalite.overheadMs.p50 <= 5 : undefined,
    },
    {
      target: 'sequential store round trips per handled DM ≤ 3 (dynalite)',
      measured: dynalite
        ? `${fmt(dynalite.perMessage.storeRounds)} (${fmt(dynalite.perMessage.storeOps)} operations)`
        : '—',
      met: dynalite ? dynalite.perMessage.storeRounds <= 3 : undefined,
    },
    {
      target: 'store operations per dropped message ≤ 2 (pairing capacity)',
      measured: dynalite ? `${fmt(dynalite.perDrop.storeOps)} (${dynalite.perDrop.outcome})` : '—',
      met: dynalite ? dynalite.perDrop.storeOps <= 2 : undefined,
    },
    {
      target: 'npm start path: replies/s ≥ 50 % of the inline baseline (closed loop)',
      measured: m.e2e
        ? `${fmt(m.e2e.ours.repliesPerSec)} vs ${fmt(m.e2e.inline.repliesPerSec)} replies/s (${fmt((100 * m.e2e.ours.repliesPerSec) / m.e2e.inline.repliesPerSec)} %)`
        : '—',
      met: m.e2e ? m.e2e.ours.repliesPerSec >= 0.5 * m.e2e.inline.repliesPerSec : undefined,
    },
    {
      target: 'npm start path: reply latency p50 ≤ 3 ms (instant agent)',
      measured: m.e2e ? `p50 ${fmt(m.e2e.ours.replyLatencyMs.p50)} ms` : '—',
      met: m.e2e ? m.e2e.ours.replyLatencyMs.p50 <= 3 : undefined,
    },
    {
      target: 'relay RSS ≤ 100 MB with 10 accounts',
      measured: tenAccounts
        ? `${fmt(tenAccounts.rssMb)} MB idle${last ? `, ${fmt(last.rssMb)} MB after ${fmt(last.messages)} messages` : ''}`
        : '—',
      met: tenAccounts ? tenAccounts.rssMb <= 100 && (!last || last.rssMb <= 100) : undefined,
    },
    {
      target: `no growth after ${load ? load.messages.toLocaleString('en') : '50,000'} messages`,
      measured: load ? describeGrowth(load) : '—',
      met: load ? grows(load) === false : undefined,
    },
    ...cardTargets(m.cards),
    ...coldStartTargets(m.coldStart),
    {
      target: '0 paid OpenAPI calls per plain webhook reply',
      measured: paid.length > 0 ? `${fmt(Math.max(...paid))} per message` : '—',
      met: paid.length > 0 ? paid.every((p) => p === 0) : undefined,
    },
  ];
}

function grows(load: NonNullable<MeasuredSections['memory']>['load']): boolean {
  const first = load.checkpoints[0];
  const last = load.checkpoints.at(-1);
  if (!first || !last) return false;
  const trendMb = (load.heapSlopeBytesPerMsg * (last.messages - first.messages)) / 1024 ** 2;
  return trendMb > HEAP_TREND_TOLERANCE_MB || last.rssMb > first.rssMb * RSS_TOLERANCE;
}

function describeGrowth(load: NonNullable<MeasuredSections['memory']>['load']): string {
  const first = load.checkpoints[0];
  const last = load.checkpoints.at(-1);
  if (!first || !last) return '—';
  return `live heap trend ${fmt(load.heapSlopeBytesPerMsg)} B/msg, RSS ${fmt(first.rssMb)} → ${fmt(last.rssMb)} MB (${fmt(first.messages)} → ${fmt(last.messages)} messages)`;
}

/** Issue 13: streamed card replies within the call budget, every card finished. */
function cardTargets(c: CardStreamResult | undefined): TargetCheck[] {
  const worst = c
    ? Math.max(c.ours.calls.latency.max, c.ours.calls.slowLong.max, c.ours.calls.fastLong.max)
    : Number.NaN;
  return [
    {
      target: `paid card calls per streamed reply ≤ ${c ? c.budget : 'the budget'}`,
      measured: c
        ? `max ${fmt(worst)} (slow long ${fmt(c.ours.calls.slowLong.max)}, fast long ${fmt(c.ours.calls.fastLong.max)}; peer pattern ${fmt(c.peer.calls.slowLong.max)} / ${fmt(c.peer.calls.fastLong.max)})`
        : '—',
      met: c ? worst <= c.budget : undefined,
    },
    {
      target: 'streamed cards left unfinished: 0',
      measured: c ? `${c.ours.unfinished} (content wrong: ${c.ours.wrongContent})` : '—',
      met: c ? c.ours.unfinished === 0 && c.ours.wrongContent === 0 : undefined,
    },
  ];
}

/** The deploy work's own targets, as bench/cold-start.ts reports them with its figures. */
function coldStartTargets(section: ColdStartSection | undefined): TargetCheck[] {
  const data = section?.data;
  if (!isColdStartJson(data) || !data.targets) return [];
  const checks: TargetCheck[] = [];
  const { zippedBytes, requireToFirstHandledMs } = data.targets;
  const message = data.functions.message;
  if (zippedBytes !== undefined && message) {
    checks.push({
      target: `message function ≤ ${fmt(zippedBytes / 1024 ** 2)} MB zipped (deploy)`,
      measured: `${fmt(message.zippedBytes / 1024 ** 2)} MB`,
      met: message.zippedBytes <= zippedBytes,
    });
  }
  if (requireToFirstHandledMs !== undefined) {
    const median = data.coldStart.requireToFirstHandledMs.median;
    checks.push({
      target: `cold load + first message ≤ ${requireToFirstHandledMs} ms (deploy)`,
      measured: `median ${fmt(median)} ms`,
      met: median <= requireToFirstHandledMs,
    });
  }
  return checks;
}

/** A number for the table: thousands separated, sensibly rounded. */
export function fmt(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  return round(value).toLocaleString('en');
}
