/**
 * The zero-setup default agent: answers with what it received and says that it is the echo
 * agent, so a new install shows the whole path works before any model is configured.
 */
import { type Agent, AgentError, type AgentMedia, type AgentRequest } from './port.js';

const MEDIA_WORDS: Record<AgentMedia['kind'], [string, string]> = {
  picture: ['picture', 'pictures'],
  audio: ['voice message', 'voice messages'],
  video: ['video', 'videos'],
  file: ['file', 'files'],
};

/** "(1 picture, 2 files)" for the media of a message, or '' when there is none. */
export function describeMediaCounts(media: readonly AgentMedia[]): string {
  const counts = new Map<AgentMedia['kind'], number>();
  for (const item of media) counts.set(item.kind, (counts.get(item.kind) ?? 0) + 1);
  const parts = [...counts].map(([kind, n]) => `${n} ${MEDIA_WORDS[kind][n === 1 ? 0 : 1]}`);
  return parts.length > 0 ? `(${parts.join(', ')})` : '';
}

function echoText(request: AgentRequest): string {
  const text = request.text.trim();
  const media = describeMediaCounts(request.media);
  const body = [text, media].filter(Boolean).join(' ');
  return `Echo agent: ${body || '(empty message)'}`;
}

/** Creates the echo agent. */
export function createEchoAgent(): Agent {
  return {
    name: 'echo',
    keepsHistory: false,
    mediaAccess: 'none',
    async respond(request, { signal }) {
      if (signal.aborted) throw new AgentError('agent_timeout', 'echo agent: the deadline passed');
      return { text: echoText(request) };
    },
  };
}
