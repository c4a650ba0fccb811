/**
 * Bare commands of an admitted sender (channel-semantics.md §5), handled by the channel and
 * never sent to the agent. Matching is case-insensitive on the trimmed text (the group's
 * @-mention is already stripped by the parser).
 */

export type Command =
  | { name: 'new'; rest: string }
  | { name: 'reset' }
  | { name: 'status' }
  | { name: 'help' }
  | { name: 'whoami' };

/** Parses a command, or returns undefined for ordinary text (including unknown `/words`). */
export function parseCommand(text: string): Command | undefined {
  const match = /^\/([a-z]+)(?:\s+([\s\S]*))?$/i.exec(text.trim());
  if (!match) return undefined;
  const name = match[1]!.toLowerCase();
  const rest = (match[2] ?? '').trim();
  switch (name) {
    case 'new':
      return { name: 'new', rest };
    case 'reset':
    case 'status':
    case 'help':
    case 'whoami':
      return rest === '' ? { name } : undefined;
    default:
      return undefined;
  }
}

export const HELP_TEXT = [
  'Commands:',
  '- /new [text]: start a fresh conversation (and ask text in it)',
  '- /reset: start a fresh conversation',
  '- /status: account, session and agent details',
  '- /whoami: your DingTalk user id and this conversation id',
  '- /help: this list',
].join('\n');

export interface StatusFacts {
  accountId: string;
  sessionKey: string;
  historyTurns: number | 'kept by the agent';
  agentName: string;
  model?: string;
  groupPolicy?: string;
}

export function statusText(facts: StatusFacts): string {
  const lines = [
    `- Account: ${facts.accountId}`,
    `- Session: ${facts.sessionKey}`,
    `- History: ${facts.historyTurns}${typeof facts.historyTurns === 'number' ? ' turns' : ''}`,
    `- Agent: ${facts.agentName}${facts.model ? ` (${facts.model})` : ''}`,
  ];
  if (facts.groupPolicy) lines.push(`- Group policy: ${facts.groupPolicy}`);
  return ['Status', ...lines].join('\n');
}

export function whoamiText(userId: string, conversationId: string): string {
  return ['Who am I', `- User id: ${userId}`, `- Conversation id: ${conversationId}`].join('\n');
}
