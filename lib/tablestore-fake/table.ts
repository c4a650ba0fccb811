/**
 * The fake's tables: rows kept sorted by primary key, and the single-row and range operations
 * with Tablestore's documented rules ("Limits", https://www.alibabacloud.com/help/en/tablestore/
 * product-overview/general-limits; "Primary keys and attributes"):
 *
 * - 1 to 4 primary key columns, the first is the partition key; rows sort by the whole key,
 *   string and binary columns by their bytes, integers numerically;
 * - table and column names: letters, digits and `_`, not starting with a digit, ≤ 255 bytes;
 * - a string/binary primary key value ≤ 1 KB; an attribute value ≤ 2 MB;
 * - PutRow replaces the whole row; UpdateRow creates an absent row under IGNORE;
 * - GetRange returns at most 5,000 rows or 4 MB per call and then a next_start_primary_key.
 *
 * One version per cell: the fake keeps only the latest value (max_versions 1), which is all the
 * adapter reads. A row whose last attribute column an UpdateRow deletes is gone (assumption).
 */
import { checkCondition } from './conditions.js';
import { otsErrors } from './errors.js';
import type { CellValue, DataCell, PkCell, PkValue, PlainRow, RowOut } from './plainbuffer.js';

export const NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const MAX_NAME_BYTES = 255;
export const MAX_PK_VALUE_BYTES = 1024;
export const MAX_COLUMN_VALUE_BYTES = 2 * 1024 * 1024;
export const MAX_RANGE_ROWS = 5000;
export const MAX_RANGE_BYTES = 4 * 1024 * 1024;

export interface PkSchema {
  name: string;
  /** INTEGER = 1, STRING = 2, BINARY = 3 (tablestore.proto PrimaryKeyType). */
  type: number;
}

export interface TableOptions {
  timeToLive: number;
  maxVersions: number;
}

interface StoredColumn {
  value: CellValue;
  timestamp: bigint;
}

interface StoredRow {
  key: PkCell[];
  columns: Map<string, StoredColumn>;
}

export interface WriteCondition {
  rowExistence: number;
  columnCondition?: Uint8Array | null;
}

const PK_TYPE_NAME: Record<number, CellValue['type']> = { 1: 'integer', 2: 'string', 3: 'blob' };

/** Checks a table or column name against Tablestore's naming rule. */
export function checkName(kind: 'table' | 'column', name: string): void {
  if (!NAME_PATTERN.test(name) || Buffer.byteLength(name) > MAX_NAME_BYTES) {
    throw otsErrors.invalid(`Invalid ${kind} name: '${name}'.`);
  }
}

function valueBytes(value: CellValue): number {
  switch (value.type) {
    case 'string':
      return Buffer.byteLength(value.value);
    case 'blob':
      return value.value.length;
    case 'boolean':
      return 1;
    default:
      return 8;
  }
}

function rank(v: PkValue): number {
  return v.type === 'inf_min' ? -1 : v.type === 'inf_max' ? 1 : 0;
}

function comparePkValue(a: PkValue, b: PkValue): number {
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== 0 || rb !== 0) return ra - rb;
  if (a.type === 'integer' && b.type === 'integer') {
    return a.value < b.value ? -1 : a.value > b.value ? 1 : 0;
  }
  const bytes = (v: PkValue) =>
    v.type === 'string'
      ? Buffer.from(v.value, 'utf8')
      : v.type === 'blob'
        ? v.value
        : Buffer.alloc(0);
  return Buffer.compare(bytes(a), bytes(b));
}

/** Orders two primary keys of the same schema, column by column. */
export function comparePk(a: PkCell[], b: PkCell[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const av = a[i]?.value;
    const bv = b[i]?.value;
    if (!av || !bv) return a.length - b.length;
    const order = comparePkValue(av, bv);
    if (order !== 0) return order;
  }
  return 0;
}

/** One table of the fake instance. */
export class FakeTable {
  readonly createdAt = Date.now();
  readonly #rows: StoredRow[] = [];

  constructor(
    readonly name: string,
    readonly primaryKey: PkSchema[],
    readonly options: TableOptions,
  ) {}

