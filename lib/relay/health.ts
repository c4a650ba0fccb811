/**
 * The relay's health endpoint, for ECS/FC health checks and for people:
 * - `GET /healthz` → 200 while the process serves requests (liveness);
 * - `GET /readyz`  → 200 when every enabled account is connected, else 503 (readiness);
 * both with the relay status as JSON (per-account state, last error and counters);
 * - `GET /metrics`    → Prometheus text (lib/relay/metrics.ts), when metrics are given;
 * - `GET /stats/hour` → the counters of the last hour as JSON (for `dingtalk-channel status`).
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RelayStatus } from './relay.js';

export interface HealthServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** What the health server needs to serve `/metrics` and `/stats/hour`. */
export interface MetricsSource {
  readonly contentType: string;
  text(): Promise<string>;
  lastHour(): unknown;
}

function serveMetrics(metrics: MetricsSource, path: string, res: ServerResponse): void {
  if (path === '/stats/hour') {
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify(metrics.lastHour()));
    return;
  }
  metrics.text().then(
    (text) => res.writeHead(200, { 'content-type': metrics.contentType }).end(text),
    (err: unknown) =>
      res
        .writeHead(500, { 'content-type': 'text/plain' })
        .end(`metrics failed: ${err instanceof Error ? err.message : String(err)}`),
  );
}

/** Where the health server listens unless told otherwise: loopback only. */
export const DEFAULT_HEALTH_HOST = '127.0.0.1';

/** Starts the health server on `options.host` (default loopback) and `options.port`. */
export async function startHealthServer(
  status: () => RelayStatus,
  options: { port: number; host?: string; metrics?: MetricsSource },
): Promise<HealthServer> {
  const { metrics } = options;
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (req.method === 'GET' && metrics && (path === '/metrics' || path === '/stats/hour')) {
      serveMetrics(metrics, path, res);
      return;
    }
    if (req.method !== 'GET' || (path !== '/healthz' && path !== '/readyz')) {
      const more = metrics ? ', /metrics or /stats/hour' : ' or /readyz';
      res
        .writeHead(404, { 'content-type': 'application/json' })
        .end(
          JSON.stringify({ error: `not found; try /healthz${metrics ? ', /readyz' : ''}${more}` }),
        );
      return;
    }
    const current = status();
    const ok = path === '/healthz' || current.ready;
    res
      .writeHead(ok ? 200 : 503, { 'content-type': 'application/json' })
      .end(JSON.stringify(current));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? DEFAULT_HEALTH_HOST, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const bound = options.host ?? DEFAULT_HEALTH_HOST;
  const any = ['0.0.0.0', '::', ''].includes(bound);
  const host = any ? '127.0.0.1' : bound.includes(':') ? `[${bound}]` : bound;
  return {
    url: `http://${host}:${port}`,
    port,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
