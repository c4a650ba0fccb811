/**
 * Which secret settings each deployed process keeps of the config secret (issue 15): the
 * filter behind lib/config/aws-secret.ts (functions) and infra/relay/main.ts (the relay). Free
 * of any SDK, so the relay bundle can use it.
 */
import { ChannelError } from '../errors.js';
import { SETTINGS_ROOT } from './settings.js';
import { parseConfigText } from './sources.js';

/** Which function reads the secret; each keeps only the secret settings it uses. */
export type SecretRole = 'message' | 'message-http' | 'send' | 'relay';

/** Every secret setting of `dingtalkChannel` (the schema's `secret: true` keys). */
export const SECRET_SETTINGS = [
  'agent.apiKey',
  'agent.httpToken',
  'relay.hmacSecret',
  'fc.accessKeySecret',
  'fc.securityToken',
  'send.token',
] as const;
export type SecretSetting = (typeof SECRET_SETTINGS)[number];

/**
 * The secret settings each function keeps. Client secrets (`channels.dingtalk`) stay for all:
 * the message and send functions call DingTalk's API as the app, the relay connects as it.
 */
export const SECRETS_BY_ROLE: Record<SecretRole, readonly SecretSetting[]> = {
  message: ['agent.apiKey', 'agent.httpToken'],
  'message-http': ['agent.apiKey', 'agent.httpToken', 'relay.hmacSecret'],
  send: ['send.token'],
  relay: [],
};

/**
 * The config document with every secret setting the role does not need removed, as the JSON
 * `DINGTALK_CONFIG` takes. Throws a final ConfigError (never showing the text) when it does not
 * parse.
 */
export function configForRole(text: string, role: SecretRole): string {
  const parsed = parseConfigText(text, 'the config secret');
  if (!parsed.value) {
    throw new ChannelError('config', `config secret: ${parsed.issues.join('; ')}`);
  }
  const { channel, settings } = parsed.value;
  const kept = new Set<string>(SECRETS_BY_ROLE[role]);
  const filtered = settings ? structuredClone(settings) : undefined;
  for (const path of SECRET_SETTINGS) {
    if (kept.has(path)) continue;
    const [section, key] = path.split('.') as [string, string];
    const holder = filtered?.[section];
    if (holder && typeof holder === 'object') delete (holder as Record<string, unknown>)[key];
  }
  return JSON.stringify({
    ...(channel ? { channels: { dingtalk: channel } } : {}),
    ...(filtered ? { [SETTINGS_ROOT]: filtered } : {}),
  });
}
