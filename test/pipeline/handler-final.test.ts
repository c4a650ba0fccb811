/**
 * Every message ends exactly once (issue "every message ends"): each permanent failure of the
 * first list ends the message on its first attempt (no loop, no second agent call), a send that
 * may have happened is never repeated, every route keeps its own size rule, a hung store ends
 * the attempt before its deadline, and a recipient DingTalk refuses is not logged as sent.
 * Each case failed on the pipeline before this change (see the list).
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { MessageEvent } from '../../lib/forward/port.js';
import { MAX_ATTEMPTS } from '../../lib/pipeline/dedup.js';
import { DynamoStateStore } from '../../lib/state/dynamodb.js';
import { keys } from '../../lib/state/keys.js';
import type { StateStore } from '../../lib/state/port.js';
import { dm, groupMessage, type Rig, startRig } from './rig.js';

let rig: Rig | undefined;
let hung: Server | undefined;
const hungSockets: Socket[] = [];
afterEach(async () => {
  await rig?.close();
  rig = undefined;
  for (const socket of hungSockets.splice(0)) socket.destroy();
  await new Promise((r) => (hung ? hung.close(r) : r(undefined)));
  hung = undefined;
});

/** `inner` with some operations replaced (a store failing in a chosen way). */
function storeWith(inner: StateStore, overrides: Partial<StateStore>): StateStore {
  return {
    get: (...a) => inner.get(...a),
    put: (...a) => inner.put(...a),
    update: (...a) => inner.update(...a),
    delete: (...a) => inner.delete(...a),
    query: (...a) => inner.query(...a),
    close: () => inner.close(),
    ...overrides,
  };
}

/** The event with fields of its payload replaced (as a hostile or broken sender could). */
function patched(event: MessageEvent, patch: Record<string, unknown>): MessageEvent {
  return { ...event, data: JSON.stringify({ ...JSON.parse(event.data), ...patch }) };
}

async function dedupRecord(r: Rig, msgId: string) {
  const key = keys.dedupClaim('default', msgId);
  return r.ch.store.get(key.pk, key.sk);
}

