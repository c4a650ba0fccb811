/**
 * Rules that span keys, checked after the schema passed (channel-semantics.md §1 "Validation"):
 * - `dm.policy: "open"` needs `"*"` in `dm.allowFrom` (root and every account's own `dm`);
 * - `dm.policy: "allowlist"` with an empty `dm.allowFrom` is a warning, once per `dm` object;
 * - `defaultAccount` must name an account;
 * - with `requireCredentials`, every enabled account needs `clientId` and `clientSecret`;
 * - settings: `AGENT=openai` needs a base URL, `AGENT=http` a webhook URL, an http(s) relay
 *   target an HMAC secret, an FC target an endpoint.
 * Guarded by test/config/validation.test.ts and test/config/settings.test.ts.
 */
import { accountIdsOf, type ResolvedAccount } from './accounts.js';
import type { KeyPath } from './introspect.js';
import { closestKey, type IssueScope, keyRef } from './issues.js';
import type { ChannelConfig, DmConfig } from './schema.js';
import { type AppSettings, parseRelayTarget } from './settings.js';

function dmObjects(channel: ChannelConfig): Array<{ path: KeyPath; dm: DmConfig }> {
  const out: Array<{ path: KeyPath; dm: DmConfig }> = [{ path: ['dm'], dm: channel.dm }];
  for (const [id, account] of Object.entries(channel.accounts ?? {})) {
    if (account.dm) out.push({ path: ['accounts', id, 'dm'], dm: account.dm });
  }
  return out;
}

/** Errors in the parsed channel object that no single key shows. */
export function channelRules(channel: ChannelConfig, scope: IssueScope): string[] {
  const issues: string[] = [];
  for (const { path, dm } of dmObjects(channel)) {
    if (dm.policy === 'open' && !dm.allowFrom.includes('*')) {
      issues.push(
        `${keyRef(scope, [...path, 'allowFrom'])} must contain "*" because ` +
          `${keyRef(scope, [...path, 'policy'])} is "open" (DMs from anyone need this explicit opt-in); ` +
          `got ${JSON.stringify(dm.allowFrom)}`,
      );
    }
  }
  if (channel.defaultAccount !== undefined) {
    const known = accountIdsOf(channel);
    if (!known.includes(channel.defaultAccount)) {
      const closest = closestKey(channel.defaultAccount, known);
      const hint = closest ? ` did you mean "${closest}"?` : '';
      issues.push(
        `${keyRef(scope, ['defaultAccount'])} names no account;${hint} known accounts: ${known.join(', ')}`,
      );
    }
  }
  return issues;
}

/** Warnings for resolved accounts: an allowlist nobody is on yet (reported once per `dm` object). */
export function channelWarnings(accounts: readonly ResolvedAccount[], scope: IssueScope): string[] {
  const byPath = new Map<string, { path: KeyPath; ids: string[] }>();
  for (const account of accounts) {
    const { dm, enabled, accountId } = account.config;
    if (!enabled || dm.policy !== 'allowlist' || dm.allowFrom.length > 0) continue;
    const path = account.pathOf('dm');
    const entry = byPath.get(JSON.stringify(path)) ?? { path, ids: [] };
    entry.ids.push(accountId);
    byPath.set(JSON.stringify(path), entry);
  }
  return [...byPath.values()].map(
    ({ path, ids }) =>
      `${keyRef(scope, [...path, 'allowFrom'])} is empty while dm.policy is "allowlist" ` +
      `(account ${ids.join(', ')}): only senders added at runtime (\`dingtalk-channel allow add\`, ` +
      '`pairing approve`) can DM the bot',
  );
}

const CREDENTIAL_ENV = {
  clientId: 'DINGTALK_CLIENT_ID',
  clientSecret: 'DINGTALK_CLIENT_SECRET(_FILE)',
};

/** Errors when the caller needs to connect to DingTalk and an enabled account cannot. */
export function credentialRules(
  accounts: readonly ResolvedAccount[],
  defaultAccountId: string,
  scope: IssueScope,
): string[] {
  const enabled = accounts.filter((account) => account.config.enabled);
  if (enabled.length === 0) {
    return [`${keyRef(scope, ['enabled'])}: no account is enabled, so there is nothing to connect`];
  }
  const issues: string[] = [];
  for (const account of enabled) {
    for (const key of ['clientId', 'clientSecret'] as const) {
      if (account.config[key] !== '') continue;
      // The env variables fill the default account only (§1), so only it gets that hint.
      const hint =
        account.config.accountId === defaultAccountId
          ? `set it in the config or ${CREDENTIAL_ENV[key]}`
          : 'set it in the config';
      issues.push(
        `${keyRef(scope, account.pathOf(key))} is required: account "${account.config.accountId}" ` +
          `is enabled and connects to DingTalk; ${hint}, or set \`enabled: false\``,
      );
    }
  }
  return issues;
}

/** Errors in the parsed settings that no single key shows. */
export function settingsRules(settings: AppSettings, scope: IssueScope): string[] {
  const issues: string[] = [];
  const requires = (path: KeyPath, why: string) =>
    issues.push(`${keyRef(scope, path)} is required when ${why}`);
  const agentKind = `${keyRef(scope, ['agent', 'kind'])} is "${settings.agent.kind}"`;
  if (settings.agent.kind === 'openai' && !settings.agent.baseUrl) {
    requires(['agent', 'baseUrl'], `${agentKind} (e.g. https://api.openai.com/v1)`);
  }
  if (settings.agent.kind === 'openai' && !settings.agent.model) {
    requires(['agent', 'model'], `${agentKind} (e.g. gpt-4o-mini, qwen-plus)`);
  }
  if (settings.agent.kind === 'http' && !settings.agent.httpUrl) {
    requires(['agent', 'httpUrl'], agentKind);
  }
  const target = parseRelayTarget(settings.relay.target);
  const targetRef = `${keyRef(scope, ['relay', 'target'])} is ${JSON.stringify(settings.relay.target)}`;
  if (target?.kind === 'http' && !settings.relay.hmacSecret) {
    requires(['relay', 'hmacSecret'], `${targetRef} (the receiver verifies the signature)`);
  }
  if (settings.state.backend === 'tablestore') {
    const why = `${keyRef(scope, ['state', 'backend'])} is "tablestore"`;
    if (!settings.state.tablestoreEndpoint) requires(['state', 'tablestoreEndpoint'], why);
    if (!settings.state.tablestoreInstance) requires(['state', 'tablestoreInstance'], why);
    if (!settings.fc.accessKeyId) requires(['fc', 'accessKeyId'], why);
    if (!settings.fc.accessKeySecret) requires(['fc', 'accessKeySecret'], why);
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,254}$/.test(settings.state.table)) {
      issues.push(
        `${keyRef(scope, ['state', 'table'])} must be a Tablestore table name (letters, digits and _, ` +
          `not starting with a digit) when ${why}; got ${JSON.stringify(settings.state.table)}`,
      );
    }
  }
  const fc = settings.fc;
  if (
    (target?.kind === 'fc' || target?.kind === 'fc2') &&
    !fc.endpoint &&
    !(fc.accountId && fc.region)
  ) {
    requires(['fc', 'endpoint'], `${targetRef}, unless FC_ACCOUNT_ID and FC_REGION are both set`);
  }
  return issues;
}
