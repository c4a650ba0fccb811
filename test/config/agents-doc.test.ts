/**
 * docs/agents.md says what the code reads: every setting row names a real `agent` key with its
 * real environment variable and default, every key has a row, and every `AGENT_*` variable the
 * page mentions exists (issue 15: the page named AGENT_KIND, AGENT_URL, … which were ignored).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { jsonSchemaOf, nodeAt } from '../../lib/config/introspect.js';
import { AgentSection, SettingsSchema } from '../../lib/config/settings.js';

const DOC = readFileSync(new URL('../../docs/agents.md', import.meta.url), 'utf8');
const AGENT = jsonSchemaOf(AgentSection);
const SETTINGS = jsonSchemaOf(SettingsSchema);

interface Row {
  key: string;
  env: string;
  default: string;
}

function settingRows(): Row[] {
  const section = DOC.slice(DOC.indexOf('## Settings'), DOC.indexOf('## The `openai` agent'));
  const rows: Row[] = [];
  for (const line of section.split('\n')) {
    const match = /^\| `(\w+)` \(`(\w+)`\) \| [^|]+ \| ([^|]+) \|/.exec(line);
    if (match) rows.push({ key: match[1]!, env: match[2]!, default: match[3]!.trim() });
  }
  return rows;
}

/** How the page writes a schema default: `value`, or "none"/"— …" when there is none. */
function documentedDefaultMatches(text: string, value: unknown): boolean {
  if (value === undefined) return text === 'none' || text.startsWith('—');
  return text === `\`${String(value)}\``;
}

function allEnvNames(node: ReturnType<typeof jsonSchemaOf>, out = new Set<string>()) {
  if (node.env) {
    out.add(node.env);
    if (node.secret) out.add(`${node.env}_FILE`);
  }
  for (const child of Object.values(node.properties ?? {})) allEnvNames(child, out);
  return out;
}

describe('docs/agents.md settings match the config schema', () => {
  const rows = settingRows();

  it('has one row per agent key, in any order', () => {
    expect(rows.map((r) => r.key).sort()).toEqual(Object.keys(AGENT.properties ?? {}).sort());
  });

  it.each(settingRows())('`$key` names its real variable and default', (row) => {
    const node = nodeAt(AGENT, [row.key]);
    expect(node, `${row.key} is not an agent setting`).toBeDefined();
    expect(row.env).toBe(node!.env);
    expect(documentedDefaultMatches(row.default, node!.default), row.default).toBe(true);
  });

  it('mentions no AGENT_* variable the channel does not read', () => {
    const known = allEnvNames(SETTINGS);
    const mentioned = new Set(DOC.match(/\bAGENT_[A-Z_]+\b/g) ?? []);
    const unknown = [...mentioned].filter((name) => !known.has(name));
    expect(unknown).toEqual([]);
  });
});
