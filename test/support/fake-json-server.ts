/**
 * A recording JSON-over-HTTP server on 127.0.0.1:0, the base of the fake agent servers
 * (fake-openai.ts, fake-agent-http.ts). Every request is recorded (method, path, headers, raw
 * and parsed body) before it is answered; answers may be delayed, and `close()` cancels pending
 * delays and drops open connections so vitest exits cleanly.
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  rawBody: string;
  /** The parsed JSON body, or undefined when it was not JSON. */
  body: unknown;
  /** Set when the connection closed before the answer was complete (the client aborted, or a `cut`). */
  aborted?: boolean;
}

export interface ServerAnswer {
  status: number;
  /** Sent as is. */
  body: string;
  contentType?: string;
  /** Wait this long before answering (the client may give up first). */
  delayMs?: number;
  /**
   * A streamed body (server-sent events): after the head, each part is written `gapMs` after
   * the one before; `cut` destroys the connection after the parts instead of ending it.
   */
  parts?: { chunks: string[]; gapMs: number; cut?: boolean };
}

export type ServerHandler = (request: RecordedRequest) => ServerAnswer | Promise<ServerAnswer>;

export interface JsonServer {
  /** `http://127.0.0.1:<port>` */
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Starts a recording server; `handle` decides every answer. */
export async function startJsonServer(handle: ServerHandler): Promise<JsonServer> {
  const requests: RecordedRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();

  const send = (res: ServerResponse, answer: ServerAnswer) => {
    if (res.destroyed || res.writableEnded) return;
    res.writeHead(answer.status, { 'content-type': answer.contentType ?? 'application/json' });
    if (!answer.parts) {
      res.end(answer.body);
      return;
    }
    const { chunks, gapMs, cut } = answer.parts;
    const next = (i: number) => {
      if (res.destroyed) return;
      if (i >= chunks.length) {
        if (cut) res.destroy();
        else res.end(answer.body);
        return;
      }
      res.write(chunks[i]);
      const timer = setTimeout(() => {
        timers.delete(timer);
        next(i + 1);
      }, gapMs);
      timers.add(timer);
    };
    next(0);
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks).toString('utf8');
      const recorded: RecordedRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        rawBody,
        body: parseJson(rawBody),
      };
      requests.push(recorded);
      res.on('close', () => {
        if (!res.writableFinished) recorded.aborted = true;
      });
      Promise.resolve(handle(recorded))
        .then((answer) => {
          if (!answer.delayMs) return send(res, answer);
          const timer = setTimeout(() => {
            timers.delete(timer);
            send(res, answer);
          }, answer.delayMs);
          timers.add(timer);
          res.on('close', () => {
            clearTimeout(timer);
            timers.delete(timer);
          });
        })
        .catch((err: unknown) =>
          send(res, { status: 500, body: JSON.stringify({ error: String(err) }) }),
        );
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A `http://127.0.0.1:<port>` where nothing listens (connection refused). */
export async function refusedUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}
