/**
 * The discovery file `<stateDir>/endpoint.json` that lets a second process (the owner CLI run in
 * another terminal while `npm start` runs) find the embedded dynalite instead of opening its
 * LevelDB path, which only one process may hold.
 *
 * The owner claims the file (create-if-absent) before it opens the database, first with
 * `endpoint: null` ("starting"), then rewrites it atomically (temp file + rename) with the endpoint.
 * So two processes starting together cannot both become owner: the loser sees the claim and waits.
 * Known gap: two processes replacing the same stale file at the same instant can both claim;
 * `assertPathFree` (dynalite-server.ts) then stops the second before dynalite opens the path.
 */
import { randomBytes } from 'node:crypto';
import { link, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';

export interface Discovery {
  /** `http://127.0.0.1:<port>`, or null while the owner is still starting. */
  endpoint: string | null;
  pid: number;
  tableName: string;
}

export const DISCOVERY_FILE = 'endpoint.json';

/** Path of the discovery file in a state directory. */
export function discoveryPath(stateDir: string): string {
  return join(stateDir, DISCOVERY_FILE);
}

/** The discovery file's content; undefined when absent or unreadable (a torn or foreign file). */
export async function readDiscovery(file: string): Promise<Discovery | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const parsed = JSON.parse(text) as Partial<Discovery>;
    if (!Number.isInteger(parsed.pid) || typeof parsed.tableName !== 'string') return undefined;
    if (parsed.endpoint !== null && typeof parsed.endpoint !== 'string') return undefined;
    return parsed as Discovery;
  } catch {
    return undefined;
  }
}

/** Creates the file only if absent; false when someone else's file is already there.
 * Written to a temp file and hard-linked into place, so nobody ever reads a half-written claim. */
export async function claimDiscovery(file: string, content: Discovery): Promise<boolean> {
  const temp = await writeTemp(file, content);
  try {
    await link(temp, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

/** Replaces the file's content atomically (readers never see a half-written file). */
export async function publishDiscovery(file: string, content: Discovery): Promise<void> {
  await rename(await writeTemp(file, content), file);
}

async function writeTemp(file: string, content: Discovery): Promise<string> {
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(temp, `${JSON.stringify(content)}\n`);
  return temp;
}

/** Removes the file if it still describes `owner` (never someone else's newer claim). */
export async function releaseDiscovery(file: string, owner: Discovery): Promise<void> {
  const current = await readDiscovery(file);
  if (current && (current.pid !== owner.pid || current.endpoint !== owner.endpoint)) return;
  await unlink(file).catch(() => undefined);
}

/** Removes a file found stale (dead pid, or unparseable) if it is still the same content. */
export async function removeStale(file: string, stale: Discovery | undefined): Promise<void> {
  const current = await readDiscovery(file);
  if (stale && current && (current.pid !== stale.pid || current.endpoint !== stale.endpoint))
    return;
  await unlink(file).catch(() => undefined);
}

/** True when a process with this pid exists (EPERM: it exists but belongs to another user). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** True when `endpoint` answers dynalite's health check (`GET /` → "healthy: …") in time. */
export function endpointAnswers(endpoint: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    // agent: false — a one-off connection, so no keep-alive socket outlives the check.
    const req = request(endpoint, { method: 'GET', agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve(res.statusCode === 200 && body.startsWith('healthy')));
      res.on('error', () => resolve(false));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}
