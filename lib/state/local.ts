/**
 * The local store of `npm start` (STATE_BACKEND=local, the default on one machine): the memory
 * store's semantics in the running process, made durable by a journal under the state directory.
 * It exists because the single-machine path must be durable AND close to inline speed; dynalite
 * over local HTTP (the `embedded` backend, still there and still what stands in for DynamoDB in
 * tests) costs about a millisecond per operation, this costs microseconds.
 *
 * - Every applied change appends one line (the item as it now is, or its deletion) to
 *   `<dir>/state.jsonl` with a synchronous write before the call resolves, so nothing the
 *   pipeline was told is stored can be lost when the process crashes. The trade, written down:
 *   there is no fsync, so a power loss or kernel crash can lose the last writes (the OS flushes
 *   within seconds); dynalite under `.data/` has the same exposure.
 * - On open the journal is replayed; once it holds many more lines than live items it is
 *   rewritten as a snapshot (temp file + rename), and expired records (`expiresAt` a day in the
 *   past) are swept then, so nothing grows forever.
 * - One process owns the directory (`local.lock` holds its pid). It serves the store on
 *   127.0.0.1 to the other processes of the machine (the owner commands in another terminal),
 *   with a token in `local-endpoint.json` (mode 0600); they use `RemoteStateStore`. When no
 *   live process owns it, the opener becomes the owner itself.
 * Guarded by test/state/local.test.ts (the contract suite, durability across reopen, the owner
 * commands against a running owner).
 */
