/**
 * Reading the sources: the JSON5 file (`DINGTALK_CONFIG_FILE`), the same JSON5 in
 * `DINGTALK_CONFIG`, and flat environment variables (with `<VAR>_FILE` for secrets).
 * Readers never throw: they return layers plus messages naming the source.
 */
import { readFileSync } from 'node:fs';
import JSON5 from 'json5';
import type { EnvLeaf, KeyPath } from './introspect.js';
import { formatPath } from './issues.js';
import { isPlainObject, type Layer, nestAt } from './layers.js';
import { CHANNEL_ROOT } from './schema.js';
import { SETTINGS_ROOT } from './settings.js';

/** Reads a file as UTF-8 text (injectable for callers that keep config elsewhere). */
export type ReadFile = (path: string) => string;

export const readUtf8: ReadFile = (path) => readFileSync(path, 'utf8');

/** One JSON5 document split into its two sections. */
export interface ConfigDocument {
  source: string;
  channel?: Record<string, unknown>;
  settings?: Record<string, unknown>;
}

/** A reader's result: the value (when readable) and messages naming the source. */
export interface ReadResult<T> {
  value?: T;
  issues: string[];
}

function syntaxMessage(err: unknown, source: string): string {
  const e = err as { message?: string; lineNumber?: number; columnNumber?: number };
  const reason = String(e.message ?? err)
    .replace(/^JSON5: /, '')
    .replace(/ at \d+:\d+$/, '');
  const where = e.lineNumber ? ` at line ${e.lineNumber}, column ${e.columnNumber}` : '';
  return `${source}: JSON5 syntax error${where}: ${reason}`;
}

const TOP_KEYS = ['channels', SETTINGS_ROOT];

function sectionOf(value: unknown, label: string, source: string, issues: string[]) {
  if (value === undefined) return undefined;
  if (isPlainObject(value)) return value;
  issues.push(
    `\`${label}\` (from ${source}) must be an object; got ${Array.isArray(value) ? 'a list' : typeof value}`,
  );
  return undefined;
}

/**
 * Splits a document into sections. Two shapes are accepted: `{ channels: { dingtalk }, dingtalkChannel }`
 * or the bare `dingtalk` object (recognised by having neither top-level key).
 */
function splitDocument(
  parsed: Record<string, unknown>,
  source: string,
): ReadResult<ConfigDocument> {
  const issues: string[] = [];
  if (!TOP_KEYS.some((key) => Object.hasOwn(parsed, key))) {
    return { value: { source, channel: parsed }, issues };
  }
  for (const key of Object.keys(parsed)) {
    if (!TOP_KEYS.includes(key)) {
      issues.push(
        `\`${key}\` (from ${source}) is not a known top-level key; allowed: ${TOP_KEYS.join(', ')}`,
      );
    }
  }
  const channels = sectionOf(parsed.channels, 'channels', source, issues);
  for (const key of Object.keys(channels ?? {})) {
    if (key !== 'dingtalk') {
      issues.push(`\`channels.${key}\` (from ${source}) is not a known key; allowed: dingtalk`);
    }
  }
  const channel = sectionOf(channels?.dingtalk, CHANNEL_ROOT, source, issues);
  const settings = sectionOf(parsed[SETTINGS_ROOT], SETTINGS_ROOT, source, issues);
  return { value: { source, channel, settings }, issues };
}

/** Keys that reach the object machinery in JavaScript (prototype pollution): never config keys. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** One message per forbidden key anywhere under `value`, with its full key path. */
function forbiddenKeys(value: unknown, root: string, source: string, path: KeyPath = []): string[] {
  const out: string[] = [];
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      out.push(...forbiddenKeys(item, root, source, [...path, i]));
    }
  } else if (value !== null && typeof value === 'object') {
    for (const key of Object.keys(value)) {
      const at = [...path, key];
      if (FORBIDDEN_KEYS.has(key)) {
        out.push(
          `\`${root ? formatPath(root, at) : formatPath(String(at[0]), at.slice(1))}\` (from ${source}) is not allowed: "__proto__", "constructor" and "prototype" are never configuration keys`,
        );
      } else {
        out.push(...forbiddenKeys((value as Record<string, unknown>)[key], root, source, at));
      }
    }
  }
  return out;
}

/** Parses JSON5 text from `source` into a document. */
export function parseConfigText(text: string, source: string): ReadResult<ConfigDocument> {
  let parsed: unknown;
  try {
    parsed = JSON5.parse(text);
  } catch (err) {
    return { issues: [syntaxMessage(err, source)] };
  }
  if (!isPlainObject(parsed)) {
    return {
      issues: [
        `${source}: must hold a JSON5 object ({ channels: { dingtalk: … } } or the dingtalk object)`,
      ],
    };
  }
  // Checked before anything merges the document: `{ "__proto__": { dm: … } }` must fail loudly.
  const bare = !TOP_KEYS.some((key) => Object.hasOwn(parsed, key));
  const forbidden = forbiddenKeys(parsed, bare ? CHANNEL_ROOT : '', source);
  if (forbidden.length > 0) return { issues: forbidden };
  return splitDocument(parsed, source);
}

