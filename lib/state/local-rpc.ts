/**
 * The local store over loopback (local.ts): the owning process answers the StateStore port's
 * calls for other processes of the machine, as JSON over HTTP on 127.0.0.1 with a bearer token
 * that only the endpoint file (mode 0600) holds. The wire form is the port itself:
 * `POST /state {op, args}` → `{result}` or `{error: {code, message, retryable}}`.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ChannelError, errorSummary } from '../errors.js';
import { deadlineError } from './deadline.js';
import type {
  CallOptions,
  Condition,
  QueryOptions,
  StateItem,
  StateStore,
  StateValue,
} from './port.js';
import { checkCondition, checkKey, checkLimit, copyItem, copyUpdate } from './values.js';

const OPS = ['get', 'put', 'update', 'delete', 'query'] as const;
type Op = (typeof OPS)[number];
const MAX_BODY_BYTES = 8 * 1024 * 1024;

export interface StoreServer {
  url: string;
  token: string;
  close(): Promise<void>;
}

/** Serves `store` on 127.0.0.1 (a free port) to holders of the returned token. */
export async function startStoreServer(store: StateStore): Promise<StoreServer> {
  const token = randomBytes(24).toString('hex');
  const expected = Buffer.from(`Bearer ${token}`);
  const server = createServer((req, res) => {
    const answer = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const auth = Buffer.from(req.headers.authorization ?? '');
    if (auth.length !== expected.length || !timingSafeEqual(auth, expected)) {
      answer(401, {
        error: { code: 'unauthorized', message: 'bad or missing token', retryable: false },
      });
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) req.destroy();
      else chunks.push(chunk);
    });
    req.on('end', () => {
      void (async () => {
        try {
          const { op, args } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
            op: Op;
            args: unknown[];
          };
          if (!OPS.includes(op) || !Array.isArray(args))
            throw new ChannelError('bad_request', 'unknown operation');
          answer(200, { result: (await serve(store, op, args)) ?? null });
        } catch (err) {
          const retryable = err instanceof ChannelError ? err.retryable : true;
          answer(200, { error: { ...errorSummary(err), retryable } });
        }
      })();
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    token,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * One call on the owner's store. On the wire a missing condition is `null`, and an update's
 * removed attributes (`undefined`, which JSON cannot carry) travel as a list of names.
 */
function serve(store: StateStore, op: Op, args: unknown[]): Promise<unknown> {
  const condition = (value: unknown) => (value === null ? undefined : (value as Condition));
  switch (op) {
    case 'get':
      return store.get(args[0] as string, args[1] as string);
    case 'put':
      return store.put(args[0] as StateItem, condition(args[1]));
    case 'update': {
      const set = { ...(args[2] as Record<string, StateValue | undefined>) };
      for (const name of args[4] as string[]) set[name] = undefined;
      return store.update(args[0] as string, args[1] as string, set, condition(args[3]));
    }
    case 'delete':
      return store.delete(args[0] as string, args[1] as string, condition(args[2]));
    case 'query':
      return store.query(args[0] as string, args[1] as QueryOptions);
  }
}

/** A StateStore that forwards every call to the owning process; rejects when it is not there. */
export async function connectRemoteStore(endpoint: {
  url: string;
  token: string;
}): Promise<StateStore> {
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  let closed = false;
  const call = (op: Op, args: unknown[], options?: CallOptions): Promise<unknown> =>
    new Promise((resolve, reject) => {
      if (closed) {
        reject(new ChannelError('state_unavailable', 'state store is closed'));
        return;
      }
      if (options?.signal?.aborted) {
        reject(deadlineError(`local ${op}`, 'local store'));
        return;
      }
      const body = JSON.stringify({ op, args });
      const req = request(
        `${endpoint.url}/state`,
        {
          method: 'POST',
          agent,
          headers: {
            authorization: `Bearer ${endpoint.token}`,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
          },
          ...(options?.signal ? { signal: options.signal } : {}),
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            try {
              const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
                result?: unknown;
                error?: { code: string; message: string; retryable: boolean };
              };
              if (parsed.error) {
                reject(
                  new ChannelError(parsed.error.code, parsed.error.message, {
                    retryable: parsed.error.retryable,
                  }),
                );
              } else resolve(parsed.result === null ? undefined : parsed.result);
            } catch (err) {
              reject(
                new ChannelError(
                  'state_unavailable',
                  `local store: bad answer (${errorSummary(err).message})`,
                  { retryable: true },
                ),
              );
            }
          });
        },
      );
      req.on('error', (err) =>
        reject(
          options?.signal?.aborted
            ? deadlineError(`local ${op}`, 'local store', err)
            : new ChannelError(
                'state_unavailable',
                `local store at ${endpoint.url}: ${err.message}`,
                {
                  cause: err,
                  retryable: true,
                },
              ),
        ),
      );
      req.end(body);
    });
  // Connecting once proves the owner is alive (a stale endpoint file is not used).
  await call('get', ['__local__', 'ping']);
  const plain = (o?: CallOptions) => (o?.signal ? { signal: o.signal } : undefined);
  type R<K extends Op> = ReturnType<StateStore[K]>;
  // Inputs are checked here as every adapter checks them: JSON would turn NaN and Dates into
  // other values before the owner could refuse them.
  const checked = <T>(check: () => void, send: () => Promise<T>): Promise<T> => {
    try {
      check();
    } catch (err) {
      return Promise.reject(err);
    }
    return send();
  };
  const conditionOf = (c: Condition | undefined) => {
    if (c) checkCondition(c);
  };
  return {
    get: (pk, sk, o) =>
      checked(
        () => checkKey(pk, sk),
        () => call('get', [pk, sk], plain(o)) as R<'get'>,
      ),
    put: (item, condition, o) =>
      checked(
        () => {
          copyItem(item);
          conditionOf(condition);
        },
        () => call('put', [item, condition ?? null], plain(o)) as R<'put'>,
      ),
    update: (pk, sk, set, condition, o) =>
      checked(
        () => {
          checkKey(pk, sk);
          copyUpdate(set);
          conditionOf(condition);
        },
        () => {
          const removed = Object.keys(set).filter((name) => set[name] === undefined);
          return call('update', [pk, sk, set, condition ?? null, removed], plain(o)) as R<'update'>;
        },
      ),
    delete: (pk, sk, condition, o) =>
      checked(
        () => {
          checkKey(pk, sk);
          conditionOf(condition);
        },
        () => call('delete', [pk, sk, condition ?? null], plain(o)) as R<'delete'>,
      ),
    query: (pk, options) =>
      checked(
        () => {
          checkKey(pk, 'query');
          checkLimit(options?.limit);
        },
        () => {
          const { signal, ...rest } = options ?? {};
          return call('query', [pk, rest], signal ? { signal } : undefined) as R<'query'>;
        },
      ),
    close: async () => {
      closed = true;
      agent.destroy();
    },
  };
}
