/**
 * The API operations the fake serves, each from its decoded protobuf request to the response
 * message (tablestore.proto): table management (CreateTable, DescribeTable, ListTable,
 * DeleteTable) and single-row and range access (PutRow, GetRow, UpdateRow, DeleteRow, GetRange).
 * Anything else answers OTSParameterInvalid "Unsupported operation", as Tablestore does for an
 * unknown name; batch operations, indexes, search, SQL, streams and transactions are not modeled.
 */
import { decodeFilter, evaluateFilter } from './conditions.js';
import { otsErrors } from './errors.js';
import {
  decodeRow,
  encodePrimaryKey,
  encodeRows,
  type PkCell,
  PlainBufferError,
  type PlainRow,
  type RowOut,
} from './plainbuffer.js';
import { int64ToNumber } from './proto.js';
import { checkName, FakeTable, type PkSchema, rowLookup, type WriteCondition } from './table.js';

/** The fake instance's tables. */
export class FakeInstance {
  readonly tables = new Map<string, FakeTable>();
}

type Req = Record<string, unknown>;
type Handler = (instance: FakeInstance, req: Req) => Record<string, unknown>;

const MIN_TTL_SECONDS = 86_400;

function table(instance: FakeInstance, req: Req): FakeTable {
  const name = String(req.tableName ?? '');
  const found = instance.tables.get(name);
  if (!found) throw otsErrors.tableMissing();
  return found;
}

function row(bytes: unknown): PlainRow {
  if (!(bytes instanceof Uint8Array) || bytes.length === 0) {
    throw otsErrors.invalid('The row or primary key is empty.');
  }
  try {
    return decodeRow(Buffer.from(bytes));
  } catch (err) {
    if (err instanceof PlainBufferError) throw otsErrors.invalid(err.message);
    throw err;
  }
}

function key(bytes: unknown): PkCell[] {
  return row(bytes).primaryKey;
}

function condition(req: Req): WriteCondition | undefined {
  return req.condition as WriteCondition | undefined;
}

function capacity(read: number, write: number) {
  return { capacityUnit: { read, write } };
}

const units = (bytes: number) => Math.max(1, Math.ceil(bytes / 4096));
const now = () => BigInt(Date.now());

/** protobufjs leaves unset optional fields on the prototype (default values): test presence. */
const has = (req: Req, field: string) => Object.hasOwn(req, field) && req[field] !== null;

/** A read must say which versions it wants (tablestore.proto GetRowRequest). */
function checkVersions(req: Req) {
  if (!has(req, 'maxVersions') && !has(req, 'timeRange')) {
    throw otsErrors.invalid('Neither max_versions nor time_range is set.');
  }
  const max = has(req, 'maxVersions') ? int64ToNumber(req.maxVersions) : undefined;
  if (max !== undefined && max < 1) throw otsErrors.invalid(`Invalid max_versions: ${max}.`);
}

/** Applies columns_to_get and a read filter; undefined = filtered out. */
function project(req: Req): (r: RowOut) => RowOut | undefined {
  const wanted =
    Array.isArray(req.columnsToGet) && req.columnsToGet.length > 0
      ? new Set(req.columnsToGet as string[])
      : undefined;
  const filterBytes = has(req, 'filter') ? (req.filter as Uint8Array) : undefined;
  const filter = filterBytes && filterBytes.length > 0 ? decodeFilter(filterBytes) : undefined;
  return (r) => {
    if (filter && !evaluateFilter(filter, rowLookup(r))) return undefined;
    if (!wanted) return r;
    return { primaryKey: r.primaryKey, columns: r.columns.filter((c) => wanted.has(c.name)) };
  };
}

