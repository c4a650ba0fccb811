/**
 * Test helpers for the simulator suite: a raw Stream client built on `ws` (so tests see every
 * frame exactly as sent), JSON HTTP calls, and cleanup of everything a test started.
 */
import { WebSocket } from 'ws';
import type { DownstreamFrame, Subscription } from '../../lib/dingtalk/payload.js';
import { TOPIC_ROBOT } from '../../lib/dingtalk/payload.js';
import {
  type Simulator,
  type SimulatorOptions,
  startSimulator,
} from '../../lib/simulator/index.js';

export const APP = { clientId: 'dingtestapp', clientSecret: 'test-secret-1', accountId: 'main' };
export const APP2 = { clientId: 'dingotherapp', clientSecret: 'test-secret-2', accountId: 'other' };
export const ROBOT_SUBS: Subscription[] = [
  { type: 'EVENT', topic: '*' },
  { type: 'CALLBACK', topic: TOPIC_ROBOT },
];

const cleanups: (() => Promise<unknown> | unknown)[] = [];

/** Registers something to close in `closeAll()` (run it in afterEach). */
export function onCleanup(fn: () => Promise<unknown> | unknown): void {
  cleanups.push(fn);
}

export async function closeAll(): Promise<void> {
  while (cleanups.length > 0) await cleanups.pop()?.();
}

/** Starts a simulator with the test apps and registers it for cleanup. */
export async function simulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const sim = await startSimulator({ apps: [APP, APP2], ...options });
  onCleanup(() => sim.close());
  return sim;
}

export interface JsonResponse {
  status: number;
  contentType: string | null;
  // biome-ignore lint/suspicious/noExplicitAny: tests read JSON answers loosely
  body: any;
  text: string;
}

/** One HTTP call with an optional JSON body (or raw string body). */
export async function call(
  url: string,
  init: { method?: string; body?: unknown; raw?: string; headers?: Record<string, string> } = {},
): Promise<JsonResponse> {
  const hasBody = init.body !== undefined || init.raw !== undefined;
  const res = await fetch(url, {
    method: init.method ?? (hasBody ? 'POST' : 'GET'),
    headers: { 'content-type': 'application/json', accept: 'application/json', ...init.headers },
    body: init.raw ?? (init.body === undefined ? undefined : JSON.stringify(init.body)),
  });
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: res.status, contentType: res.headers.get('content-type'), body, text };
}

/** Calls `/open` and returns `{endpoint, ticket}`. */
export async function openTicket(
  sim: Simulator,
  app = APP,
  subscriptions: Subscription[] = ROBOT_SUBS,
): Promise<{ endpoint: string; ticket: string }> {
  const res = await call(sim.gatewayUrl, {
    body: { clientId: app.clientId, clientSecret: app.clientSecret, ua: '', subscriptions },
  });
  if (res.status !== 200) throw new Error(`gateway ${res.status}: ${res.text}`);
  return res.body;
}

/** The result of a WebSocket handshake attempt: open, or refused with an HTTP status. */
export function tryHandshake(
  url: string,
): Promise<{ ws?: WebSocket; status?: number; body?: string }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url);
    ws.on('open', () => resolve({ ws }));
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode, body }));
      res.on('error', () => resolve({ status: res.statusCode, body }));
    });
    ws.on('error', () => resolve({}));
  });
}

/** A Stream client on raw `ws` that records every frame, for checking the wire format. */
export class RawStreamClient {
  readonly frames: DownstreamFrame[] = [];
  readonly rawFrames: string[] = [];
  private waiters: (() => void)[] = [];
  closeCode?: number;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const text = data.toString();
      this.rawFrames.push(text);
      try {
        this.frames.push(JSON.parse(text) as DownstreamFrame);
      } catch {
        // kept in rawFrames only
      }
      this.wake();
    });
    ws.on('close', (code) => {
      this.closeCode = code;
      this.wake();
    });
    ws.on('error', () => undefined);
  }

  /** Opens a ticket and connects; registered for cleanup. */
  static async connect(
    sim: Simulator,
    app = APP,
    subscriptions: Subscription[] = ROBOT_SUBS,
  ): Promise<RawStreamClient> {
    const { endpoint, ticket } = await openTicket(sim, app, subscriptions);
    // Listeners go on before `open`: frames can arrive in the same packet as the handshake.
    const client = new RawStreamClient(new WebSocket(`${endpoint}?ticket=${ticket}`));
    onCleanup(() => client.ws.terminate());
    await new Promise<void>((resolve, reject) => {
      client.ws.once('open', () => resolve());
      client.ws.once('unexpected-response', (_req, res) =>
        reject(new Error(`handshake refused: ${res.statusCode}`)),
      );
    });
    return client;
  }

  /** Resolves once `count` raw frames (JSON or not) have arrived. */
  waitForRawFrames(count: number, timeoutMs = 3_000): Promise<string[]> {
    return this.waitUntil(
      () => (this.rawFrames.length >= count ? this.rawFrames : undefined),
      timeoutMs,
      `${count} raw frames`,
    );
  }

  waitForFrame(
    predicate: (frame: DownstreamFrame) => boolean,
    timeoutMs = 3_000,
    skip = 0,
  ): Promise<DownstreamFrame> {
    return this.waitUntil(() => this.frames.filter(predicate)[skip], timeoutMs, 'a matching frame');
  }

  waitForClose(timeoutMs = 3_000): Promise<number> {
    return this.waitUntil(() => this.closeCode, timeoutMs, 'the socket to close');
  }

  /** Sends an ACK the way N215 does (§2.2). */
  ack(frame: DownstreamFrame, data: string = JSON.stringify({ response: null })): void {
    this.ws.send(
      JSON.stringify({
        code: 200,
        headers: { contentType: 'application/json', messageId: frame.headers.messageId },
        message: 'OK',
        data,
      }),
    );
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  private waitUntil<T>(probe: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const value = probe();
        if (value === undefined) return;
        this.waiters = this.waiters.filter((w) => w !== check);
        clearTimeout(timer);
        resolve(value);
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== check);
        reject(new Error(`timed out waiting for ${what}; frames: ${this.rawFrames.join('\n')}`));
      }, timeoutMs);
      this.waiters.push(check);
      check();
    });
  }
}

/** Polls a client-side condition (the simulator's own waits cover server-side state). */
export async function eventually<T>(probe: () => T | undefined, timeoutMs = 3_000): Promise<T> {
  for (let waited = 0; ; waited += 10) {
    const value = probe();
    if (value !== undefined) return value;
    if (waited >= timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Resolves after `ms` — only to give the server a chance to do something it must NOT do. */
export function settle(ms = 150): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
