/**
 * On AWS the relay receives the whole config secret (ECS `secrets`), agent key and send token
 * included. Handing messages to a Lambda function needs none of those, so before anything reads
 * the configuration the relay keeps only its own view (lib/config/secret-roles.ts, role
 * `relay`: the DingTalk app credentials): a relay compromise then cannot leak the agent key or
 * the send token from its memory. Other targets are left alone: in-process runs the agent, an
 * http(s) target signs with the HMAC key, an FC target signs with the Alibaba key.
 */
import { configForRole } from '../../lib/config/secret-roles.js';
import { ChannelError } from '../../lib/errors.js';

/** Replaces `env.DINGTALK_CONFIG` by the relay's view when the target is `lambda:`; true if it did. */
export function relayConfigView(env: NodeJS.ProcessEnv): boolean {
  const config = env.DINGTALK_CONFIG;
  if (!config?.trim() || !env.RELAY_TARGET?.trim().startsWith('lambda:')) return false;
  try {
    env.DINGTALK_CONFIG = configForRole(config, 'relay');
    return true;
  } catch (err) {
    // Unparsable: leave it, so the config loader reports it with the usual message.
    if (err instanceof ChannelError && err.code === 'config') return false;
    throw err;
  }
}
