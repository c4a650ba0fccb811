/**
 * Lenient field access for robot payloads (dingtalk-protocol.md §4.1 "parse leniently"): own
 * properties only, wrong types read as absent, so an odd payload degrades instead of throwing.
 */

/** A JSON object as parsed from a payload. */
export type Json = Record<string, unknown>;

/** True for a plain JSON object (not null, not an array). */
export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An own property, or undefined (never the prototype's). */
export function field(object: Json, key: string): unknown {
  return Object.hasOwn(object, key) ? object[key] : undefined;
}

/**
 * An object field; a JSON string holding an object is accepted too, because some deliveries
 * carry `content` (and quoted `content`) as a JSON string rather than an object.
 */
export function objectField(object: Json, key: string): Json {
  const value = field(object, key);
  if (isObject(value)) return value;
  if (typeof value === 'string' && value.trimStart().startsWith('{')) {
    try {
      const parsed = JSON.parse(value) as unknown;
      if (isObject(parsed)) return parsed;
    } catch {
      // not JSON after all: absent
    }
  }
  return {};
}

/** A non-empty string field, else undefined. */
export function optionalString(object: Json, key: string): string | undefined {
  const value = field(object, key);
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** A finite number, or a numeric string (DingTalk sends some numbers as strings, e.g. duration). */
export function optionalNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(value)) return Number(value);
  return undefined;
}

/** A short description of a value's type for error messages (never the value itself). */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}

/** Drops the undefined items. */
export function compact<T>(items: (T | undefined)[]): T[] {
  return items.filter((item): item is T => item !== undefined);
}

/** Copies only the defined values, so optional fields are absent rather than `undefined`. */
export function assignDefined<T extends object>(target: T, values: Partial<T>): void {
  for (const [key, value] of Object.entries(values)) {
    if (value !== undefined) (target as Record<string, unknown>)[key] = value;
  }
}

/** At most `max` characters (code points) of a text, with an ellipsis when cut. */
export function clip(text: string, max: number): string {
  const chars = Array.from(text);
  return chars.length <= max ? text : `${chars.slice(0, max).join('')}…`;
}
