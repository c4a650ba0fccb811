/**
 * The baseline: the inline pattern of DingTalk's own SDK example and the common OpenClaw
 * plugins. One process, the STOCK `dingtalk-stream` DWClient (only `getEndpoint` overridden to
 * reach the simulator, dingtalk-protocol.md §1.4), ACK on receipt, an in-memory Set for dedup,
 * the agent called inline, the reply POSTed to the session webhook. Nothing is durable: a crash
 * after the ACK loses the message, and a restart forgets the dedup set.
 */
import { DWClient, type DWClientDownStream } from 'dingtalk-stream';
import type { Agent } from '../lib/agent/port.js';
import { TOPIC_ROBOT } from '../lib/dingtalk/payload.js';

/** DWClient pointed at a configurable gateway (§1.4); everything else is the stock SDK. */
class ConfigurableDWClient extends DWClient {
  constructor(
    opts: { clientId: string; clientSecret: string },
    private readonly gatewayUrl: string,
  ) {
    super(opts);
  }

  override async getEndpoint(): Promise<this> {
    const config = (this as unknown as { config: Record<string, unknown> }).config;
    const response = await fetch(this.gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({
        clientId: config.clientId,
        clientSecret: config.clientSecret,
        ua: config.ua,
        subscriptions: config.subscriptions,
      }),
    });
    if (!response.ok) throw new Error(`gateway answered ${response.status}`);
    const { endpoint, ticket } = (await response.json()) as { endpoint?: string; ticket?: string };
    if (!endpoint || !ticket) throw new Error('endpoint or ticket is null');
    (this as unknown as { dw_url: string }).dw_url = `${endpoint}?ticket=${ticket}`;
    return this;
  }
}

export interface InlineBot {
  stats: { received: number; duplicates: number; replyFailures: number };
  stop(): Promise<void>;
}

/** The robot payload fields the inline pattern reads. */
interface InlinePayload {
  msgId: string;
  sessionWebhook: string;
  senderStaffId?: string;
  senderNick?: string;
  conversationId: string;
  conversationType: string;
  text?: { content?: string };
}

/** Starts the inline bot and resolves once its socket is open. */
export async function startInlineBot(options: {
  gatewayUrl: string;
  clientId: string;
  clientSecret: string;
  agent: Agent;
}): Promise<InlineBot> {
  const client = new ConfigurableDWClient(
    { clientId: options.clientId, clientSecret: options.clientSecret },
    options.gatewayUrl,
  );
  const seen = new Set<string>();
  const stats = { received: 0, duplicates: 0, replyFailures: 0 };
  client.registerCallbackListener(TOPIC_ROBOT, (frame: DWClientDownStream) => {
    stats.received += 1;
    client.socketCallBackResponse(frame.headers.messageId, {}); // ACK on receipt
    const message = JSON.parse(frame.data) as InlinePayload;
    if (seen.has(message.msgId)) {
      stats.duplicates += 1;
      return;
    }
    seen.add(message.msgId);
    void answer(options.agent, message).catch(() => {
      stats.replyFailures += 1;
    });
  });
  await quietly(() => client.connect());
  return {
    stats,
    stop: () => quietly(async () => client.disconnect()),
  };
}

async function answer(agent: Agent, message: InlinePayload): Promise<void> {
  const reply = await agent.respond(
    {
      accountId: 'default',
      messageId: message.msgId,
      sessionKey: `dingtalk:default:dm:${message.senderStaffId ?? ''}`,
      text: message.text?.content?.trim() ?? '',
      media: [],
      sender: { id: message.senderStaffId ?? '', nick: message.senderNick ?? '' },
      conversation: {
        id: message.conversationId,
        type: message.conversationType === '2' ? 'group' : 'dm',
      },
      history: [],
    },
    { signal: AbortSignal.timeout(60_000) },
  );
  const response = await fetch(message.sessionWebhook, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ msgtype: 'text', text: { content: reply.text } }),
  });
  const body = (await response.json()) as { errcode?: number };
  if (body.errcode) throw new Error(`webhook errcode ${body.errcode}`);
}

/** Runs `fn` with the SDK's console.info chatter ("connect success") silenced. */
async function quietly<T>(fn: () => Promise<T>): Promise<T> {
  const info = console.info;
  console.info = () => undefined;
  try {
    return await fn();
  } finally {
    console.info = info;
  }
}
