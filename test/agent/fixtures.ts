/** Builders shared by the agent tests. */
import type { AgentRequest, ChatTurn } from '../../lib/agent/port.js';

/** A DM request with no media and no history; override any field. */
export function agentRequest(overrides: Partial<AgentRequest> = {}): AgentRequest {
  return {
    accountId: 'default',
    messageId: 'msg-1',
    sessionKey: 'dingtalk:default:dm:user001',
    text: 'hello',
    media: [],
    sender: { id: 'user001', nick: 'Li Lei' },
    conversation: { id: 'cidDM001', type: 'dm' },
    history: [],
    ...overrides,
  };
}

/** `pairs` user/assistant exchanges, oldest first: "u1", "a1", "u2", "a2", … */
export function exchanges(pairs: number): ChatTurn[] {
  const turns: ChatTurn[] = [];
  for (let i = 1; i <= pairs; i += 1) {
    turns.push({ role: 'user', content: `u${i}` }, { role: 'assistant', content: `a${i}` });
  }
  return turns;
}

/** A signal that never aborts (the adapter's own timeout or the fake decides). */
export function openSignal(): AbortSignal {
  return new AbortController().signal;
}
