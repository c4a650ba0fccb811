/**
 * PlainBuffer, Tablestore's row encoding inside the protobuf messages (rows, primary keys and
 * filter values are `bytes` fields holding it). Format (Tablestore "PlainBuffer" reference):
 *
 *   row     = header(int32 LE 0x75) row_pk [row_data] [TAG_DELETE_ROW_MARKER] TAG_ROW_CHECKSUM crc
 *   row_pk  = TAG_ROW_PK cell*            row_data = TAG_ROW_DATA cell*
 *   cell    = TAG_CELL TAG_CELL_NAME len32 name [TAG_CELL_VALUE len32 type payload]
 *             [TAG_CELL_TYPE op] [TAG_CELL_TIMESTAMP int64] TAG_CELL_CHECKSUM crc
 *
 * A GetRange `rows` field is one header followed by several rows. Checksums are CRC-8
 * (polynomial 0x07): a cell's covers its name, value, timestamp and op; a row's covers its cells'
 * checksums and then one byte for the delete marker (1 or 0). Written from the format, not from
 * the SDK's code, so the SDK's encoder is checked against an independent reader.
 */

export const TAG = {
  ROW_PK: 0x01,
  ROW_DATA: 0x02,
  CELL: 0x03,
  CELL_NAME: 0x04,
  CELL_VALUE: 0x05,
  CELL_TYPE: 0x06,
  CELL_TIMESTAMP: 0x07,
  DELETE_ROW_MARKER: 0x08,
  ROW_CHECKSUM: 0x09,
  CELL_CHECKSUM: 0x0a,
} as const;
const HEADER = 0x75;
const VT = {
  INTEGER: 0x0,
  DOUBLE: 0x1,
  BOOLEAN: 0x2,
  STRING: 0x3,
  BLOB: 0x7,
  INF_MIN: 0x9,
  INF_MAX: 0xa,
  AUTO_INCREMENT: 0xb,
} as const;
const OP = { DELETE_ALL_VERSION: 0x1, DELETE_ONE_VERSION: 0x3, INCREMENT: 0x4 } as const;

/** An attribute or primary key value as Tablestore types it. */
export type CellValue =
  | { type: 'integer'; value: bigint }
  | { type: 'double'; value: number }
  | { type: 'boolean'; value: boolean }
  | { type: 'string'; value: string }
  | { type: 'blob'; value: Buffer };

/** A primary key value; the virtual ones appear only in range bounds (and auto-increment). */
export type PkValue = CellValue | { type: 'inf_min' } | { type: 'inf_max' } | { type: 'auto' };

export interface PkCell {
  name: string;
  value: PkValue;
}

export type CellOp = 'put' | 'delete_all' | 'delete_one' | 'increment';

export interface DataCell {
  name: string;
  value?: CellValue;
  op: CellOp;
  timestamp?: bigint;
}

export interface PlainRow {
  primaryKey: PkCell[];
  cells: DataCell[];
  deleteMarker: boolean;
}

/** A malformed PlainBuffer; the server answers OTSParameterInvalid. */
export class PlainBufferError extends Error {}

const CRC_TABLE = (() => {
  const table = new Uint8Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i;
    for (let bit = 0; bit < 8; bit++)
      crc = crc & 0x80 ? ((crc << 1) ^ 0x07) & 0xff : (crc << 1) & 0xff;
    table[i] = crc;
  }
  return table;
})();

function crcBytes(crc: number, bytes: Uint8Array): number {
  let c = crc;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ?? 0;
  return c;
}
const crcByte = (crc: number, b: number) => CRC_TABLE[(crc ^ b) & 0xff] ?? 0;
function crcInt32(crc: number, n: number): number {
  const buf = Buffer.alloc(4);
  buf.writeInt32LE(n | 0);
  return crcBytes(crc, buf);
}

