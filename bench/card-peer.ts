/**
 * The peer pattern, for comparison only (never used by the product): what one peer DingTalk
 * bot does with AI cards by default (issue 13: "4 + one call per update"). It creates the card
 * in the "processing" state before asking the agent, sets it to "inputting", sends one
 * `card/streaming` call with the full text per token chunk the agent produces (in order, each
 * after the previous one answered), then a finalizing stream call and a "finished" status.
 * It drives the same simulator routes through the same card client as the product.
 */
import type { Agent, AgentRequest } from '../lib/agent/port.js';
import {
  CARD_CONTENT_KEY,
  type CardApi,
  type CardSpace,
  FlowStatus,
} from '../lib/dingtalk/cards.js';

/** Streams one reply the peer's way; resolves when its card is finished. */
export async function peerCardReply(input: {
  cards: CardApi;
  agent: Agent;
  request: AgentRequest;
  outTrackId: string;
  templateId: string;
  space: CardSpace;
  signal: AbortSignal;
}): Promise<void> {
  const { cards, outTrackId, signal } = input;
  await cards.create(
    outTrackId,
    input.templateId,
    input.space,
    { flowStatus: FlowStatus.processing, [CARD_CONTENT_KEY]: '', config: '{"autoLayout":true}' },
    signal,
  );
  await cards.update(outTrackId, { flowStatus: FlowStatus.inputting }, signal);
  let updates: Promise<void> = Promise.resolve();
  const reply = await input.agent.respond(input.request, {
    signal,
    onText: (text) => {
      updates = updates.then(() => cards.stream(outTrackId, text, { finalize: false }, signal));
    },
  });
  await updates;
  await cards.stream(outTrackId, reply.text, { finalize: true }, signal);
  await cards.update(
    outTrackId,
    { flowStatus: FlowStatus.finished, [CARD_CONTENT_KEY]: reply.text },
    signal,
  );
}
