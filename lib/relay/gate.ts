/**
 * The relay's policy gate (issue "cheap drops"): a message that the configuration alone drops
 * (§2 `dm.policy: disabled`, §4 steps 1–5) is acknowledged and counted at once, before it takes
 * a hand-off slot, a store round trip or a function invocation. Decisions that need the state
 * table (the runtime allowlist, pairing) are left to the pipeline, which decides them again
 * anyway: the gate only removes work, never admits anything.
 *
 * Used only where the relay holds the same channel configuration as the pipeline (the
 * in-process target of `npm start`): a relay deployed beside functions may hold only its own
 * credentials, and would then judge by defaults.
 */
import type { LoadedConfig } from '../config/index.js';
import { parseRobotMessage } from '../dingtalk/inbound.js';
import type { Logger } from '../log.js';
import { decideAccess } from '../policy/decide.js';

/** The drop reason when configuration alone drops the message, else undefined. */
/** Takes the payload the relay already parsed (one JSON parse per delivery at the relay). */
export type PolicyGate = (
  accountId: string,
  payload: Record<string, unknown>,
  messageId?: string,
) => string | undefined;

const MAX_HINTED = 10_000;

export function createPolicyGate(config: LoadedConfig, logger: Logger): PolicyGate {
  const hinted = new Set<string>();
  return (accountId, payload) => {
    const account = config.accounts.find((a) => a.accountId === accountId);
    if (!account) return undefined;
    let message: ReturnType<typeof parseRobotMessage>;
    try {
      message = parseRobotMessage(payload, { accountId });
    } catch {
      return undefined; // the pipeline logs and drops it with its field named
    }
    const decision = decideAccess(message, account);
    if (decision.outcome !== 'drop') return undefined;
    if (message.conversationType === 'dm' && decision.reason === 'dm_not_allowed') return undefined;
    logger.info('policy.drop', {
      account: accountId,
      reason: decision.reason,
      msgId: message.msgId,
      conversationType: message.conversationType,
      conversationId: message.conversationId,
      senderId: message.sender.id,
      at: 'relay',
    });
    const key = `${accountId}\n${message.conversationId}`;
    if ('hint' in decision && decision.hint && !hinted.has(key)) {
      if (hinted.size >= MAX_HINTED) hinted.clear();
      hinted.add(key);
      logger.warn('policy.group_hint', {
        account: accountId,
        reason: decision.reason,
        conversationId: message.conversationId,
        conversationTitle: message.conversationTitle,
        hint: `the bot ignores this group: ${decision.hint}`,
      });
    }
    return decision.reason;
  };
}
