/**
 * Access policy of the channel (channel-semantics.md §2–§4): the pure decision (decide.ts, whose
 * top comment lists the invariants and their tests) and the state it reads and writes.
 */
export {
  checkAccess,
  claimGroupHint,
  type DropLogDeps,
  GROUP_HINT_TTL_SECONDS,
  logDrop,
  type PairingChallenge,
  type PairingChallengeDeps,
  runPairingChallenge,
} from './access.js';
export {
  type AllowlistEntry,
  type AllowlistSource,
  addAllowed,
  allowlistUserId,
  findAllowed,
  listAllowed,
  removeAllowed,
} from './allowlist-store.js';
export { decideAccess, type PolicyMessage } from './decide.js';
export { decideDm } from './dm.js';
export { decideGroup, groupHint, groupSettings, isMentioned } from './group.js';
export { ANY_SENDER, idListMatches, normalizeSenderId, stripIdPrefixes } from './ids.js';
export {
  ACCESS_APPROVED_TEXT,
  approveCommand,
  cryptoRandomInt,
  isPairingCodeShape,
  PAIRING_ALPHABET,
  PAIRING_CODE_LENGTH,
  PAIRING_TTL_MS,
  pairingChallengeText,
  type RandomInt,
  randomPairingCode,
  uniquePairingCode,
} from './pairing.js';
export {
  approvePairing,
  findPendingRequest,
  listPendingRequests,
  type PairingDeps,
  type PairingRequest,
  type PairingStart,
  rejectPairing,
  startPairing,
} from './pairing-store.js';
export * from './types.js';