import {
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { ChannelError } from '../errors.js';
import { connectRemoteStore, type StoreServer, startStoreServer } from './local-rpc.js';
import { MemoryStateStore } from './memory.js';
import type { StateItem, StateStore } from './port.js';

const JOURNAL = 'state.jsonl';
const LOCK = 'local.lock';
export const LOCAL_ENDPOINT_FILE = 'local-endpoint.json';
/** Rewrite the journal once it has this many lines more than twice the live items. */
const COMPACT_SLACK = 50_000;
const COMPACT_CHECK_EVERY = 10_000;
/** Records expired this long ago are dropped at compaction. */
const SWEEP_AFTER_S = 24 * 60 * 60;

interface JournalLine {
  p: string;
  s: string;
  i?: StateItem;
}

/** The owning process's store: memory + journal + the loopback server for other processes. */
class LocalOwnerStore extends MemoryStateStore {
  #fd: number;
  #pending: string[] = [];
  #lines = 0;
  #live = 0;
  #nextCheckAt = COMPACT_SLACK;
  #server: StoreServer | undefined;
  readonly #dir: string;

  constructor(dir: string) {
    // Replayed writes must not be journalled again: the sink is connected after the replay.
    const sink: { write: (line: JournalLine) => void } = { write: () => undefined };
    super({
      onWrite: (pk, sk, item) => sink.write({ p: pk, s: sk, ...(item ? { i: item } : {}) }),
    });
    this.#dir = dir;
    this.#fd = -1;
    this.#replay();
    this.#compactIfDue(true);
    if (this.#fd < 0) this.#fd = openSync(join(dir, JOURNAL), 'a', 0o600);
    sink.write = (line) => this.#append(line);
  }

  attach(server: StoreServer): void {
    this.#server = server;
  }

  override async close(): Promise<void> {
    this.#flush();
    await this.#server?.close();
    this.#server = undefined;
    await super.close();
    if (this.#fd >= 0) closeSync(this.#fd);
    this.#fd = -1;
    rmSync(join(this.#dir, LOCAL_ENDPOINT_FILE), { force: true });
    rmSync(join(this.#dir, LOCK), { force: true });
  }

  /**
   * Group commit: lines of one synchronous burst (the writes a step issues together) go out in
   * one write. The flush is a microtask queued inside the store call, so it runs before the
   * call's promise lets its caller go on: nothing is reported stored before it was written.
   */
  #append(line: JournalLine): void {
    if (this.#pending.length === 0) queueMicrotask(() => this.#flush());
    this.#pending.push(`${JSON.stringify(line)}\n`);
    this.#lines += 1;
  }

  #flush(): void {
    if (this.#pending.length === 0 || this.#fd < 0) return;
    const text = this.#pending.join('');
    this.#pending = [];
    writeSync(this.#fd, text);
    this.#compactIfDue(false);
  }

  #replay(): void {
    let text = '';
    try {
      text = readFileSync(join(this.#dir, JOURNAL), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const latest = new Map<string, JournalLine>();
    for (const raw of text.split('\n')) {
      if (raw === '') continue;
      let line: JournalLine;
      try {
        line = JSON.parse(raw) as JournalLine;
      } catch {
        continue; // a torn last line after a crash mid-write: that write never resolved
      }
      latest.set(`${line.p}\n${line.s}`, line);
      this.#lines += 1;
    }
    for (const line of latest.values()) if (line.i) void super.put(line.i);
  }

  #compactIfDue(atOpen: boolean): void {
    // Counting items walks the store: done at most once per COMPACT_CHECK_EVERY appends.
    if (!atOpen && this.#lines < this.#nextCheckAt) return;
    this.#nextCheckAt = this.#lines + COMPACT_CHECK_EVERY;
    this.#live = [...this.items()].length;
    if (!atOpen && this.#lines < 2 * this.#live + COMPACT_SLACK) return;
    if (atOpen && this.#lines <= this.#live) return;
    const cutoff = Math.floor(Date.now() / 1000) - SWEEP_AFTER_S;
    const all = [...this.items()];
    const keep = all.filter((i) => i.expiresAt === undefined || i.expiresAt >= cutoff);
    const temp = join(this.#dir, `${JOURNAL}.tmp`);
    writeFileSync(temp, keep.map((i) => `${JSON.stringify({ p: i.pk, s: i.sk, i })}\n`).join(''), {
      mode: 0o600,
    });
    renameSync(temp, join(this.#dir, JOURNAL));
    if (this.#fd >= 0) closeSync(this.#fd);
    this.#fd = openSync(join(this.#dir, JOURNAL), 'a', 0o600);
    this.#lines = keep.length;
    this.#nextCheckAt = this.#lines + COMPACT_SLACK;
    // Swept from memory too (their deletion lines land in the fresh journal: harmless).
    const kept = new Set(keep);
    for (const item of all) if (!kept.has(item)) void super.delete(item.pk, item.sk);
  }
}

/**
 * Opens the local store under `dir`: as its owner, or through the process that owns it (also
 * when that is this process: a second opener is always a client).
 */
export async function openLocalStore(dir: string): Promise<StateStore> {
  mkdirSync(dir, { recursive: true });
  for (let attempt = 0; attempt < 50; attempt++) {
    if (takeLock(dir)) {
      const store = new LocalOwnerStore(dir);
      const server = await startStoreServer(store);
      store.attach(server);
      const endpoint = { url: server.url, token: server.token, pid: process.pid };
      const temp = join(dir, `${LOCAL_ENDPOINT_FILE}.${process.pid}`);
      writeFileSync(temp, JSON.stringify(endpoint), { mode: 0o600 });
      renameSync(temp, join(dir, LOCAL_ENDPOINT_FILE));
      return store;
    }
    const endpoint = readEndpoint(dir);
    if (endpoint) {
      const remote = await connectRemoteStore(endpoint).catch(() => undefined);
      if (remote) return remote;
    }
    await new Promise((r) => setTimeout(r, 100)); // the owner is starting, or just died
  }
  throw new ChannelError(
    'state_locked',
    `the local store in ${dir} is owned by a process that does not answer (see ${LOCK}); stop it or remove the file`,
  );
}

/** Takes `local.lock` for this process; a lock whose pid is dead is taken over. */
function takeLock(dir: string): boolean {
  const path = join(dir, LOCK);
  try {
    writeFileSync(path, String(process.pid), { flag: 'wx', mode: 0o600 });
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const pid = Number(readFileSync(path, 'utf8'));
  if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) return false;
  rmSync(path, { force: true });
  return false; // the next attempt takes it (one at a time: 'wx' decides between racers)
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readEndpoint(dir: string): { url: string; token: string; pid: number } | undefined {
  try {
    const value = JSON.parse(readFileSync(join(dir, LOCAL_ENDPOINT_FILE), 'utf8')) as {
      url?: unknown;
      token?: unknown;
      pid?: unknown;
    };
    if (
      typeof value.url === 'string' &&
      typeof value.token === 'string' &&
      typeof value.pid === 'number'
    ) {
      return { url: value.url, token: value.token, pid: value.pid };
    }
  } catch {
    // absent or half-written: the owner is starting
  }
  return undefined;
}
