/**
 * The README configuration table, generated from the zod schemas (descriptions, defaults, env
 * variables come from `.meta()`). test/config/readme.test.ts fails when README drifts; fix it with
 *   npx tsx lib/config/docs-table.ts --write
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type JsonNode, jsonSchemaOf, mapValueNode } from './introspect.js';
import { ChannelSchema } from './schema.js';
import { SettingsSchema } from './settings.js';

export const TABLE_START =
  '<!-- config-table (generated: npx tsx lib/config/docs-table.ts --write) -->';
export const TABLE_END = '<!-- /config-table -->';

interface Row {
  key: string;
  node: JsonNode;
}

function rowsOf(node: JsonNode, prefix: string): Row[] {
  const rows: Row[] = [];
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    const path = prefix ? `${prefix}.${key}` : key;
    const entry = mapValueNode(child);
    if (child.properties) {
      rows.push(...rowsOf(child, path));
    } else if (entry?.properties && !child.collapse) {
      rows.push({ key: path, node: child }, ...rowsOf(entry, `${path}.<id>`));
    } else {
      rows.push({ key: path, node: child });
    }
  }
  return rows;
}

function typeText(node: JsonNode): string {
  if (node.allowed) return node.allowed;
  if (node.enum) return node.enum.map(String).join(' | ');
  switch (node.type) {
    case 'integer': {
      const max = node.maximum !== undefined && node.maximum < Number.MAX_SAFE_INTEGER;
      if (node.minimum !== undefined && max) return `integer ${node.minimum}..${node.maximum}`;
      return node.minimum !== undefined ? `integer >= ${node.minimum}` : 'integer';
    }
    case 'string':
      return node.format === 'uri' ? 'URL' : 'string';
    case 'array':
      return 'string[]';
    case 'object':
      return mapValueNode(node) ? 'map: id → entry' : 'object';
    default:
      return node.type ?? 'any';
  }
}

function defaultText(node: JsonNode): string {
  if (node.defaultText) return node.defaultText;
  if (node.default === undefined) return '—';
  const value = typeof node.default === 'string' ? node.default : JSON.stringify(node.default);
  return `\`${value}\``;
}

function envText(node: JsonNode): string {
  if (!node.env) return '—';
  return node.secret ? `\`${node.env}\` (or \`${node.env}_FILE\`)` : `\`${node.env}\``;
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function table(rows: Row[]): string[] {
  const lines = ['| Key | Env var | Type | Default | Description |', '|---|---|---|---|---|'];
  for (const { key, node } of rows) {
    const description = `${node.secret ? '**Secret.** ' : ''}${node.description ?? ''}`;
    const cells = [
      `\`${key}\``,
      envText(node),
      `\`${typeText(node)}\``,
      defaultText(node),
      description,
    ];
    lines.push(`| ${cells.map(cell).join(' | ')} |`);
  }
  return lines;
}

/** The markdown of both configuration tables (`channels.dingtalk` and `dingtalkChannel`). */
export function describeConfig(): string {
  return [
    '#### `channels.dingtalk`',
    '',
    ...table(rowsOf(jsonSchemaOf(ChannelSchema), '')),
    '',
    '#### `dingtalkChannel` (project settings)',
    '',
    ...table(rowsOf(jsonSchemaOf(SettingsSchema), '')),
  ].join('\n');
}

/** The generated table currently in a README text, or undefined without markers. */
export function readmeTable(readme: string): string | undefined {
  const start = readme.indexOf(TABLE_START);
  const end = readme.indexOf(TABLE_END);
  if (start < 0 || end < start) return undefined;
  return readme.slice(start + TABLE_START.length, end).trim();
}

/** README text with the generated table replaced by `generated`. */
export function withReadmeTable(readme: string, generated: string): string {
  const start = readme.indexOf(TABLE_START);
  const end = readme.indexOf(TABLE_END);
  if (start < 0 || end < start)
    throw new Error(`README has no ${TABLE_START} … ${TABLE_END} markers`);
  return `${readme.slice(0, start + TABLE_START.length)}\n${generated}\n${readme.slice(end)}`;
}

/** Path of the project README. */
export const README_PATH = fileURLToPath(new URL('../../README.md', import.meta.url));

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const generated = describeConfig();
  if (process.argv.includes('--write')) {
    writeFileSync(README_PATH, withReadmeTable(readFileSync(README_PATH, 'utf8'), generated));
  } else {
    process.stdout.write(`${generated}\n`);
  }
}
