/**
 * `loadConfig`: read every source once at start, merge, validate, resolve accounts.
 * Precedence (later wins): schema defaults → `DINGTALK_CONFIG_FILE` → `DINGTALK_CONFIG` →
 * flat environment variables. All problems are collected and thrown together as one
 * ConfigError; no message carries a secret value.
 */
import type { z } from 'zod';
import { ConfigError } from '../errors.js';
import { registerSecret, urlCredentials } from '../log.js';
import { credentialPathOf, defaultAccountIdOf, resolveAccounts } from './accounts.js';
import { envLeaves, type JsonNode, jsonSchemaOf, nodeAt } from './introspect.js';
import { formatIssues, type IssueScope, maskKnownSecrets } from './issues.js';
import { isPlainObject, type Layer, mergeLayers, valueAt } from './layers.js';
import { channelRules, channelWarnings, credentialRules, settingsRules } from './rules.js';
import { type AccountConfig, CHANNEL_ROOT, type ChannelConfig, ChannelSchema } from './schema.js';
import { type AppSettings, SETTINGS_ROOT, SettingsSchema } from './settings.js';
import {
  type ConfigDocument,
  envLayers,
  type ReadFile,
  readDocuments,
  readUtf8,
} from './sources.js';

/** Everything the channel needs, validated. */
export interface LoadedConfig {
  channel: ChannelConfig;
  /** Enabled accounts, sorted by id. */
  accounts: AccountConfig[];
  /** Every account, enabled or not, sorted by id. */
  allAccounts: AccountConfig[];
  defaultAccountId: string;
  settings: AppSettings;
  /** Problems worth one log line each (the caller logs them once). */
  warnings: string[];
  /** True when every enabled account has `clientId` and `clientSecret` (and one is enabled). */
  hasCredentials: boolean;
}

export interface LoadOptions {
  /** The relay and real mode connect to DingTalk: reject enabled accounts without credentials. */
  requireCredentials?: boolean;
  /** Reads `DINGTALK_CONFIG_FILE` and `*_FILE` secrets (default: the file system, UTF-8). */
  readFile?: ReadFile;
}

const CHANNEL_JSON = jsonSchemaOf(ChannelSchema);
const SETTINGS_JSON = jsonSchemaOf(SettingsSchema);
/** Settings holding URLs that may carry credentials (`?code=`, `?api-key=`, `user:password@`). */
const URL_SETTINGS = [
  ['relay', 'target'],
  ['agent', 'baseUrl'],
  ['agent', 'httpUrl'],
] as const;
/** Env variables for these fill the default account only (§1 Multi-account). */
const CREDENTIAL_KEYS = new Set(['clientId', 'clientSecret', 'robotCode']);

interface Section<T> {
  value?: T;
  scope: IssueScope;
  issues: string[];
}

function parseSection<T>(
  schema: z.ZodType<T>,
  json: JsonNode,
  root: string,
  layers: Layer[],
): Section<T> {
  const { value: raw, provenance } = mergeLayers(layers);
  const scope: IssueScope = { root, schema: json, raw, provenance };
  const result = schema.safeParse(raw);
  if (result.success) return { value: result.data, scope, issues: [] };
  return { scope, issues: formatIssues(result.error.issues, scope) };
}

function documentLayers(docs: readonly ConfigDocument[], key: 'channel' | 'settings'): Layer[] {
  return docs.flatMap((doc) => {
    const value = doc[key];
    return value ? [{ source: doc.source, value }] : [];
  });
}

function loadChannel(docs: readonly ConfigDocument[], env: NodeJS.ProcessEnv, readFile: ReadFile) {
  const leaves = envLeaves(CHANNEL_JSON);
  const fromDocs = documentLayers(docs, 'channel');
  const common = envLayers(
    env,
    leaves.filter((leaf) => !CREDENTIAL_KEYS.has(leaf.path[0]!)),
    readFile,
  );
  const commonLayers = common.value ?? [];
  // The default account depends on the other sources, so credentials are placed last.
  const target = credentialPathOf(mergeLayers([...fromDocs, ...commonLayers]).value);
  const credentials = envLayers(
    env,
    leaves.filter((leaf) => CREDENTIAL_KEYS.has(leaf.path[0]!)),
    readFile,
    (leaf) => [...target, ...leaf.path],
  );
  const section = parseSection(ChannelSchema, CHANNEL_JSON, CHANNEL_ROOT, [
    ...fromDocs,
    ...commonLayers,
    ...(credentials.value ?? []),
  ]);
  return { ...section, issues: [...common.issues, ...credentials.issues, ...section.issues] };
}

