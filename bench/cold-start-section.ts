/**
 * Cold start and function size come from bench/cold-start.ts (written with the serverless
 * deploy, `npm run bench:cold-start`); this runs it as a child process, asking for JSON, and
 * shows what it reports. Nothing is measured twice: without that script the section says so.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('./cold-start.ts', import.meta.url));
const TSX = fileURLToPath(new URL('../node_modules/tsx/dist/cli.mjs', import.meta.url));
const TIMEOUT_MS = 150_000;

export interface ColdStartSection {
  /** What the script reported (parsed JSON), when it printed JSON. */
  data?: unknown;
  lines: string[];
}

/** Runs bench/cold-start.ts and turns its answer into report lines. */
export async function coldStartSection(): Promise<ColdStartSection> {
  const title = 'Cold start and function size (bench/cold-start.ts)';
  if (!existsSync(SCRIPT)) {
    return { lines: [title, '  not measured: bench/cold-start.ts is not in this checkout'] };
  }
  const asJson = await runScript(['--json']);
  if (asJson.ok) {
    try {
      const data = JSON.parse(asJson.stdout) as unknown;
      const known = describeKnownShape(data);
      return { data, lines: [title, ...(known ?? flatten(data).map((l) => `  ${l}`))] };
    } catch {
      // Not JSON: fall through to the script's own text output.
    }
  }
  const text = asJson.ok ? asJson : await runScript([]);
  if (!text.ok) return { lines: [title, `  failed: ${text.error}`] };
  const lines = text.stdout.split('\n').filter((l) => l.trim() !== '');
  return { lines: [title, ...lines.map((l) => `  ${l}`)] };
}

function runScript(
  args: string[],
): Promise<{ ok: true; stdout: string } | { ok: false; error: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [TSX, SCRIPT, ...args],
      { timeout: TIMEOUT_MS, maxBuffer: 4 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) {
          const detail = stderr.trim().split('\n').at(-1) ?? err.message;
          resolve({ ok: false, error: detail });
        } else {
          resolve({ ok: true, stdout: stdout.trim() });
        }
      },
    );
  });
}

/** What bench/cold-start.ts reports with --json (checked before use; it may change). */
export interface ColdStartJson {
  targets?: { zippedBytes?: number; requireToFirstHandledMs?: number };
  functions: Record<string, { zippedBytes: number; unzippedBytes: number }>;
  coldStart: {
    runs: number;
    requireToFirstHandledMs: { median: number; min: number; max: number };
    nodeBootMs: { median: number };
  };
}

/** Whether `data` has the shape above. */
export function isColdStartJson(data: unknown): data is ColdStartJson {
  const d = data as Partial<ColdStartJson> | null;
  return (
    typeof d?.functions === 'object' &&
    typeof d.coldStart?.requireToFirstHandledMs?.median === 'number' &&
    typeof d.coldStart.nodeBootMs?.median === 'number'
  );
}

/** The figures the issue asks for, when the report has the shape above. */
function describeKnownShape(data: unknown): string[] | undefined {
  if (!isColdStartJson(data)) return undefined;
  const c = data.coldStart;
  const kib = (bytes: number) => `${Math.round(bytes / 1024).toLocaleString('en')} KiB`;
  const first = c.nodeBootMs.median + c.requireToFirstHandledMs.median;
  return [
    `  fresh node → first handled message  ${Math.round(first)} ms median over ${c.runs} processes (node boot ${c.nodeBootMs.median} ms + load and handle ${c.requireToFirstHandledMs.median} ms; min ${c.requireToFirstHandledMs.min}, max ${c.requireToFirstHandledMs.max})`,
    ...Object.entries(data.functions).map(
      ([name, size]) =>
        `  ${`${name} function`.padEnd(34)} ${kib(size.zippedBytes)} zipped, ${kib(size.unzippedBytes)} unzipped`,
    ),
  ];
}

/** `a.b: value` lines for a JSON value. */
function flatten(value: unknown, prefix = ''): string[] {
  if (value === null || typeof value !== 'object')
    return [`${prefix || 'value'}: ${String(value)}`];
  return Object.entries(value as Record<string, unknown>).flatMap(([key, v]) => {
    const path = prefix ? `${prefix}.${key}` : key;
    return v !== null && typeof v === 'object' && !Array.isArray(v)
      ? flatten(v, path)
      : [`${path}: ${Array.isArray(v) ? JSON.stringify(v) : String(v)}`];
  });
}
