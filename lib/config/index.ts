/**
 * Configuration: one strict zod schema for `channels.dingtalk` (channel-semantics.md §1) plus
 * the project's own `dingtalkChannel` settings, loaded once at start from defaults, a JSON5
 * file, `DINGTALK_CONFIG` and flat environment variables (README "Configuration").
 *
 * Invariants (each guarded by a test):
 * - unknown keys are errors, with a "did you mean" (test/config/validation.test.ts);
 * - every message names the key path and the source of the value (validation, sources tests);
 * - no secret value appears in any message (test/config/secrets.test.ts);
 * - env credentials fill the default account only (test/config/accounts.test.ts);
 * - the README table is the schema's (test/config/readme.test.ts).
 */
export {
  type AccountLookup,
  accountIdsOf,
  DEFAULT_ACCOUNT_ID,
  defaultAccountIdOf,
  getAccount,
  sendingAccount,
} from './accounts.js';
export { type LoadedConfig, type LoadOptions, loadConfig } from './load.js';
export {
  type AccountConfig,
  type AccountOverlay,
  CHANNEL_ROOT,
  CHUNK_MODES,
  type ChannelConfig,
  ChannelSchema,
  type ChunkMode,
  DM_POLICIES,
  type DmConfig,
  type DmPolicy,
  GROUP_POLICIES,
  type GroupConfig,
  type GroupPolicy,
} from './schema.js';
export {
  type AppSettings,
  parseRelayTarget,
  type RelayTarget,
  SETTINGS_ROOT,
  SettingsSchema,
} from './settings.js';
export { parseBoolean, parseInteger, type ReadFile } from './sources.js';