/** The state table on Tablestore when `STATE_TABLE` is not set. */
export const DEFAULT_TABLESTORE_TABLE = 'dingtalk_channel_state';

function loadSettings(
  docs: readonly ConfigDocument[],
  env: NodeJS.ProcessEnv,
  readFile: ReadFile,
): Section<AppSettings> {
  const fromEnv = envLayers(env, envLeaves(SETTINGS_JSON), readFile);
  const layers = [...documentLayers(docs, 'settings'), ...(fromEnv.value ?? [])];
  const section = parseSection(SettingsSchema, SETTINGS_JSON, SETTINGS_ROOT, layers);
  const issues = [...fromEnv.issues, ...section.issues];
  if (!section.value) return { scope: section.scope, issues };
  // A named table means a real DynamoDB; otherwise the zero-setup local store.
  const tableSet = section.scope.provenance.sourceOf(['state', 'table']) !== undefined;
  const backend = section.value.state.backend ?? (tableSet ? 'dynamodb' : 'local');
  const state = {
    ...section.value.state,
    backend,
    // Tablestore table names allow no `-`, so the DynamoDB default does not carry over.
    ...(backend === 'tablestore' && !tableSet ? { table: DEFAULT_TABLESTORE_TABLE } : {}),
  };
  const value: AppSettings = { ...section.value, state };
  return {
    scope: section.scope,
    value,
    issues: [...issues, ...settingsRules(value, section.scope)],
  };
}

/** Every value under a secret key (parsed or not), so no message can show it. */
function collectSecrets(value: unknown, node: JsonNode | undefined, out: Set<string>): void {
  if (!node) return;
  if (node.secret && (typeof value === 'string' || typeof value === 'number')) {
    out.add(String(value));
  } else if (isPlainObject(value)) {
    for (const [key, item] of Object.entries(value)) collectSecrets(item, nodeAt(node, [key]), out);
  }
}

/** Loads, validates and resolves the configuration. Throws ConfigError listing every problem. */
export function loadConfig(
  env: NodeJS.ProcessEnv = process.env,
  options: LoadOptions = {},
): LoadedConfig {
  const readFile = options.readFile ?? readUtf8;
  const docs = readDocuments(env, readFile);
  const channel = loadChannel(docs.value ?? [], env, readFile);
  const settings = loadSettings(docs.value ?? [], env, readFile);
  const secrets = new Set<string>();
  collectSecrets(channel.scope.raw, CHANNEL_JSON, secrets);
  collectSecrets(settings.scope.raw, SETTINGS_JSON, secrets);
  for (const path of URL_SETTINGS) {
    const value = valueAt(settings.scope.raw, path);
    if (typeof value === 'string') for (const part of urlCredentials(value)) secrets.add(part);
  }
  for (const secret of secrets) registerSecret(secret);
  const issues = [...docs.issues, ...channel.issues, ...settings.issues];
  const mask = (message: string) => maskKnownSecrets(message, secrets);
  if (!channel.value || !settings.value) throw new ConfigError(issues.map(mask));

  issues.push(...channelRules(channel.value, channel.scope));
  const resolved = resolveAccounts(channel.value);
  const defaultAccountId = defaultAccountIdOf(channel.value);
  if (options.requireCredentials) {
    issues.push(...credentialRules(resolved, defaultAccountId, channel.scope));
  }
  if (issues.length > 0) throw new ConfigError(issues.map(mask));

  const allAccounts = resolved.map((account) => account.config);
  const accounts = allAccounts.filter((account) => account.enabled);
  return {
    channel: channel.value,
    accounts,
    allAccounts,
    defaultAccountId,
    settings: settings.value,
    warnings: channelWarnings(resolved, channel.scope).map(mask),
    hasCredentials:
      accounts.length > 0 && accounts.every((a) => a.clientId !== '' && a.clientSecret !== ''),
  };
}
