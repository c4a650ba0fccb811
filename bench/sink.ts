/**
 * The relay benchmark's hand-off target: a local HTTP endpoint that reads each signed event and
 * answers 202, as a queueing function front end would. It measures the relay, not a handler.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HttpSink {
  url: string;
  /** Events received so far. */
  received(): number;
  close(): Promise<void>;
}

/** Starts the sink on 127.0.0.1 (a free port). */
export async function startHttpSink(): Promise<HttpSink> {
  let received = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      received += 1;
      res.writeHead(202, { 'content-type': 'application/json' }).end('{"accepted":true}');
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/events`,
    received: () => received,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
