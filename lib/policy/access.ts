/**
 * What the message pipeline calls: the policy decision with the one state read it may need,
 * the pairing challenge, and the drop log line (with the §4 group hint at most once per
 * conversation). Everything here is either a pure decision (decide.ts) or one StateStore call.
 */
import type { Clock } from '../clock.js';
import type { AccountConfig } from '../config/index.js';
import type { InboundMessage } from '../dingtalk/inbound-types.js';
import { errorSummary } from '../errors.js';
import type { Logger } from '../log.js';
import { keys } from '../state/keys.js';
import { cond, type StateStore, toEpochSeconds } from '../state/port.js';
import { findAllowed } from './allowlist-store.js';
import { decideAccess, type PolicyMessage } from './decide.js';
import { pairingChallengeText, type RandomInt } from './pairing.js';
import { startPairing } from './pairing-store.js';
import type { AccessDecision, DropReason } from './types.js';

/** True when only the runtime allowlist could still admit this DM sender. */
function needsRuntimeAllowlist(message: PolicyMessage, decision: AccessDecision): boolean {
  if (message.conversationType !== 'dm') return false;
  return (
    decision.outcome === 'pairing' ||
    (decision.outcome === 'drop' && decision.reason === 'dm_not_allowed')
  );
}

/**
 * Decides access for one message (§2–§4). The runtime allowlist is read (one get) only for a
 * DM sender that the configuration alone does not admit and whose policy is not `disabled`.
 */
export async function checkAccess(
  store: StateStore,
  message: PolicyMessage,
  account: AccountConfig,
): Promise<AccessDecision> {
  const byConfig = decideAccess(message, account);
  if (!needsRuntimeAllowlist(message, byConfig)) return byConfig;
  const entry = await findAllowed(store, account.accountId, message.sender.id);
  return entry ? decideAccess(message, account, [entry.userId]) : byConfig;
}

/** The outcome of a pairing attempt: send `text` to the sender only when `sendChallenge`. */
export type PairingChallenge =
  | { sendChallenge: true; code: string; text: string; expiresAt: number }
  | { sendChallenge: false; reason: DropReason; code?: string };

export interface PairingChallengeDeps {
  clock: Clock;
  /** The configuration's default account: the command in the text names other accounts. */
  defaultAccountId: string;
  random?: RandomInt;
  logger?: Logger;
}

/**
 * Runs §3 for a DM sender the decision sent to pairing: creates the request (reply once, with
 * the challenge text) or finds it (no reply), or refuses at capacity (no record, no reply).
 */
export async function runPairingChallenge(
  store: StateStore,
  message: Pick<InboundMessage, 'sender'>,
  account: AccountConfig,
  deps: PairingChallengeDeps,
): Promise<PairingChallenge> {
  const sender = {
    accountId: account.accountId,
    userId: message.sender.id,
    ...(message.sender.nick === undefined ? {} : { nick: message.sender.nick }),
  };
  const started = await startPairing(store, sender, {
    clock: deps.clock,
    ...(deps.random ? { random: deps.random } : {}),
  });
  switch (started.status) {
    case 'created': {
      const { code, expiresAt } = started.request;
      deps.logger?.info('pairing.request_created', {
        account: account.accountId,
        senderId: sender.userId,
        nick: sender.nick,
        code,
        expiresAt: new Date(expiresAt * 1000).toISOString(),
      });
      const text = pairingChallengeText({
        userId: sender.userId,
        code,
        accountId: account.accountId,
        defaultAccountId: deps.defaultAccountId,
      });
      return { sendChallenge: true, code, text, expiresAt };
    }
    case 'pending':
      return { sendChallenge: false, reason: 'pairing_pending', code: started.request.code };
    case 'rejected':
      return { sendChallenge: false, reason: 'pairing_rejected' };
    case 'capacity':
      return { sendChallenge: false, reason: 'pairing_capacity' };
    case 'collision':
      return { sendChallenge: false, reason: 'pairing_code_collision' };
  }
}

/**
 * How long a group-hint marker lives: the hint is logged again a week later for a group that
 * is still ignored (a reminder, not noise), and no marker outlives that (the table's TTL and
 * the embedded store's sweep remove it), so markers cannot pile up forever.
 */
export const GROUP_HINT_TTL_SECONDS = 7 * 24 * 3600;

/** Marks a conversation's group hint as logged; true the first time per TTL (conditional put). */
export async function claimGroupHint(
  store: StateStore,
  accountId: string,
  conversationId: string,
  nowMs: number,
): Promise<boolean> {
  const now = toEpochSeconds(nowMs);
  const result = await store.put(
    {
      ...keys.groupHint(accountId, conversationId),
      loggedAt: nowMs,
      expiresAt: now + GROUP_HINT_TTL_SECONDS,
    },
    cond.absentOrExpired(now),
  );
  return result.ok;
}

export interface DropLogDeps {
  store: StateStore;
  logger: Logger;
  clock: Clock;
}

/**
 * Logs a dropped message (`policy.drop` with its reason code) and, for a group dropped at §4
 * steps 1–3, the hint naming the key to set — once per conversation. Never throws: a failed
 * marker write logs the hint anyway (twice is better than never).
 */
export async function logDrop(
  deps: DropLogDeps,
  message: Pick<InboundMessage, 'msgId' | 'conversationType' | 'conversationId' | 'sender'> &
    Partial<Pick<InboundMessage, 'conversationTitle'>>,
  account: AccountConfig,
  drop: { reason: DropReason; hint?: string },
): Promise<void> {
  const { logger } = deps;
  logger.info('policy.drop', {
    account: account.accountId,
    reason: drop.reason,
    msgId: message.msgId,
    conversationType: message.conversationType,
    conversationId: message.conversationId,
    senderId: message.sender.id,
  });
  if (!drop.hint) return;
  let first = true;
  try {
    first = await claimGroupHint(
      deps.store,
      account.accountId,
      message.conversationId,
      deps.clock.now(),
    );
  } catch (err) {
    logger.warn('policy.group_hint_marker_failed', { error: errorSummary(err) });
  }
  if (!first) return;
  logger.warn('policy.group_hint', {
    account: account.accountId,
    reason: drop.reason,
    conversationId: message.conversationId,
    conversationTitle: message.conversationTitle,
    hint: `the bot ignores this group: ${drop.hint}`,
  });
}