  get rowCount(): number {
    return this.#rows.length;
  }

  /** Checks a concrete primary key (no INF_MIN/INF_MAX) against the schema. */
  checkKey(key: PkCell[], allowVirtual = false): void {
    if (key.length !== this.primaryKey.length) {
      throw otsErrors.invalid(
        `The number of primary key columns must be ${this.primaryKey.length}, got ${key.length}.`,
      );
    }
    this.primaryKey.forEach((schema, i) => {
      const cell = key[i]!;
      if (cell.name !== schema.name) {
        throw otsErrors.invalid(
          `Validate PK name fail. Input: ${cell.name}, Meta: ${schema.name}.`,
        );
      }
      const virtual = cell.value.type === 'inf_min' || cell.value.type === 'inf_max';
      if (virtual && allowVirtual) return;
      if (cell.value.type !== PK_TYPE_NAME[schema.type]) {
        throw otsErrors.invalid(
          `Validate PK type fail. Input: ${cell.value.type}, Meta: ${PK_TYPE_NAME[schema.type]}.`,
        );
      }
      const size = valueBytes(cell.value as CellValue);
      if (size > MAX_PK_VALUE_BYTES) {
        throw otsErrors.invalid(
          `The length of primary key column: '${cell.name}' exceeds the MaxLength:${MAX_PK_VALUE_BYTES} with CurrentLength:${size}.`,
        );
      }
    });
  }