function describeReadError(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : err instanceof Error ? err.message : String(err);
}

/** The documents of `DINGTALK_CONFIG_FILE` then `DINGTALK_CONFIG`, in precedence order. */
export function readDocuments(
  env: NodeJS.ProcessEnv,
  readFile: ReadFile,
): ReadResult<ConfigDocument[]> {
  const docs: ConfigDocument[] = [];
  const issues: string[] = [];
  const path = envValue(env, 'DINGTALK_CONFIG_FILE');
  if (path !== undefined) {
    const source = `file ${path}`;
    try {
      const result = parseConfigText(readFile(path), source);
      issues.push(...result.issues);
      if (result.value) docs.push(result.value);
    } catch (err) {
      issues.push(`DINGTALK_CONFIG_FILE: cannot read ${path}: ${describeReadError(err)}`);
    }
  }
  const inline = envValue(env, 'DINGTALK_CONFIG');
  if (inline !== undefined) {
    const result = parseConfigText(inline, 'DINGTALK_CONFIG');
    issues.push(...result.issues);
    if (result.value) docs.push(result.value);
  }
  return { value: docs, issues };
}

/** An environment variable's value; an empty (or blank) variable counts as unset. */
export function envValue(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value;
}

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

/** `true/1/yes/on` and `false/0/no/off`, any case; anything else is undefined. */
export function parseBoolean(text: string): boolean | undefined {
  const word = text.trim().toLowerCase();
  if (TRUE.has(word)) return true;
  if (FALSE.has(word)) return false;
  return undefined;
}

/** A decimal integer (`"4000"`, `"-1"`); anything else (`"4e3"`, `"4.5"`, `"abc"`) is undefined. */
export function parseInteger(text: string): number | undefined {
  const trimmed = text.trim();
  return /^[+-]?\d+$/.test(trimmed) ? Number(trimmed) : undefined;
}

/** Converts a variable's text to the key's type; text that does not convert is kept as text, so the schema reports it against its source. */
function convert(text: string, leaf: EnvLeaf): unknown {
  if (leaf.node.enum) {
    // `LOG_LEVEL=INFO`, `DINGTALK_DM_POLICY=Open`: variables are often written in capitals.
    const word = text.trim().toLowerCase();
    return leaf.node.enum.find((option) => String(option).toLowerCase() === word) ?? text;
  }
  switch (leaf.node.type) {
    case 'boolean':
      return parseBoolean(text) ?? text;
    case 'integer':
      return parseInteger(text) ?? text;
    case 'array':
      return text
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item !== '');
    default:
      return text;
  }
}

/** A secret from `<VAR>` or `<VAR>_FILE` (trimmed file content). */
function readSecret(
  env: NodeJS.ProcessEnv,
  name: string,
  readFile: ReadFile,
): ReadResult<{ text: string; source: string }> {
  const direct = envValue(env, name);
  const path = envValue(env, `${name}_FILE`);
  if (direct !== undefined && path !== undefined) {
    return { issues: [`${name} and ${name}_FILE are both set; set one of them`] };
  }
  if (path === undefined)
    return { value: direct === undefined ? undefined : { text: direct, source: name }, issues: [] };
  let content: string;
  try {
    content = readFile(path).trim();
  } catch (err) {
    return { issues: [`${name}_FILE: cannot read ${path}: ${describeReadError(err)}`] };
  }
  if (content === '') return { issues: [`${name}_FILE: ${path} is empty`] };
  return { value: { text: content, source: `${name}_FILE` }, issues: [] };
}

/** One layer per set variable, placed at `at(leaf)` (default: the leaf's own path). */
export function envLayers(
  env: NodeJS.ProcessEnv,
  leaves: readonly EnvLeaf[],
  readFile: ReadFile,
  at: (leaf: EnvLeaf) => KeyPath = (leaf) => leaf.path,
): ReadResult<Layer[]> {
  const layers: Layer[] = [];
  const issues: string[] = [];
  for (const leaf of leaves) {
    const read = leaf.node.secret
      ? readSecret(env, leaf.env, readFile)
      : {
          value: mapDefined(envValue(env, leaf.env), (text) => ({ text, source: leaf.env })),
          issues: [],
        };
    issues.push(...read.issues);
    if (!read.value) continue;
    layers.push({
      source: read.value.source,
      value: nestAt(at(leaf), convert(read.value.text, leaf)),
    });
  }
  return { value: layers, issues };
}

function mapDefined<T, U>(value: T | undefined, fn: (value: T) => U): U | undefined {
  return value === undefined ? undefined : fn(value);
}
