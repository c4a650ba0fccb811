/**
 * Input checks and copying shared by every StateStore adapter, so memory and DynamoDB accept
 * and reject exactly the same items (a test passing on memory must not fail on DynamoDB).
 */
import { ChannelError } from '../errors.js';
import type { Condition, StateItem, StateValue } from './port.js';

/** DynamoDB's key limits: partition key ≤ 2048 bytes, sort key ≤ 1024 bytes (UTF-8). */
export const MAX_PK_BYTES = 2048;
export const MAX_SK_BYTES = 1024;
/** DynamoDB's item limit is 400 KB; we measure the JSON form, which is never smaller. */
export const MAX_ITEM_BYTES = 400 * 1024;
/**
 * `expiresAt` is epoch seconds. Anything above this (year 5138) is almost surely milliseconds:
 * such a record would never expire, and a millisecond "now" would make every record look expired.
 */
const MAX_EPOCH_SECONDS = 1e11;
const KEY_ATTRIBUTES = new Set(['pk', 'sk']);

function invalid(message: string): ChannelError {
  return new ChannelError('invalid_state_input', message);
}

/** Checks a key pair against DynamoDB's rules (non-empty strings within the byte limits). */
export function checkKey(pk: unknown, sk: unknown): void {
  if (typeof pk !== 'string' || pk === '')
    throw invalid('state key `pk` must be a non-empty string');
  if (typeof sk !== 'string' || sk === '')
    throw invalid('state key `sk` must be a non-empty string');
  if (Buffer.byteLength(pk) > MAX_PK_BYTES)
    throw invalid(`state key pk exceeds ${MAX_PK_BYTES} bytes`);
  if (Buffer.byteLength(sk) > MAX_SK_BYTES)
    throw invalid(`state key sk exceeds ${MAX_SK_BYTES} bytes`);
}

function checkExpiresAt(value: unknown, where: string): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw invalid(`${where}: expiresAt must be a finite number of epoch seconds`);
  }
  if (value > MAX_EPOCH_SECONDS) {
    throw invalid(`${where}: expiresAt ${value} looks like milliseconds; it must be epoch seconds`);
  }
}

/** A validated deep copy of an attribute value; `undefined` object members are dropped. */
export function copyValue(value: unknown, path: string): StateValue {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw invalid(`attribute ${path} must be a finite number`);
    return value;
  }
  if (Array.isArray(value)) {
    return value.map((v, i) => {
      if (v === undefined)
        throw invalid(`attribute ${path}[${i}] is undefined (lists cannot hold it)`);
      return copyValue(v, `${path}[${i}]`);
    });
  }
  if (typeof value === 'object' && isPlainObject(value)) {
    const out: { [k: string]: StateValue } = {};
    for (const [k, v] of Object.entries(value)) {
      if (v !== undefined) out[k] = copyValue(v, `${path}.${k}`);
    }
    return out;
  }
  throw invalid(`attribute ${path} is not JSON-compatible (${describeType(value)})`);
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function describeType(value: unknown): string {
  if (typeof value !== 'object') return typeof value;
  return (value as object).constructor?.name ?? 'object';
}

/** A validated deep copy of a whole item, ready to store (or to marshall). */
export function copyItem(item: StateItem): StateItem {
  if (item === null || typeof item !== 'object') throw invalid('state item must be an object');
  checkKey(item.pk, item.sk);
  checkExpiresAt(item.expiresAt, `item ${item.pk}/${item.sk}`);
  const out: StateItem = { pk: item.pk, sk: item.sk };
  for (const [name, value] of Object.entries(item)) {
    if (name === '') throw invalid('attribute names must be non-empty');
    if (value !== undefined && !KEY_ATTRIBUTES.has(name)) out[name] = copyValue(value, name);
  }
  checkSize(out);
  return out;
}

/** Validates an update's attribute map (no key attributes, JSON values, `undefined` = remove). */
export function copyUpdate(
  set: Record<string, StateValue | undefined>,
): Record<string, StateValue | undefined> {
  if (set === null || typeof set !== 'object') throw invalid('update attributes must be an object');
  const out: Record<string, StateValue | undefined> = {};
  for (const [name, value] of Object.entries(set)) {
    if (name === '') throw invalid('attribute names must be non-empty');
    if (KEY_ATTRIBUTES.has(name)) throw invalid(`update cannot change key attribute ${name}`);
    if (name === 'expiresAt') checkExpiresAt(value, 'update');
    out[name] = value === undefined ? undefined : copyValue(value, name);
  }
  return out;
}

/** Rejects items DynamoDB would refuse as too large. */
export function checkSize(item: StateItem): void {
  if (Buffer.byteLength(JSON.stringify(item)) > MAX_ITEM_BYTES) {
    throw new ChannelError(
      'state_item_too_large',
      `state item ${item.pk}/${item.sk} exceeds ${MAX_ITEM_BYTES} bytes`,
    );
  }
}

/** Rejects malformed conditions (empty and/or lists, non-finite numbers, ms timestamps). */
export function checkCondition(condition: Condition): void {
  switch (condition.kind) {
    case 'notExists':
    case 'exists':
      return;
    case 'equals':
      if (!condition.name) throw invalid('condition attribute name must be non-empty');
      if (typeof condition.value === 'number' && !Number.isFinite(condition.value)) {
        throw invalid(`condition on ${condition.name} compares with a non-finite number`);
      }
      return;
    case 'lessThan':
      if (!condition.name) throw invalid('condition attribute name must be non-empty');
      if (typeof condition.value !== 'number' || !Number.isFinite(condition.value)) {
        throw invalid(`lessThan on ${condition.name} needs a finite number`);
      }
      if (condition.name === 'expiresAt') checkExpiresAt(condition.value, 'condition');
      return;
    case 'or':
    case 'and':
      if (!Array.isArray(condition.conditions) || condition.conditions.length === 0) {
        throw invalid(`an "${condition.kind}" condition needs at least one member`);
      }
      for (const c of condition.conditions) checkCondition(c);
      return;
    default:
      throw invalid(`unknown condition kind ${(condition as { kind?: unknown }).kind}`);
  }
}

/** Checks a query limit: a positive integer, or absent. */
export function checkLimit(limit: number | undefined): void {
  if (limit === undefined) return;
  if (!Number.isInteger(limit) || limit < 1)
    throw invalid('query limit must be a positive integer');
}

/** DynamoDB orders string sort keys by their UTF-8 bytes (not UTF-16 code units). */
export function compareSortKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
