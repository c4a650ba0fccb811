/**
 * Builds the `messages` array of an OpenAI-compatible chat completion from an `AgentRequest`.
 * Order (docs/agents.md "Message order"): the global system prompt, the group's `systemPrompt`
 * (its own system message, channel-semantics.md §4), the group's tools policy note, the bounded
 * history, then the new user turn.
 */
import type { AgentMedia, AgentRequest, ChatTurn } from './port.js';
import { describeToolsPolicy } from './tools-policy.js';

export type ChatContentPart =
  | { type: 'text'; text: string }
  | { type: 'image_url'; image_url: { url: string } };

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string | ChatContentPart[];
}

export interface MessageOptions {
  /** The deployment-wide system prompt. */
  systemPrompt?: string;
  /** Send pictures as image parts (the model accepts images). */
  vision: boolean;
  /** Earlier turns to include, already bounded; empty for agents that keep history. */
  history: readonly ChatTurn[];
}

/** The full `messages` array for one request. */
export function buildChatMessages(request: AgentRequest, options: MessageOptions): ChatMessage[] {
  const messages: ChatMessage[] = [];
  const systemNotes = [
    options.systemPrompt,
    request.systemPrompt,
    describeToolsPolicy(request.tools),
  ];
  for (const note of systemNotes) {
    const content = note?.trim();
    if (content) messages.push({ role: 'system', content });
  }
  for (const turn of options.history) messages.push({ role: turn.role, content: turn.content });
  messages.push({ role: 'user', content: userContent(request, options.vision) });
  return messages;
}

/** The user turn: plain text, or text plus image parts for vision models. */
export function userContent(
  request: Pick<AgentRequest, 'text' | 'media'>,
  vision: boolean,
): string | ChatContentPart[] {
  const text = request.text.trim();
  const notes: string[] = [];
  const images: ChatContentPart[] = [];
  for (const item of request.media) {
    const imageUrl = vision && item.kind === 'picture' ? pictureUrl(item) : undefined;
    if (imageUrl) images.push({ type: 'image_url', image_url: { url: imageUrl } });
    else {
      const note = mediaNote(item, text);
      if (note) notes.push(note);
    }
  }
  const fullText = [text, ...notes].filter(Boolean).join('\n');
  if (images.length === 0) return fullText;
  return fullText ? [{ type: 'text', text: fullText }, ...images] : images;
}

/** A data URL when the pipeline fetched the bytes, else the temporary download URL. */
function pictureUrl(item: AgentMedia): string | undefined {
  if (item.data) return `data:${item.data.mimeType};base64,${item.data.base64}`;
  return item.url;
}

/** How a medium the model does not receive appears in the text. */
function mediaNote(item: AgentMedia, text: string): string | undefined {
  const suffix =
    item.status === 'unavailable'
      ? ' (could not be downloaded)'
      : item.status === 'not_downloaded'
        ? ' (not downloaded: over the per-message limit)'
        : '';
  const named = (label: string) =>
    item.fileName ? `[${label}: ${item.fileName}${suffix}]` : `[${label}${suffix}]`;
  switch (item.kind) {
    case 'picture':
      return named('picture');
    // DingTalk's speech recognition is already the text (dingtalk-protocol.md, audio content).
    case 'audio':
      return text ? undefined : '[voice message]';
    case 'video':
      return named('video');
    case 'file':
      // Files read as text (agent.mediaFiles: text) carry their content between markers.
      if (item.text !== undefined) {
        const cut = item.textTruncated ? ' (cut at the character limit)' : '';
        const name = item.fileName ?? 'file';
        return `[file: ${name}, text follows${cut}]\n${item.text}\n[end of file: ${name}]`;
      }
      return named('file');
  }
}
