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
  if (value) secretValues.add(value);
}

/** Below this length a secret is masked only where it stands as a whole word (see maskValues). */
const SHORT_SECRET = 6;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Replaces every occurrence of each value with `***`, longest first (so a secret containing
 * another is masked whole). A value shorter than 6 characters is masked only where no letter or
 * digit touches it: masking `abc` inside every word would make logs unreadable, and a short
 * secret printed as a value (`key=abc`, `"abc"`) is what must not leak.
 */
export function maskValues(text: string, values: Iterable<string>): string {
  let out = text;
  const ordered = [...values].filter((v) => v !== '').sort((a, b) => b.length - a.length);
  for (const value of ordered) {
    if (value.length >= SHORT_SECRET) {
      if (out.includes(value)) out = out.split(value).join('***');
    } else if (out.includes(value)) {
      const word = new RegExp(`(?<![\\p{L}\\p{N}])${escapeRegExp(value)}(?![\\p{L}\\p{N}])`, 'gu');
      out = out.replace(word, '***');
    }
  }
  return out;
}

const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>`]+/gi;

/**
 * A URL with every credential-bearing part replaced by `***`: user name and password, every
 * query value (`?code=<function key>`, `?api-key=…`, a session webhook's `session=`) and the
 * fragment. Built with the URL API; text that does not parse as a URL is not shown at all.
 */
export function maskUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return '[unparsable URL]';
  }
  if (!url.username && !url.password && !url.search && !url.hash) return text;
  if (url.username) url.username = '***';
  if (url.password) url.password = '***';
  const names = [...new Set(url.searchParams.keys())];
  if (url.search) url.search = names.map((name) => `${encodeURIComponent(name)}=***`).join('&');
  if (url.hash) url.hash = '***';
  return url.toString();
}

/** The credential-bearing values of a URL (user name, password, query values), for registerSecret. */
export function urlCredentials(text: string): string[] {
  try {
    const url = new URL(text);
    const values = [url.password, ...url.searchParams.values()].map((v) => {
      try {
        return decodeURIComponent(v);
      } catch {
        return v;
      }
    });
    if (url.username && url.password) values.push(decodeURIComponent(url.username));
    return [...new Set(values.filter((v) => v !== ''))];
  } catch {
    return [];
  }
}

/** Masks the credential-bearing parts of every URL inside a text (see maskUrl). */
export function maskUrlsIn(text: string): string {
  return text.includes('://') ? text.replace(URL_IN_TEXT, (match) => maskUrl(match)) : text;
}

/** Masks registered secrets and the credential-bearing parts of URLs inside a string. */
export function maskSecrets(text: string): string {
  return maskValues(maskUrlsIn(text), secretValues);
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
