/**
 * The config schemas read back as JSON Schema (zod's `toJSONSchema`). One source of truth: the
 * zod schema and its `.meta()`. Error messages ask it what a key allows, the environment reader
 * asks it which variable feeds which key, and the README table is generated from it.
 */
import { z } from 'zod';

/** A key path inside one config section (`['dm', 'policy']`, `['mentionPatterns', 2]`). */
export type KeyPath = readonly (string | number)[];

/** Loading and documentation metadata attached to a field with `field()`. */
export interface FieldMeta {
  description: string;
  /** Flat environment variable that sets this key. */
  env?: string;
  /** Never printed; `<env>_FILE` is accepted; registered with the logger's masker. */
  secret?: boolean;
  /** What the key accepts, when the type alone does not say it. */
  allowed?: string;
  /** README default column, when the default is computed rather than fixed. */
  defaultText?: string;
  /** README: do not expand the entries of this map (account overlays repeat the root keys). */
  collapse?: boolean;
}

/** The subset of JSON Schema that zod emits for our schemas, plus our metadata. */
export interface JsonNode extends Partial<FieldMeta> {
  type?: string;
  properties?: Record<string, JsonNode>;
  additionalProperties?: JsonNode | boolean;
  propertyNames?: JsonNode;
  items?: JsonNode;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  format?: string;
  default?: unknown;
}

/** Attaches metadata (description, env var, secret flag) to a schema. */
export function field<T extends z.ZodType>(schema: T, meta: FieldMeta): T {
  return schema.meta({ ...meta });
}

/** The JSON Schema of a zod schema, as the input side (defaults shown, nothing required). */
export function jsonSchemaOf(schema: z.ZodType): JsonNode {
  return z.toJSONSchema(schema, {
    io: 'input',
    unrepresentable: 'any',
    reused: 'inline',
  }) as JsonNode;
}

/** A map node (`z.record`): the schema of its values, else undefined. */
export function mapValueNode(node: JsonNode | undefined): JsonNode | undefined {
  const extra = node?.additionalProperties;
  return typeof extra === 'object' ? extra : undefined;
}

/** The schema node at a key path, walking objects, maps and lists. */
export function nodeAt(root: JsonNode, path: KeyPath): JsonNode | undefined {
  let node: JsonNode | undefined = root;
  for (const segment of path) {
    if (!node) return undefined;
    if (typeof segment === 'number') {
      node = node.items;
    } else if (node.properties && Object.hasOwn(node.properties, segment)) {
      node = node.properties[segment];
    } else {
      node = mapValueNode(node);
    }
  }
  return node;
}

/** A leaf that a flat environment variable sets. */
export interface EnvLeaf {
  path: string[];
  env: string;
  node: JsonNode;
}

/** Every key with an `env` variable, in schema order. Maps and lists are not descended into. */
export function envLeaves(root: JsonNode, prefix: string[] = []): EnvLeaf[] {
  const out: EnvLeaf[] = [];
  for (const [key, node] of Object.entries(root.properties ?? {})) {
    const path = [...prefix, key];
    if (node.env) out.push({ path, env: node.env, node });
    if (node.properties) out.push(...envLeaves(node, path));
  }
  return out;
}

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

function integerRange(node: JsonNode): string {
  const min = node.minimum;
  const max = node.maximum !== undefined && node.maximum < MAX_SAFE ? node.maximum : undefined;
  if (min !== undefined && max !== undefined) return `an integer in ${min}..${max}`;
  if (min !== undefined && min > -MAX_SAFE) return `an integer >= ${min}`;
  return 'an integer';
}

/** Plain-words description of what a key accepts ("one of a, b", "an integer in 200..20000"). */
export function describeAllowed(node: JsonNode | undefined, fromEnv = false): string {
  if (!node) return 'a known key';
  if (node.allowed) return node.allowed;
  if (node.enum) return `one of ${node.enum.map(String).join(', ')}`;
  switch (node.type) {
    case 'boolean':
      return fromEnv ? 'true or false (also 1/0, yes/no, on/off)' : 'true or false';
    case 'integer':
      return integerRange(node);
    case 'number':
      return 'a number';
    case 'string':
      if (node.format === 'uri') return 'an http:// or https:// URL';
      return node.minLength ? 'a non-empty string' : 'a string';
    case 'array':
      return fromEnv ? 'a comma-separated list' : `a list of ${plural(node.items)}`;
    case 'object':
      return node.properties ? 'an object' : `a map of ${plural(mapValueNode(node))}`;
    default:
      return 'a valid value';
  }
}

function plural(node: JsonNode | undefined): string {
  if (node?.type === 'string') return 'strings';
  if (node?.type === 'object') return 'objects';
  return 'values';
}
