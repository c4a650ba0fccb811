/**
 * The inbox forwarder (lib/forward/inbox.ts): a hand-off is one durable write, so a burst far
 * past the relay's slots and wait list is ACKed and answered without shedding; what a stopped or
 * crashed process left in the inbox is handled at the next start; a retryable failure is retried
 * with its attempt number; an outcome removes the entry.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createEchoAgent } from '../../lib/agent/index.js';
import { ChannelError } from '../../lib/errors.js';
import { createInboxForwarder } from '../../lib/forward/inbox.js';
import type { MessageEvent } from '../../lib/forward/port.js';
import { memoryLogger } from '../../lib/log.js';
import { runRelay } from '../../lib/relay/run.js';
import { startSimulator } from '../../lib/simulator/index.js';
import { openLocalStore } from '../../lib/state/local.js';
import { APP, cleanups, countersOf, relayConfig, runCleanups } from '../relay/support.js';

afterEach(runCleanups);

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'inbox-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const event = (n: number): MessageEvent => ({
  version: 1,
  accountId: 'default',
  messageId: `m${n}`,
  data: JSON.stringify({ msgId: `msg${n}`, createAt: 1769851697000 + n }),
  receivedAt: Date.now(),
});

describe('inbox forwarder', () => {
  it('takes a burst 50× the relay’s slots and wait list (redelivery switched off): nothing shed, every message answered once', async () => {
    const sim = await startSimulator({ apps: [APP], maxRedeliveries: 0 });
    cleanups.push(() => sim.close());
    const config = relayConfig(sim, {
      STATE_BACKEND: 'local',
      STATE_DIR: tempDir(),
      RELAY_MAX_INFLIGHT: '2',
      RELAY_MAX_WAITING: '2',
    });
    const running = await runRelay(config, { runtime: { agent: createEchoAgent() } });
    cleanups.push(() => running.stop(2_000));
    const BURST = 200;
    for (let i = 0; i < BURST; i++) {
      sim.injectMessage({
        conversationType: '1',
        sender: { staffId: `u${i}` },
        text: `burst ${i}`,
      });
    }
    await sim.waitFor(
      () => (sim.outbox().length >= BURST ? true : undefined),
      20_000,
      'every reply',
    );
    const texts = sim.outbox().map((e) => e.text);
    expect(new Set(texts).size).toBe(BURST);
    expect(countersOf(running.relay)).toMatchObject({ shed: 0, received: BURST });
  });

  it('handles at start what an earlier process left in the inbox', async () => {
    const dir = tempDir();
    const first = await openLocalStore(dir);
    const stalled = createInboxForwarder({
      store: first,
      handler: () => new Promise(() => undefined), // the process "dies" mid-handling
      timeoutMs: 50,
      concurrency: 1,
      logger: memoryLogger(),
    });
    expect(await stalled.forward(event(1))).toEqual({ accepted: true });
    expect(await stalled.forward(event(1))).toEqual({ accepted: true }); // a redelivery
    expect(await stalled.pending()).toBe(1);
    await stalled.close();
    await first.close();

    const store = await openLocalStore(dir);
    cleanups.push(() => store.close());
    const seen: string[] = [];
    const next = createInboxForwarder({
      store,
      handler: async (e) => {
        seen.push(e.messageId);
        return { status: 'handled' };
      },
      timeoutMs: 1_000,
      concurrency: 2,
      logger: memoryLogger(),
    });
    cleanups.push(() => next.close());
    expect(await next.idle(5_000)).toBe(true);
    expect(seen).toEqual(['m1']);
  });

  it('retries a thrown failure with its attempt number; an outcome removes the entry', async () => {
    const store = await openLocalStore(tempDir());
    cleanups.push(() => store.close());
    const attempts: (number | undefined)[] = [];
    const inbox = createInboxForwarder({
      store,
      handler: async (e) => {
        attempts.push(e.attempt);
        if (attempts.length < 3)
          throw new ChannelError('state_unavailable', 'down', { retryable: true });
        return { status: 'failed', reason: 'reply_no_route' };
      },
      timeoutMs: 1_000,
      concurrency: 1,
      logger: memoryLogger(),
    });
    cleanups.push(() => inbox.close());
    await inbox.forward(event(7));
    expect(await inbox.idle(10_000)).toBe(true);
    expect(attempts).toEqual([undefined, 1, 2]);
  });
});