  #find(key: PkCell[]): { index: number; row: StoredRow | undefined } {
    let lo = 0;
    let hi = this.#rows.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (comparePk(this.#rows[mid]!.key, key) < 0) lo = mid + 1;
      else hi = mid;
    }
    const row = this.#rows[lo];
    return { index: lo, row: row && comparePk(row.key, key) === 0 ? row : undefined };
  }

  #check(condition: WriteCondition | undefined, row: StoredRow | undefined) {
    checkCondition(condition, row !== undefined, (column) => lookup(row, column));
  }

  #checkCells(cells: DataCell[]) {
    for (const cell of cells) {
      checkName('column', cell.name);
      if (this.primaryKey.some((pk) => pk.name === cell.name)) {
        throw otsErrors.invalid(`Attribute column '${cell.name}' has the name of a primary key.`);
      }
      if (cell.value && valueBytes(cell.value) > MAX_COLUMN_VALUE_BYTES) {
        throw otsErrors.invalid(
          `The length of attribute column: '${cell.name}' exceeds the MaxLength:${MAX_COLUMN_VALUE_BYTES} with CurrentLength:${valueBytes(cell.value)}.`,
        );
      }
    }
  }

  /** PutRow: writes the whole row (old columns dropped) if the condition holds. */
  put(change: PlainRow, condition: WriteCondition | undefined, now: bigint): void {
    this.checkKey(change.primaryKey);
    this.#checkCells(change.cells);
    const columns = new Map<string, StoredColumn>();
    for (const cell of change.cells) {
      if (cell.op !== 'put' || !cell.value) {
        throw otsErrors.invalid(`PutRow column '${cell.name}' must carry a value.`);
      }
      columns.set(cell.name, { value: cell.value, timestamp: cell.timestamp ?? now });
    }
    const { index, row } = this.#find(change.primaryKey);
    this.#check(condition, row);
    const stored = { key: change.primaryKey, columns };
    if (row) this.#rows[index] = stored;
    else this.#rows.splice(index, 0, stored);
  }

  /** UpdateRow: applies column changes (PUT, DELETE, DELETE_ALL, INCREMENT) if the condition holds. */
  update(change: PlainRow, condition: WriteCondition | undefined, now: bigint): void {
    this.checkKey(change.primaryKey);
    this.#checkCells(change.cells);
    if (change.cells.length === 0) throw otsErrors.invalid('UpdateRow needs at least one column.');
    const { index, row } = this.#find(change.primaryKey);
    this.#check(condition, row);
    const columns = new Map(row?.columns ?? []);
    for (const cell of change.cells) {
      if (cell.op === 'delete_all' || cell.op === 'delete_one') {
        columns.delete(cell.name);
      } else if (cell.op === 'increment') {
        const old = columns.get(cell.name)?.value;
        if (cell.value?.type !== 'integer' || (old && old.type !== 'integer')) {
          throw otsErrors.invalid(`Increment on column '${cell.name}' needs integer values.`);
        }
        const base = old?.type === 'integer' ? old.value : 0n;
        columns.set(cell.name, {
          value: { type: 'integer', value: base + cell.value.value },
          timestamp: now,
        });
      } else {
        if (!cell.value) throw otsErrors.invalid(`PUT column '${cell.name}' must carry a value.`);
        columns.set(cell.name, { value: cell.value, timestamp: cell.timestamp ?? now });
      }
    }
    if (columns.size === 0) {
      if (row) this.#rows.splice(index, 1);
      return;
    }
    const stored = { key: change.primaryKey, columns };
    if (row) this.#rows[index] = stored;
    else this.#rows.splice(index, 0, stored);
  }

  /** DeleteRow: removes the row if the condition holds (an absent row under IGNORE is fine). */
  delete(key: PkCell[], condition: WriteCondition | undefined): void {
    this.checkKey(key);
    const { index, row } = this.#find(key);
    this.#check(condition, row);
    if (row) this.#rows.splice(index, 1);
  }

  /** GetRow: the row, or undefined. */
  get(key: PkCell[]): RowOut | undefined {
    this.checkKey(key);
    const { row } = this.#find(key);
    return row ? toOut(row) : undefined;
  }

  /** GetRange over [start, end) (or (end, start] backwards), paged by limit, 5,000 rows and 4 MB. */
  range(
    start: PkCell[],
    end: PkCell[],
    direction: 'forward' | 'backward',
    limit: number | undefined,
    accept: (row: RowOut) => RowOut | undefined,
  ): { rows: RowOut[]; next: PkCell[] | undefined } {
    this.checkKey(start, true);
    this.checkKey(end, true);
    const forward = direction === 'forward';
    if (forward ? comparePk(start, end) > 0 : comparePk(start, end) < 0) {
      throw otsErrors.invalid('The start primary key is beyond the end primary key.');
    }
    const cap = Math.min(limit ?? MAX_RANGE_ROWS, MAX_RANGE_ROWS);
    const rows: RowOut[] = [];
    let bytes = 0;
    let i = this.#find(start).index;
    if (!forward) {
      // Backwards the start is inclusive too: step back unless it names a stored row.
      const found = this.#find(start);
      i = found.row ? found.index : found.index - 1;
    }
    for (; forward ? i < this.#rows.length : i >= 0; i += forward ? 1 : -1) {
      const row = this.#rows[i]!;
      const inRange = forward ? comparePk(row.key, end) < 0 : comparePk(row.key, end) > 0;
      if (!inRange) return { rows, next: undefined };
      if (rows.length >= cap || bytes >= MAX_RANGE_BYTES) return { rows, next: row.key };
      const out = accept(toOut(row));
      if (!out) continue;
      rows.push(out);
      bytes += rowBytes(out);
    }
    return { rows, next: undefined };
  }
}

function lookup(row: StoredRow | undefined, column: string): CellValue | undefined {
  if (!row) return undefined;
  const pk = row.key.find((k) => k.name === column);
  if (pk) return pk.value as CellValue;
  return row.columns.get(column)?.value;
}

function toOut(row: StoredRow): RowOut {
  return {
    primaryKey: row.key,
    columns: [...row.columns].map(([name, c]) => ({
      name,
      value: c.value,
      timestamp: c.timestamp,
    })),
  };
}

function rowBytes(row: RowOut): number {
  let n = 0;
  for (const k of row.primaryKey) n += k.name.length + valueBytes(k.value as CellValue);
  for (const c of row.columns) n += c.name.length + valueBytes(c.value);
  return n;
}

/** Lets GetRow/GetRange filters see a row's columns (primary key included). */
export function rowLookup(row: RowOut): (column: string) => CellValue | undefined {
  return (column) =>
    (row.primaryKey.find((k) => k.name === column)?.value as CellValue | undefined) ??
    row.columns.find((c) => c.name === column)?.value;
}