describe('permanent failures end on the first attempt', () => {
  it('an agent reply over 400 KB: one agent call, sent cut to the bound with a note, then a duplicate', async () => {
    rig = await startRig({ respond: { text: `${'long answer line\n'.repeat(26_000)}the end` } });
    const { event, msgId } = rig.ch.inject(dm('tell me everything'));
    expect(await rig.ch.handle(event)).toEqual({ status: 'handled' });
    expect(rig.ai.requests).toHaveLength(1);
    const sent = rig.sent();
    expect(sent.length).toBeGreaterThan(10);
    expect(sent.at(-1)).toContain('The reply was cut here');
    expect(await dedupRecord(rig, msgId)).toMatchObject({ status: 'COMPLETED' });
    expect(await rig.ch.handle(event)).toEqual({
      status: 'duplicate',
      reason: 'duplicate_completed',
    });
    expect(rig.ai.requests).toHaveLength(1);
  });

  it('a 1 MB DM: no agent call, one short note to the sender, acknowledged as failed', async () => {
    rig = await startRig();
    const { event } = rig.ch.inject(dm('字'.repeat(350_000)));
    expect(await rig.ch.handle(event)).toEqual({ status: 'failed', reason: 'input_too_large' });
    expect(rig.ai.requests).toHaveLength(0);
    expect(rig.sent()).toEqual([
      expect.stringContaining('Your message is too long for the agent: 350000 characters'),
    ]);
    expect(await rig.ch.handle(event)).toMatchObject({ status: 'duplicate' });
    expect(rig.sent()).toHaveLength(1);
  });

  it.each([
    ['a msgId over 2 KB', { msgId: `msg${'x'.repeat(2_100)}` }],
    ['a negative createAt', { createAt: -1 }],
    ['a fractional createAt', { createAt: 1769851697611.25 }],
    ['a createAt of 16 digits', { createAt: 1769851697611000 }],
  ])('%s: dropped as unparseable, no store write, no agent call', async (_, patch) => {
    rig = await startRig();
    const { event } = rig.ch.inject(dm('hello'));
    const writes: string[] = [];
    const inner = rig.ch.rt.store;
    rig.ch.rt.store = storeWith(inner, {
      put: (...a) => {
        writes.push('put');
        return inner.put(...a);
      },
      update: (...a) => {
        writes.push('update');
        return inner.update(...a);
      },
    });
    expect(await rig.ch.handle(patched(event, patch))).toEqual({
      status: 'dropped',
      reason: 'unparseable',
    });
    expect(writes).toEqual([]);
    expect(rig.ai.requests).toHaveLength(0);
  });

  it('a sessionWebhook that is not a URL: answered once through the OpenAPI', async () => {
    rig = await startRig();
    const { event } = rig.ch.inject(dm('hello'));
    expect(await rig.ch.handle(patched(event, { sessionWebhook: 'not a url' }))).toEqual({
      status: 'handled',
    });
    expect(rig.ch.sim.outbox()).toMatchObject([{ via: 'openapi', text: 'answer to hello' }]);
  });

  it('a sessionWebhook on a host that is not DingTalk: never posted to, answered through the OpenAPI', async () => {
    rig = await startRig();
    const { event } = rig.ch.inject(dm('hello'));
    // Refused before any request is made (lib/dingtalk/api.ts): nothing leaves the machine.
    const foreign = patched(event, {
      sessionWebhook: 'https://webhook.invalid/robot/sendBySession?session=s',
    });
    expect(await rig.ch.handle(foreign)).toEqual({ status: 'handled' });
    expect(rig.ch.sim.outbox()).toMatchObject([{ via: 'openapi', text: 'answer to hello' }]);
  });

  it('a reply with no route (webhook gone, sender without staffId): ended, agent asked once', async () => {
    rig = await startRig({ sim: { sessionWebhookTtlMs: 1_000 } });
    const { event, msgId } = rig.ch.inject(dm('hello'));
    const external = patched(event, { senderStaffId: null, senderId: '$:LWCP_v1:$external' });
    expect(await rig.ch.handle(external)).toEqual({ status: 'failed', reason: 'reply_no_route' });
    expect(rig.ai.requests).toHaveLength(1);
    expect(await dedupRecord(rig, msgId)).toMatchObject({
      status: 'COMPLETED',
      outcome: 'failed:reply_no_route',
    });
    expect(await rig.ch.handle(external)).toMatchObject({ status: 'duplicate' });
    expect(rig.ai.requests).toHaveLength(1);
  });

  it('a DM recipient DingTalk refuses (invalidStaffIdList) is not logged as sent', async () => {
    rig = await startRig({ sim: { sessionWebhookTtlMs: 1_000 } });
    const { event } = rig.ch.inject(dm('hello'));
    const ghost = patched(event, { senderStaffId: 'ghost-user' });
    expect(await rig.ch.handle(ghost)).toEqual({ status: 'failed', reason: 'recipient_rejected' });
    expect(rig.ch.sim.outbox()).toEqual([]);
    const events = rig.ch.logger.lines.map((l) => l.event);
    expect(events).not.toContain('reply.sent');
    expect(events).toContain('pipeline.failed_final');
  });

  it(`a failure that keeps coming back ends after ${MAX_ATTEMPTS} attempts, with one agent call`, async () => {
    rig = await startRig();
    const { event } = rig.ch.inject(dm('hello'));
    rig.ch.sim.addFaults({
      webhook: { count: 100, status: 502 },
      openapi: { count: 100, status: 500, code: 'ServiceUnavailable' },
    });
    for (let attempt = 1; attempt < MAX_ATTEMPTS; attempt++) {
      await expect(rig.ch.handle(event)).rejects.toMatchObject({ retryable: true });
    }
    const last = await rig.ch.handle(event);
    expect(last).toMatchObject({ status: 'failed' });
    expect(last.reason).toMatch(/^gave_up_/);
    expect(rig.ai.requests).toHaveLength(1);
    expect(await rig.ch.handle(event)).toMatchObject({ status: 'duplicate' });
  });
});

