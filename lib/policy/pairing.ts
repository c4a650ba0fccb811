/**
 * Pairing codes and the texts around them (channel-semantics.md §3). Codes come from a
 * cryptographic RNG (`crypto.randomInt`, uniform over the alphabet); tests inject their own.
 */
import { randomInt } from 'node:crypto';
import { ChannelError } from '../errors.js';

/** 32 characters: no 0/O/1/I, so a code read aloud or retyped cannot be mistaken. */
export const PAIRING_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
export const PAIRING_CODE_LENGTH = 8;
/** A request lives this long from its creation; later messages do not extend it. */
export const PAIRING_TTL_MS = 60 * 60 * 1000;

/** A uniform integer in [0, bound). */
export type RandomInt = (bound: number) => number;

/** The cryptographic default. */
export const cryptoRandomInt: RandomInt = (bound) => randomInt(bound);

const CODE_SHAPE = new RegExp(`^[${PAIRING_ALPHABET}]{${PAIRING_CODE_LENGTH}}$`);

/** True when `code` (already normalised: trimmed, upper-cased) could be a pairing code. */
export function isPairingCodeShape(code: string): boolean {
  return CODE_SHAPE.test(code);
}

/** One fresh code. */
export function randomPairingCode(random: RandomInt = cryptoRandomInt): string {
  let code = '';
  for (let i = 0; i < PAIRING_CODE_LENGTH; i++) {
    const index = random(PAIRING_ALPHABET.length);
    const char = PAIRING_ALPHABET[index];
    if (!Number.isInteger(index) || char === undefined) {
      throw new ChannelError('invalid_random', `random source returned ${index}, not 0..31`);
    }
    code += char;
  }
  return code;
}

/** A code not in `taken` (the account's live codes). 32^8 codes make a retry almost never needed. */
export function uniquePairingCode(
  taken: ReadonlySet<string>,
  random: RandomInt = cryptoRandomInt,
): string {
  for (let attempt = 0; attempt < 16; attempt++) {
    const code = randomPairingCode(random);
    if (!taken.has(code)) return code;
  }
  throw new ChannelError('pairing_code_exhausted', 'could not pick an unused pairing code');
}

/** The owner's command for a code; `--account` only when the account is not the default. */
export function approveCommand(code: string, accountId: string, defaultAccountId: string): string {
  const account = accountId === defaultAccountId ? '' : ` --account ${accountId}`;
  return `dingtalk-channel pairing approve ${code}${account}`;
}

/**
 * The challenge reply (§3): plain text, no code fences (DingTalk does not render them).
 * Sent once, when the request is created.
 */
export function pairingChallengeText(input: {
  userId: string;
  code: string;
  accountId: string;
  defaultAccountId: string;
}): string {
  return [
    'This bot only answers people its owner has approved.',
    `Your DingTalk user id: ${input.userId}`,
    `Pairing code: ${input.code}`,
    'Ask the owner to run:',
    approveCommand(input.code, input.accountId, input.defaultAccountId),
    'The code is valid for 1 hour.',
  ].join('\n');
}

/** The `pairing approve --notify` message. */
export const ACCESS_APPROVED_TEXT =
  'Your access to this bot has been approved. Send your message again to start.';
