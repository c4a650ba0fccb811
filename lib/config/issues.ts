/**
 * Turns schema failures into messages of one form:
 *   `channels.dingtalk.dm.policy` (from DINGTALK_CONFIG) must be one of disabled, allowlist,
 *   open, pairing; got "opne"
 * Every message names the key path, the source of the value ("not set" when none) and what is
 * allowed. Values of secret keys are never shown, and every known secret value is masked.
 */
import type { z } from 'zod';
import { maskUrlsIn, maskValues } from '../log.js';
import { describeAllowed, type JsonNode, type KeyPath, nodeAt } from './introspect.js';
import type { Provenance } from './layers.js';
import { valueAt } from './layers.js';

/** What a message needs to know about the section it describes. */
export interface IssueScope {
  /** Printed before every key path: `channels.dingtalk` or `dingtalkChannel`. */
  root: string;
  schema: JsonNode;
  /** The merged, unparsed section (for "got …"). */
  raw: unknown;
  provenance: Provenance;
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** `channels.dingtalk.groups["cid…=="].users[0]` */
export function formatPath(root: string, path: KeyPath): string {
  let out = root;
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (IDENTIFIER.test(segment)) out += `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/** The variable that sets exactly this key: only keys outside maps have one (`accounts.<id>.*` do not). */
function envOf(schema: JsonNode, path: KeyPath): string | undefined {
  let node: JsonNode | undefined = schema;
  for (const segment of path) {
    if (
      typeof segment !== 'string' ||
      !node?.properties ||
      !Object.hasOwn(node.properties, segment)
    ) {
      return undefined;
    }
    node = node.properties[segment];
  }
  return node?.env;
}

/** "`channels.dingtalk.dm.policy` (from DINGTALK_DM_POLICY)" — the key and where its value came from. */
export function keyRef(scope: IssueScope, path: KeyPath): string {
  const source = scope.provenance.sourceOf(path);
  const env = envOf(scope.schema, path);
  let origin = 'not set';
  if (source) origin = `from ${source}`;
  else if (env) origin = `not set; env ${env}`;
  return `\`${formatPath(scope.root, path)}\` (${origin})`;
}

function article(noun: string): string {
  return /^[aeiou]/.test(noun) ? `an ${noun}` : `a ${noun}`;
}

/** "got …" text; a secret key shows only its type. */
export function describeGot(value: unknown, secret: boolean): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return secret ? 'a list' : truncate(JSON.stringify(value));
  if (typeof value === 'object') return 'an object';
  if (secret) return `${article(typeof value)} (value hidden)`;
  // Mask before truncating, so a cut URL cannot leave a credential half-shown.
  return truncate(
    typeof value === 'string' ? JSON.stringify(maskUrlsIn(value)) : JSON.stringify(value),
  );
}

function truncate(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function isFromEnv(scope: IssueScope, path: KeyPath): boolean {
  const source = scope.provenance.sourceOf(path);
  return source !== undefined && /^[A-Z][A-Z0-9_]*$/.test(source) && source !== 'DINGTALK_CONFIG';
}

function mustBe(scope: IssueScope, path: KeyPath): string {
  const node = nodeAt(scope.schema, path);
  const allowed = describeAllowed(node, isFromEnv(scope, path));
  const got = describeGot(valueAt(scope.raw, path), node?.secret === true);
  return `${keyRef(scope, path)} must be ${allowed}; got ${got}`;
}

function unknownKeys(scope: IssueScope, path: KeyPath, keys: readonly string[]): string[] {
  const known = Object.keys(nodeAt(scope.schema, path)?.properties ?? {});
  return keys.map((key) => {
    const closest = closestKey(key, known);
    const hint = closest ? ` did you mean \`${closest}\`?` : '';
    return `${keyRef(scope, [...path, key])} is not a known key;${hint} allowed: ${known.join(', ')}`;
  });
}

function invalidMapKey(scope: IssueScope, path: KeyPath): string {
  const parent = nodeAt(scope.schema, path.slice(0, -1));
  const allowed = parent?.propertyNames?.allowed ?? 'a non-empty string';
  return `${keyRef(scope, path)} has an invalid key: keys here must be ${allowed}`;
}

/** Formats zod issues as messages, one per key path (first problem wins). */
export function formatIssues(issues: readonly z.core.$ZodIssue[], scope: IssueScope): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const issue of issues) {
    const path = issue.path.map((s) => (typeof s === 'symbol' ? String(s) : s));
    if (issue.code === 'unrecognized_keys') {
      out.push(...unknownKeys(scope, path, issue.keys));
      continue;
    }
    const id = JSON.stringify(path);
    if (seen.has(id)) continue;
    seen.add(id);
    if (issue.code === 'invalid_key') out.push(invalidMapKey(scope, path));
    else if (issue.code === 'custom') out.push(`${keyRef(scope, path)} ${issue.message}`);
    else out.push(mustBe(scope, path));
  }
  return out;
}

/** Levenshtein distance, for "did you mean". */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min(above + 1, row[j - 1]! + 1, diagonal + cost);
      diagonal = above;
    }
  }
  return row[b.length]!;
}

/** The candidate closest to `word` (case-insensitive), if it is plausibly a typo of it. */
export function closestKey(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const d = distance(word.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  const limit = Math.max(2, Math.floor(word.length / 3));
  return bestDistance <= limit ? best : undefined;
}

/**
 * Replaces every known secret value in a message with `***` (short ones where they stand as a
 * word: lib/log.ts maskValues) and masks the credential-bearing parts of every URL in it
 * (`RELAY_TARGET`'s `?code=` and `user:password@`, `AGENT_BASE_URL`'s `?api-key=`).
 */
export function maskKnownSecrets(message: string, secrets: Iterable<string>): string {
  // "got …" shows values JSON-quoted, so a secret with quotes or backslashes appears escaped.
  const forms = new Set<string>();
  for (const secret of secrets) {
    forms.add(secret);
    forms.add(JSON.stringify(secret).slice(1, -1));
  }
  return maskValues(maskUrlsIn(message), forms);
}
