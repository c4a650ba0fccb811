/**
 * How a StateItem is stored in a Tablestore row (primary key `pk`, `sk`, both STRING):
 *
 * - every attribute is one column named `<type>_<name>`: `s_` string (STRING), `n_` number
 *   (DOUBLE: every JS number, integers and fractions, round-trips exactly), `b_` boolean
 *   (BOOLEAN), `j_` null, array or object (its JSON text as STRING);
 * - the type in the name keeps conditions exact without relying on how Tablestore compares
 *   values of different types: `equals('version', 3)` reads column `n_version`, so a string
 *   "3" (column `s_version`) is simply a missing column, and a missing column fails;
 * - Tablestore column names allow only letters, digits and `_`, so the name part escapes every
 *   other UTF-8 byte as `_XX` (hex) and `_` itself as `__` (`a.b` → `n_a_2Eb`);
 * - every row also has `_item` = true, a column every stored row has, which lets "the row is
 *   absent" be a column condition (tablestore-conditions.ts) and keeps a row whose attributes
 *   were all removed alive.
 */
import { ChannelError } from '../errors.js';
import type { StateItem, StateValue } from './port.js';

/** The column every row written by the adapter carries. */
export const ITEM_MARKER = '_item';
/** Tablestore's limit on column names. */
const MAX_COLUMN_NAME_BYTES = 255;

export type ColumnTag = 's' | 'n' | 'b' | 'j';
const TAGS: readonly ColumnTag[] = ['s', 'n', 'b', 'j'];

/** The escaped name part of a column (letters and digits kept). */
export function escapeName(name: string): string {
  let out = '';
  for (const byte of Buffer.from(name, 'utf8')) {
    const ch = String.fromCharCode(byte);
    if (/[A-Za-z0-9]/.test(ch)) out += ch;
    else if (ch === '_') out += '__';
    else out += `_${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Reverses escapeName; undefined when the text is not one of ours. */
export function unescapeName(escaped: string): string | undefined {
  const bytes: number[] = [];
  for (let i = 0; i < escaped.length; i++) {
    const ch = escaped[i]!;
    if (ch !== '_') {
      bytes.push(ch.charCodeAt(0));
      continue;
    }
    if (escaped[i + 1] === '_') {
      bytes.push(0x5f);
      i++;
      continue;
    }
    const hex = escaped.slice(i + 1, i + 3);
    if (!/^[0-9A-F]{2}$/.test(hex)) return undefined;
    bytes.push(Number.parseInt(hex, 16));
    i += 2;
  }
  return Buffer.from(bytes).toString('utf8');
}

/** The column holding attribute `name` when its value has type `tag`. */
export function columnName(tag: ColumnTag, name: string): string {
  const column = `${tag}_${escapeName(name)}`;
  if (Buffer.byteLength(column) > MAX_COLUMN_NAME_BYTES) {
    throw new ChannelError(
      'invalid_state_input',
      `attribute name ${JSON.stringify(name.slice(0, 40))}… is too long for a Tablestore column`,
    );
  }
  return column;
}

/** The columns an attribute may live in (one per type), for removing it whatever its type. */
export function allColumns(name: string): string[] {
  return TAGS.map((tag) => columnName(tag, name));
}

/** The tag and stored cell value of an attribute value. */
export function encodeValue(value: StateValue): {
  tag: ColumnTag;
  cell: string | number | boolean;
} {
  if (typeof value === 'string') return { tag: 's', cell: value };
  if (typeof value === 'number') return { tag: 'n', cell: value };
  if (typeof value === 'boolean') return { tag: 'b', cell: value };
  return { tag: 'j', cell: JSON.stringify(value) };
}

/** The SDK's `attributeColumns` for a whole item (keys excluded), marker included. */
export function itemColumns(item: StateItem): Array<Record<string, string | number | boolean>> {
  const columns: Array<Record<string, string | number | boolean>> = [{ [ITEM_MARKER]: true }];
  for (const [name, value] of Object.entries(item)) {
    if (name === 'pk' || name === 'sk' || value === undefined) continue;
    const { tag, cell } = encodeValue(value);
    columns.push({ [columnName(tag, name)]: cell });
  }
  return columns;
}

/** The SDK's `updateOfAttributeColumns`: PUT the new typed column, DELETE_ALL the other types. */
export function updateColumns(set: Record<string, StateValue | undefined>) {
  const put: Array<Record<string, string | number | boolean>> = [{ [ITEM_MARKER]: true }];
  const remove: string[] = [];
  for (const [name, value] of Object.entries(set)) {
    if (value === undefined) {
      remove.push(...allColumns(name));
      continue;
    }
    const { tag, cell } = encodeValue(value);
    const column = columnName(tag, name);
    put.push({ [column]: cell });
    remove.push(...allColumns(name).filter((c) => c !== column));
  }
  return [{ PUT: put }, ...(remove.length > 0 ? [{ DELETE_ALL: remove }] : [])];
}

interface SdkRow {
  primaryKey?: Array<{ name: string; value: unknown }> | null;
  attributes?: Array<{ columnName: string; columnValue: unknown }> | null;
}

function cellNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  const long = value as { toNumber?: () => number } | null;
  return typeof long?.toNumber === 'function' ? long.toNumber() : undefined;
}

/** A StateItem from an SDK row; undefined when the row is empty (GetRow found nothing). */
export function rowToItem(row: SdkRow | undefined | null): StateItem | undefined {
  if (!row?.primaryKey || row.primaryKey.length === 0) return undefined;
  const pk = row.primaryKey.find((c) => c.name === 'pk')?.value;
  const sk = row.primaryKey.find((c) => c.name === 'sk')?.value;
  if (typeof pk !== 'string' || typeof sk !== 'string') return undefined;
  const item: StateItem = { pk, sk };
  for (const { columnName: column, columnValue } of row.attributes ?? []) {
    const tag = column[0] as ColumnTag;
    if (column[1] !== '_' || !TAGS.includes(tag)) continue; // the marker, or not one of ours
    const name = unescapeName(column.slice(2));
    if (name === undefined) continue;
    if (tag === 's' && typeof columnValue === 'string') item[name] = columnValue;
    else if (tag === 'b' && typeof columnValue === 'boolean') item[name] = columnValue;
    else if (tag === 'n' && cellNumber(columnValue) !== undefined)
      item[name] = cellNumber(columnValue);
    else if (tag === 'j' && typeof columnValue === 'string')
      item[name] = parseJson(column, columnValue, item);
  }
  return item;
}

/** A `j_` column's value; text that is no JSON is a clear final error, never a silent gap. */
function parseJson(column: string, text: string, item: StateItem): StateValue {
  try {
    return JSON.parse(text) as StateValue;
  } catch (err) {
    throw new ChannelError(
      'state_unavailable',
      `Tablestore row ${item.pk}/${item.sk}: column ${column} holds no valid JSON (written by another tool?)`,
      { cause: err, retryable: false },
    );
  }
}