class Reader {
  pos = 0;
  tag = 0;
  constructor(readonly buf: Buffer) {}
  atEnd() {
    return this.pos >= this.buf.length;
  }
  need(n: number) {
    if (this.pos + n > this.buf.length) throw new PlainBufferError('PlainBuffer truncated');
  }
  byte() {
    this.need(1);
    return this.buf[this.pos++] ?? 0;
  }
  int32() {
    this.need(4);
    const v = this.buf.readInt32LE(this.pos);
    this.pos += 4;
    return v;
  }
  bytes(n: number) {
    if (n < 0) throw new PlainBufferError('negative length in PlainBuffer');
    this.need(n);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  is(tag: number): boolean {
    return this.tag === tag;
  }
  nextTag() {
    this.tag = this.atEnd() ? 0 : this.byte();
    return this.tag;
  }
  expect(tag: number, what: string) {
    if (this.tag !== tag) throw new PlainBufferError(`PlainBuffer: expected ${what}`);
  }
}

/** Reads a variant (type byte + payload) and folds it into `crc`. */
function readVariant(r: Reader, crc: number): { value: PkValue; crc: number } {
  const type = r.byte();
  let c = crcByte(crc, type);
  switch (type) {
    case VT.INTEGER: {
      const raw = r.bytes(8);
      return { value: { type: 'integer', value: raw.readBigInt64LE(0) }, crc: crcBytes(c, raw) };
    }
    case VT.DOUBLE: {
      const raw = r.bytes(8);
      return { value: { type: 'double', value: raw.readDoubleLE(0) }, crc: crcBytes(c, raw) };
    }
    case VT.BOOLEAN: {
      const b = r.byte();
      return { value: { type: 'boolean', value: b !== 0 }, crc: crcByte(c, b ? 1 : 0) };
    }
    case VT.STRING:
    case VT.BLOB: {
      const len = r.int32();
      const raw = r.bytes(len);
      c = crcBytes(crcInt32(c, len), raw);
      const value: PkValue =
        type === VT.STRING
          ? { type: 'string', value: raw.toString('utf8') }
          : { type: 'blob', value: Buffer.from(raw) };
      return { value, crc: c };
    }
    case VT.INF_MIN:
      return { value: { type: 'inf_min' }, crc: c };
    case VT.INF_MAX:
      return { value: { type: 'inf_max' }, crc: c };
    case VT.AUTO_INCREMENT:
      return { value: { type: 'auto' }, crc: c };
    default:
      throw new PlainBufferError(`PlainBuffer: unknown value type ${type}`);
  }
}

function readCell(r: Reader): { cell: DataCell & { pkValue?: PkValue }; crc: number } {
  r.expect(TAG.CELL, 'TAG_CELL');
  r.nextTag();
  r.expect(TAG.CELL_NAME, 'TAG_CELL_NAME');
  const name = r.bytes(r.int32()).toString('utf8');
  let crc = crcBytes(0, Buffer.from(name, 'utf8'));
  r.nextTag();
  let value: PkValue | undefined;
  if (r.is(TAG.CELL_VALUE)) {
    const len = r.int32();
    const start = r.pos;
    const read = readVariant(r, crc);
    if (r.pos - start !== len)
      throw new PlainBufferError('PlainBuffer: cell value length mismatch');
    value = read.value;
    crc = read.crc;
    r.nextTag();
  }
  let op: CellOp = 'put';
  let opByte: number | undefined;
  if (r.is(TAG.CELL_TYPE)) {
    opByte = r.byte();
    if (opByte === OP.DELETE_ALL_VERSION) op = 'delete_all';
    else if (opByte === OP.DELETE_ONE_VERSION) op = 'delete_one';
    else if (opByte === OP.INCREMENT) op = 'increment';
    else throw new PlainBufferError(`PlainBuffer: unknown cell op ${opByte}`);
    r.nextTag();
  }
  let timestamp: bigint | undefined;
  if (r.is(TAG.CELL_TIMESTAMP)) {
    const raw = r.bytes(8);
    timestamp = raw.readBigInt64LE(0);
    crc = crcBytes(crc, raw);
    r.nextTag();
  }
  if (opByte !== undefined) crc = crcByte(crc, opByte);
  r.expect(TAG.CELL_CHECKSUM, 'TAG_CELL_CHECKSUM');
  const sent = r.byte();
  if (sent !== crc) throw new PlainBufferError('PlainBuffer: cell checksum mismatch');
  r.nextTag();
  const cell: DataCell & { pkValue?: PkValue } = { name, op };
  if (value !== undefined) {
    if (value.type === 'inf_min' || value.type === 'inf_max' || value.type === 'auto') {
      cell.pkValue = value;
    } else {
      cell.value = value;
      cell.pkValue = value;
    }
  }
  if (timestamp !== undefined) cell.timestamp = timestamp;
  return { cell, crc };
}

function readRowBody(r: Reader): PlainRow {
  let rowCrc = 0;
  const primaryKey: PkCell[] = [];
  const cells: DataCell[] = [];
  r.expect(TAG.ROW_PK, 'TAG_ROW_PK');
  r.nextTag();
  while (r.is(TAG.CELL)) {
    const { cell, crc } = readCell(r);
    if (!cell.pkValue) throw new PlainBufferError(`primary key column ${cell.name} has no value`);
    primaryKey.push({ name: cell.name, value: cell.pkValue });
    rowCrc = crcByte(rowCrc, crc);
  }
  if (r.is(TAG.ROW_DATA)) {
    r.nextTag();
    while (r.is(TAG.CELL)) {
      const { cell, crc } = readCell(r);
      if (cell.pkValue && !cell.value) {
        throw new PlainBufferError(`attribute column ${cell.name} holds a virtual value`);
      }
      delete cell.pkValue;
      cells.push(cell);
      rowCrc = crcByte(rowCrc, crc);
    }
  }
  let deleteMarker = false;
  if (r.is(TAG.DELETE_ROW_MARKER)) {
    deleteMarker = true;
    r.nextTag();
  }
  rowCrc = crcByte(rowCrc, deleteMarker ? 1 : 0);
  r.expect(TAG.ROW_CHECKSUM, 'TAG_ROW_CHECKSUM');
  if (r.byte() !== rowCrc) throw new PlainBufferError('PlainBuffer: row checksum mismatch');
  r.nextTag();
  return { primaryKey, cells, deleteMarker };
}

function readHeader(buf: Buffer): Reader {
  const r = new Reader(buf);
  if (r.int32() !== HEADER) throw new PlainBufferError('PlainBuffer: bad header');
  r.nextTag();
  return r;
}

/** Decodes one row (a PutRow/UpdateRow row change, or a primary key). */
export function decodeRow(buf: Buffer): PlainRow {
  const r = readHeader(buf);
  const row = readRowBody(r);
  if (!r.atEnd() || r.tag !== 0) throw new PlainBufferError('PlainBuffer: trailing bytes');
  return row;
}

/** Decodes a filter's column value: a bare variant (type byte + payload, no tag or length). */
export function decodeVariant(buf: Buffer): CellValue {
  const r = new Reader(buf);
  const { value } = readVariant(r, 0);
  if (value.type === 'inf_min' || value.type === 'inf_max' || value.type === 'auto') {
    throw new PlainBufferError('a column condition cannot compare with a virtual value');
  }
  return value;
}

class Writer {
  parts: Buffer[] = [];
  byte(b: number) {
    this.parts.push(Buffer.from([b]));
  }
  int32(n: number) {
    const b = Buffer.alloc(4);
    b.writeInt32LE(n);
    this.parts.push(b);
  }
  raw(b: Buffer) {
    this.parts.push(b);
  }
  done() {
    return Buffer.concat(this.parts);
  }
}

function variantBytes(value: PkValue): Buffer {
  switch (value.type) {
    case 'integer': {
      const b = Buffer.alloc(9);
      b[0] = VT.INTEGER;
      b.writeBigInt64LE(value.value, 1);
      return b;
    }
    case 'double': {
      const b = Buffer.alloc(9);
      b[0] = VT.DOUBLE;
      b.writeDoubleLE(value.value, 1);
      return b;
    }
    case 'boolean':
      return Buffer.from([VT.BOOLEAN, value.value ? 1 : 0]);
    case 'string':
    case 'blob': {
      const data = value.type === 'string' ? Buffer.from(value.value, 'utf8') : value.value;
      const b = Buffer.alloc(5);
      b[0] = value.type === 'string' ? VT.STRING : VT.BLOB;
      b.writeInt32LE(data.length, 1);
      return Buffer.concat([b, data]);
    }
    case 'inf_min':
      return Buffer.from([VT.INF_MIN]);
    case 'inf_max':
      return Buffer.from([VT.INF_MAX]);
    case 'auto':
      return Buffer.from([VT.AUTO_INCREMENT]);
  }
}

/** The checksum of a variant: type byte, then (for strings/blobs) the length, then the payload. */
function variantCrc(crc: number, bytes: Buffer): number {
  return crcBytes(crc, bytes);
}

function writeCell(w: Writer, name: string, value: PkValue | undefined, timestamp?: bigint) {
  const nameBytes = Buffer.from(name, 'utf8');
  w.byte(TAG.CELL);
  w.byte(TAG.CELL_NAME);
  w.int32(nameBytes.length);
  w.raw(nameBytes);
  let crc = crcBytes(0, nameBytes);
  if (value) {
    const v = variantBytes(value);
    w.byte(TAG.CELL_VALUE);
    w.int32(v.length);
    w.raw(v);
    crc = variantCrc(crc, v);
  }
  if (timestamp !== undefined) {
    const t = Buffer.alloc(8);
    t.writeBigInt64LE(timestamp);
    w.byte(TAG.CELL_TIMESTAMP);
    w.raw(t);
    crc = crcBytes(crc, t);
  }
  w.byte(TAG.CELL_CHECKSUM);
  w.byte(crc);
  return crc;
}

/** A stored row as the server returns it: key cells, then attribute cells with timestamps. */
export interface RowOut {
  primaryKey: PkCell[];
  columns: Array<{ name: string; value: CellValue; timestamp: bigint }>;
}

function writeRowBody(w: Writer, row: RowOut) {
  let rowCrc = 0;
  w.byte(TAG.ROW_PK);
  for (const pk of row.primaryKey) rowCrc = crcByte(rowCrc, writeCell(w, pk.name, pk.value));
  if (row.columns.length > 0) {
    w.byte(TAG.ROW_DATA);
    for (const c of row.columns) {
      rowCrc = crcByte(rowCrc, writeCell(w, c.name, c.value, c.timestamp));
    }
  }
  rowCrc = crcByte(rowCrc, 0);
  w.byte(TAG.ROW_CHECKSUM);
  w.byte(rowCrc);
}

/** Encodes rows under one header (GetRow: one row; GetRange: many; none: empty bytes). */
export function encodeRows(rows: RowOut[]): Buffer {
  if (rows.length === 0) return Buffer.alloc(0);
  const w = new Writer();
  w.int32(HEADER);
  for (const row of rows) writeRowBody(w, row);
  return w.done();
}

/** Encodes a primary key alone (next_start_primary_key). */
export function encodePrimaryKey(primaryKey: PkCell[]): Buffer {
  return encodeRows([{ primaryKey, columns: [] }]);
}
