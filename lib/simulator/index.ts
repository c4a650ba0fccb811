/**
 * The fake DingTalk used by tests, demo mode and benchmarks (dingtalk-protocol.md §8;
 * control API in architecture.md and the README's simulator section).
 */
export type { CardClicked, CardClickInput } from './card-click.js';
export type { CardCallbackRecord, CardUpdate, SimCard } from './cards.js';
export type { ConnectionInfo, ConnectionState } from './connections.js';
export type { FaultResult, OutcomeInput, Simulator, SimulatorControl } from './control.js';
export type { FaultInput } from './faults.js';
export type { MessageView, ReplyView } from './feed.js';
export type { InjectMessageInput } from './inbound-builder.js';
export type { InjectEventInput, InjectedEvent, InjectedMessage } from './inject.js';
export type {
  AckRecord,
  GatewayRequestRecord,
  InboundRecord,
  InboundState,
  OutboxEntry,
  OutcomeRecord,
  PingViolation,
  SimulatorStats,
} from './ledger.js';
export { TINY_PNG } from './media.js';
export {
  DEMO_APP,
  type SimApp,
  type SimulatorAppOptions,
  type SimulatorOptions,
} from './options.js';
export type { ApprovalAnswer, OwnerOperations, PairingRequestView } from './owner.js';
export type { RawInjectInput } from './raw-inject.js';
export { startSimulator } from './server.js';
