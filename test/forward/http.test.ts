/**
 * The HTTP forwarder against a local stand-in for the message function's HTTP entry: a Node
 * server that opens requests with `openSignedEvent` (the same code a deployed entry uses) and
 * answers 401 / 400 / 200 the way the entry does.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { manualClock } from '../../lib/clock.js';
import { SIGNATURE_HEADER, signHmacRequest } from '../../lib/forward/hmac.js';
import { createHttpForwarder } from '../../lib/forward/http.js';
import { openSignedEvent } from '../../lib/forward/http-entry.js';
import type { MessageEvent } from '../../lib/forward/port.js';
import { refusedUrl, startJsonServer } from '../support/fake-json-server.js';
import { sampleEvent } from './fixtures.js';

const secret = 'relay-hmac-secret-0123456789';
const closers: Array<() => Promise<void>> = [];

afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

/** A function HTTP entry: verify, parse, hand to the "handler" (here: record), answer. */
async function startFunctionEntry(entrySecret = secret) {
  const received: MessageEvent[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const opened = openSignedEvent({
        headers: req.headers,
        body: Buffer.concat(chunks),
        secret: entrySecret,
        now: Date.now(),
      });
      if (opened.ok) received.push(opened.event);
      res.writeHead(opened.ok ? 200 : opened.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(opened.ok ? { status: 'handled' } : { error: opened.reason }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/dingtalk/message`;
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { url, received };
}

describe('HTTP forwarder → function HTTP entry', () => {
  it('delivers a signed event that the entry accepts (2xx = accepted)', async () => {
    const entry = await startFunctionEntry();
    const forwarder = createHttpForwarder({ url: entry.url, hmacSecret: secret });
    expect(forwarder.kind).toBe('http');
    expect(await forwarder.forward(sampleEvent())).toEqual({ accepted: true });
    expect(entry.received).toEqual([sampleEvent()]);
  });

  it('is refused with 401 (final) when the secrets differ', async () => {
    const entry = await startFunctionEntry('the-function-has-another-secret');
    const forwarder = createHttpForwarder({ url: entry.url, hmacSecret: secret });
    expect(await forwarder.forward(sampleEvent())).toEqual({
      accepted: false,
      retryable: false,
      reason: `http: ${entry.url}: 401 {"error":"bad_signature"}`,
    });
    expect(entry.received).toHaveLength(0);
  });

  it('is refused with 401 stale (final) when the relay clock is 10 minutes off', async () => {
    const entry = await startFunctionEntry();
    const clock = manualClock(Date.now() - 600_000);
    const forwarder = createHttpForwarder({ url: entry.url, hmacSecret: secret, clock });
    expect(await forwarder.forward(sampleEvent())).toMatchObject({
      accepted: false,
      retryable: false,
      reason: expect.stringContaining('401 {"error":"stale"}'),
    });
  });

  it('the entry answers 401 to unsigned and tampered requests, 400 to a signed non-event', async () => {
    const entry = await startFunctionEntry();
    const body = JSON.stringify(sampleEvent());
    const post = (headers: Record<string, string>, payload: string) =>
      fetch(entry.url, { method: 'POST', headers, body: payload }).then(async (r) => ({
        status: r.status,
        body: await r.text(),
      }));
    expect(await post({}, body)).toEqual({ status: 401, body: '{"error":"missing_signature"}' });
    const signature = signHmacRequest({ secret, body, now: Date.now() });
    const tampered = body.replace('你好', '转账');
    expect(await post(signature, tampered)).toEqual({
      status: 401,
      body: '{"error":"bad_signature"}',
    });
    const forged = { ...signature, [SIGNATURE_HEADER]: `v1=${'0'.repeat(64)}` };
    expect(await post(forged, body)).toMatchObject({ status: 401 });
    const notEvent = '{"hello":"world"}';
    expect(
      await post(signHmacRequest({ secret, body: notEvent, now: Date.now() }), notEvent),
    ).toEqual({ status: 400, body: '{"error":"event.version must be 1"}' });
    expect(entry.received).toHaveLength(0);
  });

  it.each([
    [500, true],
    [502, true],
    [503, true],
    [408, true],
    [429, true],
    [400, false],
    [403, false],
    [404, false],
  ])('classifies an answer of %i as retryable=%s', async (status, retryable) => {
    const server = await startJsonServer(() => ({ status, body: '{"error":"x"}' }));
    closers.push(server.close);
    const forwarder = createHttpForwarder({ url: `${server.url}/fn`, hmacSecret: secret });
    expect(await forwarder.forward(sampleEvent())).toMatchObject({
      accepted: false,
      retryable,
      reason: expect.stringContaining(`: ${status} `),
    });
  });

  it('signs every request it sends (recorded by a stand-in)', async () => {
    const server = await startJsonServer(() => ({ status: 202, body: '' }));
    closers.push(server.close);
    const forwarder = createHttpForwarder({ url: `${server.url}/fn`, hmacSecret: secret });
    expect(await forwarder.forward(sampleEvent())).toEqual({ accepted: true });
    const [request] = server.requests;
    expect(request?.method).toBe('POST');
    expect(request?.headers['content-type']).toBe('application/json');
    const opened = openSignedEvent({
      headers: request?.headers ?? {},
      body: request?.rawBody ?? '',
      secret,
      now: Date.now(),
    });
    expect(opened).toEqual({ ok: true, event: sampleEvent() });
  });

  it('treats a refused connection as retryable', async () => {
    const forwarder = createHttpForwarder({ url: await refusedUrl(), hmacSecret: secret });
    expect(await forwarder.forward(sampleEvent())).toMatchObject({
      accepted: false,
      retryable: true,
    });
  });

  it('times out (retryable) when the function does not answer in time', async () => {
    const server = await startJsonServer(() => ({ status: 200, body: '{}', delayMs: 5_000 }));
    closers.push(server.close);
    const forwarder = createHttpForwarder({ url: server.url, hmacSecret: secret, timeoutMs: 100 });
    expect(await forwarder.forward(sampleEvent())).toEqual({
      accepted: false,
      retryable: true,
      reason: `http: ${server.url}/: timed out after 100 ms`,
    });
  });

  it('keeps query strings and user info out of reasons', async () => {
    const url = (await refusedUrl()).replace('http://', 'http://user:pw-123456@');
    const forwarder = createHttpForwarder({
      url: `${url}/fn?code=query-token-123`,
      hmacSecret: secret,
    });
    const result = await forwarder.forward(sampleEvent());
    expect(result.accepted).toBe(false);
    const reason = result.accepted ? '' : result.reason;
    expect(reason).not.toContain('query-token-123');
    expect(reason).not.toContain('pw-123456');
    expect(reason).not.toContain(secret);
  });
});
