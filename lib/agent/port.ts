/**
 * The Agent port (architecture.md "Ports"): `respond(request, { signal }) → reply`.
 *
 * Contract every adapter keeps (channel-semantics.md §6, §7):
 * - The request carries everything §6 lists: the new user turn (text + media), session key,
 *   sender, conversation, the group's `tools` policy and `systemPrompt`, and, for agents that do
 *   not keep history themselves, the session's earlier turns.
 * - `signal` is tied to the time the message function has left; an aborted call rejects with
 *   `AgentError` code `agent_timeout` (test/agent/openai.test.ts "timeout").
 * - Every failure is an `AgentError` whose message names no secret (test/agent/errors.test.ts);
 *   the user only ever sees `userFacingAgentError(err)`.
 */
import { ChannelError } from '../errors.js';
import type { ParsedAttachment } from './attachments.js';

/** One earlier message of the session, as stored by the pipeline. */
export interface ChatTurn {
  role: 'user' | 'assistant';
  content: string;
}

/** A piece of inbound media. The pipeline resolves `url` (and `data` for vision models). */
export interface AgentMedia {
  kind: 'picture' | 'audio' | 'video' | 'file';
  downloadCode: string;
  /** Temporary download URL from `messageFiles/download` (dingtalk-protocol.md §6.3). */
  url?: string;
  fileName?: string;
  mimeType?: string;
  /** Bytes fetched by the pipeline, for vision-capable models. */
  data?: { base64: string; mimeType: string };
  /**
   * `unavailable`: the download failed (expired code, too large, not a DingTalk host);
   * `not_downloaded`: past the per-message download cap. Absent when fetched or not needed.
   */
  status?: 'unavailable' | 'not_downloaded';
  /**
   * The file's text (setting `agent.mediaFiles: text`): extracted by the pipeline, bounded in
   * characters (`textTruncated` when cut). Absent in `reference` mode and for non-text files.
   */
  text?: string;
  textTruncated?: boolean;
}

/** The message the user's message quotes (a quote-reply), as context for the new text. */
export interface AgentQuote {
  /** The quoted message's DingTalk type (`text`, `richText`, `picture`, `file`, `interactiveCard`, …). */
  msgtype: string;
  senderNick?: string;
  /** The quoted sender's (encrypted) DingTalk id, when DingTalk sent it. */
  senderId?: string;
  /** True when the quoted message is the bot's own earlier reply. */
  fromBot: boolean;
  /** Its readable text (a placeholder when it has none). */
  text: string;
  /** Its attachments, resolved under the same caps as the message's own. */
  media: AgentMedia[];
  /** A quote inside the quote. */
  quote?: AgentQuote;
}

/** A group's tool policy (§4): deny wins; a non-empty `allow` means only those. */
export interface ToolsPolicy {
  allow?: string[];
  deny?: string[];
}

/** What the agent receives for one inbound message (channel-semantics.md §6). */
export interface AgentRequest {
  accountId: string;
  messageId: string;
  sessionKey: string;
  /** The user's text (for audio: DingTalk's speech recognition). May be empty. */
  text: string;
  media: AgentMedia[];
  sender: { id: string; nick?: string };
  conversation: { id: string; type: 'dm' | 'group'; title?: string };
  tools?: ToolsPolicy;
  /** The group's `systemPrompt` (§4). */
  systemPrompt?: string;
  /** Earlier turns, oldest first; empty for agents with `keepsHistory`. */
  history: ChatTurn[];
  /** The quoted message, when this one is a quote-reply (its text is also prefixed to `text`). */
  quote?: AgentQuote;
}

/** The agent's answer. An empty text or `NO_REPLY` means "send nothing" (§7). */
export interface AgentReply {
  text: string;
  /** Images and files to send after the text (lib/agent/attachments.ts); invalid ones become notes. */
  attachments?: ParsedAttachment[];
  /**
   * Group members to @-mention, by staffId (lib/dingtalk/mentions.ts): the text gets `@<id>`
   * for each one it does not already mention. Ignored in DMs.
   */
  mentions?: { staffId: string }[];
}

export interface AgentCallOptions {
  /** Aborts when the message function runs out of time. */
  signal: AbortSignal;
  /**
   * Streaming agents call this with the whole answer so far each time it grows (card replies,
   * issue 13). Optional both ways: an agent that does not stream just returns its reply.
   */
  onText?: (textSoFar: string) => void;
  /**
   * The reply bound (lib/pipeline/bounds.ts): a streaming agent stops reading past it, since
   * the pipeline cuts the reply there anyway.
   */
  maxReplyBytes?: number;
}

/** An AI agent behind the channel. */
export interface Agent {
  readonly name: string;
  /** True when the agent keeps the session history itself (OpenClaw): the pipeline stores none. */
  readonly keepsHistory: boolean;
  /** The model name, for `/status`. */
  readonly model?: string;
  /**
   * What the agent needs of inbound media, so the pipeline makes only the paid download calls
   * that matter: `none`, temporary `url`s, or the `bytes` (vision models, as data URLs).
   */
  readonly mediaAccess: 'none' | 'url' | 'bytes';
  respond(request: AgentRequest, options: AgentCallOptions): Promise<AgentReply>;
}

export type AgentErrorCode =
  | 'agent_timeout'
  | 'agent_http'
  | 'agent_bad_response'
  | 'agent_network';

/**
 * The agent call failed. Not retryable: the sender gets one short message (§7) and the inbound
 * message counts as handled. Messages name the endpoint (without query) and never a secret.
 */
export class AgentError extends ChannelError {
  override name = 'AgentError';
  declare readonly code: AgentErrorCode;
  /** HTTP status for `agent_http`. */
  readonly status: number | undefined;
  /** `origin + path` of the called URL (no query string, no credentials). */
  readonly endpoint: string | undefined;

  constructor(
    code: AgentErrorCode,
    message: string,
    options: { status?: number; endpoint?: string; cause?: unknown } = {},
  ) {
    super(code, message, { cause: options.cause, retryable: false });
    this.status = options.status;
    this.endpoint = options.endpoint;
  }
}

const TIMEOUT_REPLY = 'Sorry, the agent did not answer in time. Please try again.';
const FAILURE_REPLY = 'Sorry, the agent failed to answer. Please try again.';

/**
 * The one short message the DingTalk user sees when the agent call failed (§7): never details,
 * never secrets. Matches on `code`, so it also works for errors from another copy of this module.
 */
export function userFacingAgentError(err: unknown): string {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : '';
  const name = err instanceof Error ? err.name : '';
  if (code === 'agent_timeout' || name === 'AbortError' || name === 'TimeoutError') {
    return TIMEOUT_REPLY;
  }
  return FAILURE_REPLY;
}
