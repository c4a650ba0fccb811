/**
 * Layered sources with provenance. Each source (a file, DINGTALK_CONFIG, one environment
 * variable) is a layer; later layers override earlier ones. Plain objects merge key by key;
 * lists and scalars replace. Every key path written remembers the layer that wrote it last,
 * so an error can say where the bad value came from.
 */
import type { KeyPath } from './introspect.js';

/** One source's contribution to a config section. */
export interface Layer {
  /** Human name of the source: `file ./dingtalk.json5`, `DINGTALK_CONFIG`, `DINGTALK_DM_POLICY`. */
  source: string;
  value: Record<string, unknown>;
}

/** Which source last set each key path. */
export class Provenance {
  private readonly sources = new Map<string, string>();

  set(path: KeyPath, source: string): void {
    this.sources.set(JSON.stringify(path), source);
  }

  /** The source of the value at `path`, or undefined when no source set it. */
  sourceOf(path: KeyPath): string | undefined {
    return this.sources.get(JSON.stringify(path));
  }
}

/** True for `{}`-style objects (not arrays, not null, not class instances). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** The value at a key path, or undefined. */
export function valueAt(root: unknown, path: KeyPath): unknown {
  let value = root;
  for (const segment of path) {
    if (Array.isArray(value) && typeof segment === 'number') value = value[segment];
    else if (isPlainObject(value) && Object.hasOwn(value, segment)) value = value[segment];
    else return undefined;
  }
  return value;
}

/** `{ a: { b: value } }` for path `['a', 'b']`. */
export function nestAt(path: KeyPath, value: unknown): Record<string, unknown> {
  let out: unknown = value;
  for (let i = path.length - 1; i >= 0; i--) out = { [String(path[i])]: out };
  return out as Record<string, unknown>;
}

function markAll(value: unknown, source: string, path: KeyPath, provenance: Provenance): void {
  provenance.set(path, source);
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) markAll(item, source, [...path, i], provenance);
  } else if (isPlainObject(value)) {
    for (const [key, item] of Object.entries(value)) {
      markAll(item, source, [...path, key], provenance);
    }
  }
}

function overlay(
  base: unknown,
  top: unknown,
  source: string,
  path: KeyPath,
  provenance: Provenance,
): unknown {
  if (!isPlainObject(base) || !isPlainObject(top)) {
    markAll(top, source, path, provenance);
    return top;
  }
  provenance.set(path, source);
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(top)) {
    if (value === undefined) continue;
    // defineProperty, not `out[key] =`: a `__proto__` key must never become the prototype
    // (sources.ts rejects such keys; this keeps the merge safe on its own).
    Object.defineProperty(out, key, {
      value: overlay(
        Object.hasOwn(base, key) ? base[key] : undefined,
        value,
        source,
        [...path, key],
        provenance,
      ),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

/** Merges layers in order (later wins) and records where each key came from. */
export function mergeLayers(layers: readonly Layer[]): {
  value: Record<string, unknown>;
  provenance: Provenance;
} {
  const provenance = new Provenance();
  let value: Record<string, unknown> = {};
  for (const layer of layers) {
    value = overlay(value, layer.value, layer.source, [], provenance) as Record<string, unknown>;
  }
  return { value, provenance };
}
