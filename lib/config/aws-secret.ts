/**
 * The AWS functions' configuration source (issue 15, deploy-stack.md): the function's
 * environment holds only the secret's ARN (`CONFIG_SECRET_ID`), never its value, so
 * `GetFunctionConfiguration` shows no credential. The secret (the whole config document, JSON5)
 * is read with GetSecretValue at cold start and filtered down to the secret keys this function
 * needs; the rest never enters its memory (the send function never holds the agent key, the
 * message function never the send token).
 *
 * Refresh: the value is cached for the container's life but re-checked every
 * CONFIG_SECRET_REFRESH_MS (5 min). A rotated client secret or send token thus takes effect
 * within minutes without a redeploy, at one GetSecretValue per container per 5 min; when the
 * VersionId changed, `changed: true` tells the entry to rebuild what it built from the old one.
 * A failed refresh keeps the cached value (a Secrets Manager blip must not stop messages) and
 * tries again at the next invocation; a failed first read is an error (retryable).
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ChannelError, errorSummary } from '../errors.js';
import type { Logger } from '../log.js';
import { configForRole, type SecretRole } from './secret-roles.js';

/** How long a read secret is used before its version is checked again. */
export const CONFIG_SECRET_REFRESH_MS = 5 * 60_000;

export {
  configForRole,
  SECRET_SETTINGS,
  SECRETS_BY_ROLE,
  type SecretRole,
} from './secret-roles.js';

export interface SecretConfigOptions {
  secretId: string;
  role: SecretRole;
  client?: SecretsManagerClient;
  refreshMs?: number;
  now?: () => number;
  logger?: Logger;
}

/** What a read gives: the filtered config, and whether it differs from the last read's version. */
export interface SecretConfig {
  config: string;
  versionId: string | undefined;
  changed: boolean;
}

/** Reads and caches one function's view of the config secret (see the top comment). */
export class SecretConfigSource {
  readonly #options: SecretConfigOptions;
  readonly #client: SecretsManagerClient;
  #cached: { config: string; versionId: string | undefined; readAt: number } | undefined;

  constructor(options: SecretConfigOptions) {
    this.#options = options;
    this.#client = options.client ?? new SecretsManagerClient({});
  }

  /** The current filtered config; reads Secrets Manager at first use and after the refresh time. */
  async read(): Promise<SecretConfig> {
    const now = (this.#options.now ?? Date.now)();
    const cached = this.#cached;
    if (cached && now - cached.readAt < (this.#options.refreshMs ?? CONFIG_SECRET_REFRESH_MS)) {
      return { config: cached.config, versionId: cached.versionId, changed: false };
    }
    let answer: { SecretString?: string; VersionId?: string };
    try {
      answer = await this.#client.send(
        new GetSecretValueCommand({ SecretId: this.#options.secretId }),
      );
    } catch (err) {
      if (!cached) {
        throw new ChannelError(
          'config_secret_unavailable',
          `cannot read the config secret ${this.#options.secretId}: ${errorSummary(err).code}`,
          { retryable: true, cause: err },
        );
      }
      this.#options.logger?.warn('config.secret_refresh_failed', { error: errorSummary(err) });
      cached.readAt = now; // keep serving the cached value; try again after the refresh time
      return { config: cached.config, versionId: cached.versionId, changed: false };
    }
    if (typeof answer.SecretString !== 'string') {
      throw new ChannelError(
        'config',
        `config secret ${this.#options.secretId} has no SecretString (store the config JSON as text)`,
      );
    }
    const config = configForRole(answer.SecretString, this.#options.role);
    const changed = cached !== undefined && cached.versionId !== answer.VersionId;
    this.#cached = { config, versionId: answer.VersionId, readAt: now };
    return { config, versionId: answer.VersionId, changed };
  }
}

/** The variable naming the config secret (its ARN) in a function's environment. */
export const CONFIG_SECRET_ENV = 'CONFIG_SECRET_ID';

const sources = new Map<string, SecretConfigSource>();

/**
 * For an AWS entry: when `CONFIG_SECRET_ID` is set, reads the secret (cached, see above) and
 * puts the role's filtered config into `env.DINGTALK_CONFIG`; `changed` says the entry must
 * rebuild its cached runtime. Without the variable (local runs) the environment is used as is.
 */
export async function applySecretConfig(
  env: NodeJS.ProcessEnv,
  role: SecretRole,
  options: Omit<SecretConfigOptions, 'secretId' | 'role'> = {},
): Promise<{ changed: boolean }> {
  const secretId = env[CONFIG_SECRET_ENV]?.trim();
  if (!secretId) return { changed: false };
  let source = sources.get(`${role}|${secretId}`);
  if (!source) {
    source = new SecretConfigSource({ ...options, secretId, role });
    sources.set(`${role}|${secretId}`, source);
  }
  const { config, changed } = await source.read();
  env.DINGTALK_CONFIG = config;
  return { changed };
}

/** Forgets cached secret reads (tests). */
export function resetSecretConfig(): void {
  sources.clear();
}
