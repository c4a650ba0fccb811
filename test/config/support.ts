import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect } from 'vitest';
import { ConfigError } from '../../lib/errors.js';

const dirs: string[] = [];

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Writes `content` to a fresh temp file (removed after the test) and returns its path. */
export function tempFile(name: string, content: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'dingtalk-config-'));
  dirs.push(dir);
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

/** Runs `load` expecting a ConfigError; returns its issue lines. */
export function configIssues(load: () => unknown): string[] {
  try {
    load();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).code).toBe('config');
    return [...(err as ConfigError).issues];
  }
  throw new Error('expected a ConfigError, but the configuration loaded');
}

/** The one issue that mentions `needle` (fails when there is not exactly one). */
export function issueAbout(issues: string[], needle: string): string {
  const found = issues.filter((issue) => issue.includes(needle));
  expect(found, `issues mentioning ${needle}: ${JSON.stringify(issues, null, 2)}`).toHaveLength(1);
  return found[0]!;
}
