/**
 * The MessageEvent the relay hands to the message function for something the simulator pushed
 * (lib/forward/port.ts): the frame's payload exactly as pushed, its account and messageId.
 */
import type { MessageEvent } from '../../lib/forward/port.js';
import type { Simulator } from '../../lib/simulator/index.js';

/** The event for the push `messageId`; `data` overrides the payload text (a raw injection). */
export function pushedEvent(
  sim: Pick<Simulator, 'inbound'>,
  messageId: string,
  options: { topic?: string; data?: string } = {},
): MessageEvent {
  const record = sim.inbound().find((r) => r.messageId === messageId);
  if (!record) throw new Error(`the simulator pushed no message ${messageId}`);
  return {
    version: 1,
    accountId: record.account,
    messageId,
    data: options.data ?? JSON.stringify(record.payload),
    receivedAt: Date.now(),
    ...(options.topic ? { topic: options.topic } : {}),
  };
}
