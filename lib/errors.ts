/**
 * The project's error hierarchy. Match on `code`, never on `instanceof` across package
 * boundaries. Each error says whether the hop that sees it should retry (`retryable`) or
 * treat the message as handled.
 */
export class ChannelError extends Error {
  override name = 'ChannelError';
  readonly code: string;
  readonly retryable: boolean;

  constructor(
    code: string,
    message: string,
    options: { cause?: unknown; retryable?: boolean } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable ?? false;
  }
}

/** DingTalk answered, and the answer was an error (HTTP status, `code` or non-zero `errcode`). */
export class DingTalkApiError extends ChannelError {
  override name = 'DingTalkApiError';
  readonly status: number;
  readonly endpoint: string;
  readonly requestId: string | undefined;

  constructor(init: {
    code: string;
    message: string;
    status: number;
    endpoint: string;
    requestId?: string;
    retryable?: boolean;
  }) {
    super(init.code, `${init.endpoint}: ${init.code}: ${init.message}`, {
      retryable: init.retryable ?? false,
    });
    this.status = init.status;
    this.endpoint = init.endpoint;
    this.requestId = init.requestId;
  }
}

/** The call to DingTalk did not get an answer (DNS, reset, timeout). Always retryable. */
export class DingTalkNetworkError extends ChannelError {
  override name = 'DingTalkNetworkError';
  readonly endpoint: string;

  constructor(endpoint: string, cause: unknown) {
    super('network', `${endpoint}: network error: ${describeCause(cause)}`, {
      cause,
      retryable: true,
    });
    this.endpoint = endpoint;
  }
}

/** Configuration is wrong. Raised at start, names the key path and the source. */
export class ConfigError extends ChannelError {
  override name = 'ConfigError';
  readonly issues: readonly string[];

  constructor(issues: readonly string[]) {
    super('config', `Invalid configuration:\n  - ${issues.join('\n  - ')}`);
    this.issues = issues;
  }
}

function describeCause(cause: unknown): string {
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    return typeof code === 'string' ? `${code} ${cause.message}` : cause.message;
  }
  return String(cause);
}

/** A short, secret-free description of any thrown value, for logs. */
export function errorSummary(err: unknown): { code: string; message: string } {
  if (err instanceof ChannelError) return { code: err.code, message: err.message };
  if (err instanceof Error) return { code: err.name, message: err.message };
  return { code: 'unknown', message: String(err) };
}
