/**
 * The relay's one-hour window (`/stats/hour`, read by `dingtalk-channel status`): counter
 * deltas against the snapshot taken an hour ago, or since start while the relay is younger.
 * Fake timers drive the minute snapshots; the status is the relay's own shape.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RelayMetrics } from '../../lib/relay/metrics.js';
import { emptyRelayCounters, type RelayCounters, type RelayStatus } from '../../lib/relay/relay.js';

afterEach(() => {
  vi.useRealTimers();
});

const zero: RelayCounters = emptyRelayCounters();

function statusWith(counters: RelayCounters): RelayStatus {
  return {
    ready: true,
    stopping: false,
    inflight: 0,
    waiting: 0,
    forwarder: 'inprocess',
    accounts: [
      {
        accountId: 'default',
        state: 'connected',
        connections: 1,
        counters: {
          received: 0,
          acked: 0,
          ackFailed: 0,
          malformedFrames: 0,
          reconnects: 0,
          gatewayCalls: 1,
          handlerErrors: 0,
        },
        relay: { ...counters },
      },
    ],
  };
}

describe('relay hour window', () => {
  it('counts since start while young, then only the last hour', () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'] });
    const counters = { ...zero };
    const metrics = new RelayMetrics({ processMetrics: false });
    const start = Date.now();
    metrics.observe(() => statusWith(counters));
    counters.received = 10;
    counters.acked = 9;
    counters.shed = 1;
    expect(metrics.lastHour()).toEqual({
      since: start,
      until: start,
      accounts: [{ accountId: 'default', counters: { ...zero, received: 10, acked: 9, shed: 1 } }],
    });
    // 91 minutes of 2 messages a minute (each minute's snapshot is taken before its messages).
    for (let minute = 0; minute < 91; minute += 1) {
      vi.advanceTimersByTime(60_000);
      counters.received += 2;
      counters.acked += 2;
    }
    const hour = metrics.lastHour();
    expect(hour.until - hour.since).toBeLessThanOrEqual(60 * 60_000);
    expect(hour.until - hour.since).toBeGreaterThanOrEqual(59 * 60_000);
    // Against the snapshot at minute 31: the messages of minutes 31..91 (61 × 2); the first 10,
    // the shed one and minutes 1..30 have left the window.
    expect(hour.accounts[0]!.counters).toMatchObject({ received: 122, acked: 122, shed: 0 });
    metrics.close();
  });
});
