/**
 * The message function's metrics after a known sequence through the real pipeline and the
 * simulator: a DM answered over the sessionWebhook, a group message dropped for want of an @,
 * a redelivery (duplicate), a DM whose webhook has expired (answered over the paid OpenAPI),
 * one whose OpenAPI fallback is refused too (a final failure) and one hit by a DingTalk outage
 * (a retried error), each counted by class. Lines are checked
 * against the CloudWatch EMF specification's rules, and the SLS form carries the same fields.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MessageMetrics, type MetricFormat } from '../../lib/metrics/index.js';
import { startTestChannel, type TestChannel } from '../support/channel.js';

let channel: TestChannel | undefined;
afterEach(async () => {
  await channel?.close();
  channel = undefined;
});

// biome-ignore lint/suspicious/noExplicitAny: tests read the JSON lines loosely
type Line = Record<string, any>;

/** The EMF specification's structural rules (CloudWatch_Embedded_Metric_Format_Specification). */
function checkEmf(line: Line): void {
  const aws = line._aws;
  expect(Number.isInteger(aws.Timestamp)).toBe(true);
  expect(aws.CloudWatchMetrics).toHaveLength(1);
  const [directive] = aws.CloudWatchMetrics;
  expect(directive.Namespace).toBe('DingTalkChannel');
  for (const set of directive.Dimensions) {
    expect(set.length).toBeLessThanOrEqual(30);
    for (const key of set) expect(typeof line[key]).toBe('string');
  }
  expect(directive.Metrics.length).toBeLessThanOrEqual(100);
  for (const metric of directive.Metrics) {
    expect(['Count', 'Milliseconds']).toContain(metric.Unit);
    expect(typeof line[metric.Name]).toBe('number');
  }
}

async function rig(format: MetricFormat) {
  const lines: Line[] = [];
  const metrics = new MessageMetrics({ format, write: (l) => lines.push(JSON.parse(l)) });
  channel = await startTestChannel({
    channel: { groupPolicy: 'open' },
    runtime: metrics.runtimeHooks(),
  });
  const ch = channel;
  const run = (event: Parameters<TestChannel['handle']>[0]) =>
    metrics.measure(event.accountId, () => ch.handle(event));
  return { lines, metrics, ch, run };
}

/** Sum of a metric over the lines whose dimensions match. */
function total(lines: Line[], name: string, dims: Record<string, string> = {}): number {
  return lines
    .filter((l) => Object.entries(dims).every(([k, v]) => l[k] === v))
    .reduce((sum, l) => sum + (typeof l[name] === 'number' ? l[name] : 0), 0);
}

describe('message function metrics', () => {
  it('counts handled, dropped by reason, duplicates, replies by route, paid calls and errors (EMF)', async () => {
    const { lines, ch, run } = await rig('emf');
    const dm = ch.inject({ conversationType: '1', sender: { staffId: 'u1' }, text: 'hello' });
    expect(await run(dm.event)).toEqual({ status: 'handled' });
    const group = ch.inject({
      conversationType: '2',
      conversationTitle: 'g',
      sender: { staffId: 'u1' },
      text: 'no mention',
      atBot: false,
    });
    expect(await run(group.event)).toMatchObject({ status: 'dropped', reason: 'mention_required' });
    expect((await run(dm.event)).status).toBe('duplicate');

    ch.sim.addFaults({ webhook: { count: 1, errcode: 300001 } });
    const late = ch.inject({ conversationType: '1', sender: { staffId: 'u2' }, text: 'late' });
    expect((await run(late.event)).status).toBe('handled');

    ch.sim.addFaults({
      webhook: { count: 1, errcode: 300001 },
      openapi: {
        count: 1,
        status: 403,
        code: 'Forbidden.AccessDenied.AccessTokenPermissionDenied',
      },
    });
    const refused = ch.inject({ conversationType: '1', sender: { staffId: 'u3' }, text: 'busy' });
    const final = await run(refused.event);
    expect(final.status).toBe('failed');

    // A DingTalk outage is retryable: the invocation throws and the platform runs it again.
    ch.sim.addFaults({
      webhook: { count: 1, errcode: 300001 },
      openapi: { count: 10, status: 503, code: 'ServiceUnavailable' },
    });
    const outage = ch.inject({ conversationType: '1', sender: { staffId: 'u4' }, text: 'down' });
    const error = await run(outage.event).catch((err: Error & { code?: string }) => err);
    expect(error).toBeInstanceOf(Error);

    for (const line of lines) checkEmf(line);
    expect(total(lines, 'MessagesHandled', { status: 'handled' })).toBe(2);
    expect(total(lines, 'MessagesHandled', { status: 'failed' })).toBe(1);
    expect(total(lines, 'MessagesHandled', { status: 'dropped' })).toBe(1);
    expect(total(lines, 'MessagesHandled', { status: 'duplicate' })).toBe(1);
    expect(total(lines, 'MessagesDropped', { reason: 'mention_required' })).toBe(1);
    expect(total(lines, 'MessagesDropped')).toBe(1);
    // Webhook calls: hello, late, busy and down (the last three fail 300001).
    expect(total(lines, 'ReplyCalls', { route: 'webhook' })).toBeGreaterThanOrEqual(4);
    // OpenAPI fallbacks: late's (sent), busy's (refused with 403), down's (503, maybe retried).
    const openapi = total(lines, 'ReplyCalls', { route: 'openapi' });
    expect(openapi).toBeGreaterThanOrEqual(3);
    expect(total(lines, 'PaidApiCalls', { endpoint: 'robot/oToMessages/batchSend' })).toBe(openapi);
    const failedReason = final.status === 'failed' ? final.reason : '';
    expect(total(lines, 'Errors', { errorClass: failedReason, retried: 'false' })).toBe(1);
    const errorClass = (error as { code?: string }).code ?? (error as Error).name;
    expect(total(lines, 'Errors', { errorClass, retried: 'true' })).toBe(1);
    expect(total(lines, 'Errors')).toBe(2);
    // Every invocation (6) has its duration, on the account's line.
    const durations = lines.filter((l) => typeof l.HandlerDuration === 'number');
    expect(durations).toHaveLength(6);
    expect(durations.every((l) => l.account === 'default')).toBe(true);
    expect(
      lines.find((l) => l.MessagesDropped === 1)?._aws.CloudWatchMetrics[0].Dimensions,
    ).toEqual([['account', 'reason']]);
  });

  it('times the agent per invocation, and writes plain SLS lines without _aws', async () => {
    const { lines, ch, run } = await rig('plain');
    const dm = ch.inject({ conversationType: '1', sender: { staffId: 'u1' }, text: 'time me' });
    await run(dm.event);
    expect(lines.every((l) => l._aws === undefined && l.kind === 'metrics')).toBe(true);
    const agent = lines.find((l) => typeof l.AgentLatency === 'number');
    expect(agent).toMatchObject({ account: 'default', AgentLatency: expect.any(Number) });
    expect(total(lines, 'MessagesHandled', { status: 'handled' })).toBe(1);
    // A policy drop costs no agent call, so no agent time is recorded for it.
    const before = lines.length;
    const group = ch.inject({
      conversationType: '2',
      sender: { staffId: 'u1' },
      text: 'x',
      atBot: false,
    });
    await run(group.event);
    expect(lines.slice(before).some((l) => 'AgentLatency' in l)).toBe(false);
  });
});
