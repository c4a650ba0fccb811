/**
 * A plain file host on 127.0.0.1:0 standing in for the URLs an agent puts in its attachments:
 * each path answers with its bytes and content type, or an HTTP error; every GET is counted.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HostedFile {
  bytes?: Buffer;
  contentType?: string;
  status?: number;
}

export interface FileServer {
  url(path: string): string;
  /** GETs per path. */
  hits: Map<string, number>;
  close(): Promise<void>;
}

export async function startFileServer(files: Record<string, HostedFile>): Promise<FileServer> {
  const hits = new Map<string, number>();
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const file = files[path];
    if (!file) {
      res.writeHead(404).end('not found');
      return;
    }
    if (file.status && file.status !== 200) {
      res.writeHead(file.status).end('error');
      return;
    }
    const bytes = file.bytes ?? Buffer.alloc(0);
    res.writeHead(200, {
      'content-type': file.contentType ?? 'application/octet-stream',
      'content-length': bytes.length,
    });
    res.end(bytes);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