describe('a send that may have happened is never repeated', () => {
  it('a webhook that answers after the client timeout: delivered once, the retry does not resend', async () => {
    rig = await startRig({ runtime: { webhookTimeoutMs: 300 } });
    const { event } = rig.ch.inject(dm('slow lane'));
    rig.ch.sim.addFaults({ webhook: { delayMs: 1_500 } });
    await expect(rig.ch.handle(event)).rejects.toMatchObject({ code: 'reply_ambiguous' });
    expect(rig.sent()).toEqual(['answer to slow lane']);
    // The platform's retry: no second agent call, no second post.
    expect(await rig.ch.handle(event)).toEqual({ status: 'handled', reason: 'resumed' });
    expect(rig.ai.requests).toHaveLength(1);
    expect(rig.sent()).toEqual(['answer to slow lane']);
    expect(rig.ch.logger.lines.map((l) => l.event)).toContain('reply.ambiguous_skipped');
  });

  it('a crash after the last chunk was sent but before completion: the retry sends nothing', async () => {
    rig = await startRig();
    const { event } = rig.ch.inject(dm('finish me'));
    const inner = rig.ch.rt.store;
    let failCompletion = true;
    rig.ch.rt.store = storeWith(inner, {
      update: (pk, sk, set, condition, options) => {
        if (set.status === 'COMPLETED' && failCompletion) {
          failCompletion = false;
          return Promise.reject(
            Object.assign(new Error('connection reset'), { code: 'ECONNRESET' }),
          );
        }
        return inner.update(pk, sk, set, condition, options);
      },
    });
    await expect(rig.ch.handle(event)).rejects.toThrow('connection reset');
    expect(await rig.ch.handle(event)).toEqual({ status: 'handled', reason: 'resumed' });
    expect(rig.sent()).toEqual(['answer to finish me']);
  });
});

describe('every route has its own size rule', () => {
  it('a long emoji group reply over the OpenAPI (webhook expired) arrives whole', async () => {
    const text = '😀'.repeat(3_990);
    rig = await startRig({ respond: { text }, sim: { sessionWebhookTtlMs: 1_000 } });
    const { event } = rig.ch.inject(groupMessage('emoji please'));
    expect(await rig.ch.handle(event)).toEqual({ status: 'handled' });
    const outbox = rig.ch.sim.outbox();
    expect(outbox.every((e) => e.via === 'openapi')).toBe(true);
    const emoji = outbox.map((e) => e.text.replace(/[^\u{1F600}]/gu, '')).join('');
    expect([...emoji]).toHaveLength(3_990);
  });
});

describe('deadlines reach the store', () => {
  it('a store that accepts connections and never answers ends the attempt before its deadline', async () => {
    // Holds every connection open and answers nothing.
    hung = createServer((socket) => void hungSockets.push(socket));
    await new Promise<void>((r) => hung!.listen(0, '127.0.0.1', r));
    const port = (hung.address() as { port: number }).port;
    rig = await startRig();
    const hungStore = new DynamoStateStore({
      tableName: 't',
      region: 'us-east-1',
      endpoint: `http://127.0.0.1:${port}`,
      requestTimeoutMs: 60_000, // the client alone would wait a minute
    });
    rig.ch.rt.store = hungStore;
    process.env.AWS_ACCESS_KEY_ID ??= 'test';
    process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
    const { event } = rig.ch.inject(dm('anyone there?'));
    const started = Date.now();
    await expect(rig.ch.handle(event, 1_500)).rejects.toMatchObject({
      code: 'state_deadline',
      retryable: true,
    });
    // Bounded by the deadline (1.5 s) plus the finish grace, not by the client's minute.
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(rig.ai.requests).toHaveLength(0);
    await hungStore.close();
  });
});
