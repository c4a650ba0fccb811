/**
 * The relay's Prometheus metrics after a known sequence through the simulator: one message
 * handed off and answered, one shed (no slot, no wait place), one malformed payload, one
 * dropped connection and its reconnect. The exposition is scraped from the health server as
 * Prometheus would, and the hour window (`/stats/hour`) shows the same counts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { memoryLogger } from '../../lib/log.js';
import { runRelay } from '../../lib/relay/run.js';
import { startSimulator } from '../../lib/simulator/index.js';
import {
  APP,
  cleanups,
  countersOf,
  FAST_STREAM,
  gatedAgent,
  relayConfig,
  runCleanups,
  until,
} from './support.js';

afterEach(runCleanups);

/** `name{labels} value` lines of an exposition, as a map. */
function samples(text: string): Map<string, number> {
  const map = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    map.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return map;
}

describe('relay /metrics', () => {
  it('counts received, handed off, ACKed, shed, malformed, reconnects and hand-off latency', async () => {
    const sim = await startSimulator({ apps: [APP] });
    cleanups.push(() => sim.close());
    const agent = gatedAgent();
    const running = await runRelay(
      relayConfig(sim, { RELAY_MAX_INFLIGHT: '1', RELAY_MAX_WAITING: '0' }),
      { logger: memoryLogger(), runtime: { agent }, healthHost: '127.0.0.1', stream: FAST_STREAM },
    );
    cleanups.push(() => running.stop(0));
    const { relay } = running;

    const answered = sim.injectMessage({
      conversationType: '1',
      sender: { staffId: 'user0' },
      text: 'm0.',
    });
    await until(() => agent.calls.length === 1, 'the first message to reach the agent');
    sim.injectMessage({ conversationType: '1', sender: { staffId: 'user1' }, text: 'm1.' });
    await until(() => countersOf(relay).shed === 1, 'the second message to be shed');
    sim.injectMessage({
      conversationType: '1',
      sender: { staffId: 'user2' },
      text: 'no msgId',
      extra: { msgId: null },
    });
    await until(() => countersOf(relay).malformed === 1, 'the malformed payload');
    agent.release();
    await sim.waitForAck(answered.messageId);

    const before = relay.status().accounts[0]!.counters.reconnects;
    const conn = sim.connections().find((c) => c.state === 'open')!;
    sim.drop(conn.id);
    await until(
      () => relay.status().ready && relay.status().accounts[0]!.counters.reconnects > before,
      'the relay to reconnect',
    );

    const res = await fetch(`${running.health.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await res.text();
    const got = samples(text);
    const account = '{account="default"}';
    expect(got.get(`dingtalk_relay_messages_received_total${account}`)).toBe(3);
    expect(got.get(`dingtalk_relay_messages_handed_off_total${account}`)).toBe(1);
    expect(got.get(`dingtalk_relay_messages_acked_total${account}`)).toBe(1);
    expect(got.get(`dingtalk_relay_messages_shed_total${account}`)).toBe(1);
    expect(got.get(`dingtalk_relay_messages_malformed_total${account}`)).toBe(1);
    expect(got.get(`dingtalk_relay_handoff_failures_total${account}`)).toBe(0);
    expect(got.get(`dingtalk_relay_stream_reconnects_total${account}`)).toBe(before + 1);
    expect(got.get('dingtalk_relay_stream_connected{account="default",state="connected"}')).toBe(1);
    expect(got.get('dingtalk_relay_handoffs_inflight')).toBe(0);
    expect(got.get(`dingtalk_relay_handoff_latency_seconds_count${account}`)).toBe(1);
    const sum = got.get(`dingtalk_relay_handoff_latency_seconds_sum${account}`)!;
    expect(sum).toBeGreaterThan(0);
    expect(
      got.get('dingtalk_relay_handoff_latency_seconds_bucket{le="+Inf",account="default"}'),
    ).toBe(1);
    expect(text).toContain('# TYPE dingtalk_relay_messages_received_total counter');
    expect(text).toContain('# TYPE dingtalk_relay_handoff_latency_seconds histogram');
    // Node process metrics ride along.
    expect(got.get('process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(text).toContain('nodejs_eventloop_lag_seconds');

    const hour = (await (await fetch(`${running.health.url}/stats/hour`)).json()) as {
      since: number;
      accounts: { accountId: string; counters: Record<string, number> }[];
    };
    expect(hour.accounts).toEqual([
      {
        accountId: 'default',
        counters: expect.objectContaining({
          received: 3,
          forwarded: 1,
          acked: 1,
          shed: 1,
          malformed: 1,
        }),
      },
    ]);
    expect(hour.since).toBeLessThanOrEqual(Date.now());
  });
});
