/**
 * Structured logging: one JSON object per line on stderr (CloudWatch, SLS and `docker logs` read
 * it as is). Invariant 6 (no secret in a log) is enforced here: values under secret-looking keys
 * are replaced, and every registered secret value is masked wherever it appears in a string.
 * Guarded by test/log.test.ts.
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(event: string, fields?: LogFields): void;
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };
const SECRET_KEY = /secret|token|password|apikey|api_key|authorization|hmac|signature/i;
const secretValues = new Set<string>();

/** Registers a value (client secret, API key, token) to be masked in every later log line. */
export function registerSecret(value: string | undefined): void {
  if (value && value.length >= 6) secretValues.add(value);
}

/** Masks registered secrets inside a string. */
export function maskSecrets(text: string): string {
  let out = text;
  for (const secret of secretValues) {
    if (out.includes(secret)) out = out.split(secret).join('***');
  }
  return out;
}

function redact(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return maskSecrets(value);
  if (value instanceof Error) {
    return {
      name: value.name,
      message: maskSecrets(value.message),
      code: (value as { code?: unknown }).code,
    };
  }
  if (depth > 5 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] =
      SECRET_KEY.test(k) && v !== undefined && v !== null && v !== ''
        ? '***'
        : redact(v, depth + 1);
  }
  return out;
}

export type LogSink = (line: string) => void;

export function createLogger(
  options: { level?: LogLevel; sink?: LogSink; fields?: LogFields } = {},
): Logger {
  const level = options.level ?? envLevel();
  const sink = options.sink ?? ((line: string) => process.stderr.write(`${line}\n`));
  const base = options.fields ?? {};
  const emit = (lvl: LogLevel, event: string, fields?: LogFields) => {
    if (ORDER[lvl] < ORDER[level]) return;
    const record = redact({
      time: new Date().toISOString(),
      level: lvl,
      event,
      ...base,
      ...fields,
    });
    sink(JSON.stringify(record));
  };
  return {
    debug: (e, f) => emit('debug', e, f),
    info: (e, f) => emit('info', e, f),
    warn: (e, f) => emit('warn', e, f),
    error: (e, f) => emit('error', e, f),
    child: (fields) => createLogger({ level, sink, fields: { ...base, ...fields } }),
  };
}

function envLevel(): LogLevel {
  const raw = process.env.LOG_LEVEL?.toLowerCase();
  if (raw && raw in ORDER) return raw as LogLevel;
  // Tests run quietly unless asked; a deployed process logs at info.
  return process.env.VITEST ? 'silent' : 'info';
}

/** A logger that records lines in memory, for tests that assert on what was logged. */
export function memoryLogger(level: LogLevel = 'debug'): Logger & { lines: LogFields[] } {
  const lines: LogFields[] = [];
  const logger = createLogger({ level, sink: (line) => lines.push(JSON.parse(line) as LogFields) });
  return Object.assign(logger, { lines });
}