const handlers: Record<string, Handler> = {
  CreateTable(instance, req) {
    const meta = req.tableMeta as { tableName: string; primaryKey: PkSchema[] } | undefined;
    if (!meta) throw otsErrors.invalid('table_meta is required.');
    checkName('table', meta.tableName);
    if (meta.primaryKey.length < 1 || meta.primaryKey.length > 4) {
      throw otsErrors.invalid('The number of primary key columns must be in range: [1, 4].');
    }
    for (const pk of meta.primaryKey) {
      checkName('column', pk.name);
      if (![1, 2, 3].includes(pk.type))
        throw otsErrors.invalid(`Invalid primary key type: ${pk.type}.`);
    }
    const options = (has(req, 'tableOptions') ? req.tableOptions : {}) as Req;
    const ttl = has(options, 'timeToLive') ? Number(options.timeToLive) : -1;
    if (ttl !== -1 && ttl < MIN_TTL_SECONDS) {
      throw otsErrors.invalid(`Invalid time_to_live: ${ttl}; it must be -1 or at least 86400.`);
    }
    const maxVersions = has(options, 'maxVersions') ? Number(options.maxVersions) : 1;
    if (maxVersions < 1) throw otsErrors.invalid(`Invalid max_versions: ${maxVersions}.`);
    if (instance.tables.has(meta.tableName)) throw otsErrors.tableExists();
    instance.tables.set(
      meta.tableName,
      new FakeTable(
        meta.tableName,
        meta.primaryKey.map((p) => ({ name: p.name, type: p.type })),
        { timeToLive: ttl, maxVersions },
      ),
    );
    return {};
  },

  DescribeTable(instance, req) {
    const t = table(instance, req);
    return {
      tableMeta: { tableName: t.name, primaryKey: t.primaryKey },
      reservedThroughputDetails: {
        capacityUnit: { read: 0, write: 0 },
        lastIncreaseTime: Math.floor(t.createdAt / 1000),
      },
      tableOptions: { timeToLive: t.options.timeToLive, maxVersions: t.options.maxVersions },
      tableStatus: 1, // ACTIVE
    };
  },

  ListTable(instance) {
    return { tableNames: [...instance.tables.keys()].sort() };
  },

  DeleteTable(instance, req) {
    table(instance, req);
    instance.tables.delete(String(req.tableName));
    return {};
  },

  PutRow(instance, req) {
    const change = row(req.row);
    table(instance, req).put(change, condition(req), now());
    return { consumed: capacity(0, units(Buffer.from(req.row as Uint8Array).length)) };
  },

  UpdateRow(instance, req) {
    const change = row(req.rowChange);
    table(instance, req).update(change, condition(req), now());
    return { consumed: capacity(0, units(Buffer.from(req.rowChange as Uint8Array).length)) };
  },

  DeleteRow(instance, req) {
    table(instance, req).delete(key(req.primaryKey), condition(req));
    return { consumed: capacity(0, 1) };
  },

  GetRow(instance, req) {
    const t = table(instance, req);
    checkVersions(req);
    const found = t.get(key(req.primaryKey));
    const out = found ? project(req)(found) : undefined;
    const bytes = encodeRows(out ? [out] : []);
    return { consumed: capacity(units(bytes.length), 0), row: bytes };
  },

  GetRange(instance, req) {
    const t = table(instance, req);
    checkVersions(req);
    const limit = has(req, 'limit') ? int64ToNumber(req.limit) : undefined;
    if (limit !== undefined && limit <= 0) throw otsErrors.invalid(`Invalid limit: ${limit}.`);
    const direction = Number(req.direction ?? 0) === 1 ? 'backward' : 'forward';
    const { rows, next } = t.range(
      key(req.inclusiveStartPrimaryKey),
      key(req.exclusiveEndPrimaryKey),
      direction,
      limit,
      project(req),
    );
    const bytes = encodeRows(rows);
    return {
      consumed: capacity(units(bytes.length), 0),
      rows: bytes,
      ...(next ? { nextStartPrimaryKey: encodePrimaryKey(next) } : {}),
    };
  },
};

/** The operations the fake serves. */
export const OPERATIONS = new Set(Object.keys(handlers));

/** Runs one operation; throws OtsError for a Tablestore error answer. */
export function runOperation(instance: FakeInstance, operation: string, req: Req) {
  const handler = handlers[operation];
  if (!handler) throw otsErrors.invalid(`Unsupported operation: '${operation}'.`);
  return handler(instance, req);
}
