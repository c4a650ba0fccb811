/**
 * What the FC 3.0 and FC 2.0 forwarders share: the endpoint, the AccessKey, the status → retry
 * rule, and the async task id that makes FC 3.0 drop a second enqueue of the same message.
 */
import { createHash } from 'node:crypto';
import { type AppSettings, SETTINGS_ROOT } from '../config/index.js';
import { ConfigError } from '../errors.js';
import { registerSecret } from '../log.js';
import { describeFailure, isRetryableStatus, rejected } from './outcome.js';
import type { HandoffResult, MessageEvent } from './port.js';

export interface FcAccess {
  /** `https` in production; `http` only for a local stand-in. */
  protocol: 'http' | 'https';
  /** `host` or `host:port`. */
  host: string;
  accountId?: string | undefined;
  region?: string | undefined;
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string | undefined;
}

/** `settings.fc` as the config module parses it. */
export type FcSettings = AppSettings['fc'];

const key = (name: string, env: string) => `\`${SETTINGS_ROOT}.fc.${name}\` (env ${env})`;

/** Resolves the endpoint and AccessKey, or throws ConfigError naming every missing key. */
export function resolveFcAccess(fc: FcSettings, target: string): FcAccess {
  const issues: string[] = [];
  const why = `is required when \`${SETTINGS_ROOT}.relay.target\` is ${JSON.stringify(target)}`;
  if (!fc.accessKeyId) issues.push(`${key('accessKeyId', 'ALIBABA_CLOUD_ACCESS_KEY_ID')} ${why}`);
  if (!fc.accessKeySecret) {
    issues.push(`${key('accessKeySecret', 'ALIBABA_CLOUD_ACCESS_KEY_SECRET')} ${why}`);
  }
  if (!fc.endpoint && !(fc.accountId && fc.region)) {
    issues.push(
      `${key('endpoint', 'FC_ENDPOINT')} ${why}, unless FC_ACCOUNT_ID and FC_REGION are set`,
    );
  }
  if (issues.length > 0 || !fc.accessKeyId || !fc.accessKeySecret) throw new ConfigError(issues);
  const raw = fc.endpoint ?? `${fc.accountId}.${fc.region}.fc.aliyuncs.com`;
  const match = /^(?:(https?):\/\/)?([^/\s]+)\/?$/i.exec(raw);
  if (!match?.[2]) throw new ConfigError([`${key('endpoint', 'FC_ENDPOINT')}: not a host: ${raw}`]);
  return {
    protocol: match[1]?.toLowerCase() === 'http' ? 'http' : 'https',
    host: match[2],
    accountId: fc.accountId,
    region: fc.region,
    accessKeyId: fc.accessKeyId,
    accessKeySecret: fc.accessKeySecret,
    securityToken: fc.securityToken,
  };
}

/** The id DingTalk keeps across redeliveries: the robot payload's `msgId`, else `messageId`. */
export function dedupIdOf(event: MessageEvent): string {
  try {
    const msgId = (JSON.parse(event.data) as { msgId?: unknown } | null)?.msgId;
    if (typeof msgId === 'string' && msgId !== '') return msgId;
  } catch {
    // Not JSON: the handler will ack and count it; the stream id still dedups the enqueue.
  }
  return event.messageId;
}

/**
 * FC 3.0 task ids allow only `[A-Za-z_][A-Za-z0-9_-]{0,127}` (InvokeFunctionHeaders docs), and a
 * DingTalk msgId is base64 (`msg…==`), so the id is a hash: stable across redeliveries and
 * relay replicas, scoped by account (two robots may see the same group message).
 */
export function asyncTaskIdOf(event: MessageEvent): string {
  const digest = createHash('sha256').update(`${event.accountId}\n${dedupIdOf(event)}`);
  return `dt-${digest.digest('hex').slice(0, 48)}`;
}

/** Masks the AccessKey secret and STS token in every later reason and log line. */
export function registerFcSecrets(access: FcAccess): void {
  registerSecret(access.accessKeySecret);
  registerSecret(access.securityToken);
}

/** Maps an FC answer or failure (`status` absent = no answer) to a hand-off result. */
export function fcFailure(where: string, err: unknown, status: number | undefined): HandoffResult {
  const detail = describeFailure(err);
  if (status === undefined) return rejected(`${where}: ${detail}`, true);
  return rejected(`${where}: ${status} ${detail}`, isRetryableStatus(status));
}
