/**
 * An AI card as the chat page shows it (the `card` event of `GET /__sim/stream`): who it is
 * for, what it shows now and where its full record is. The whole record, with every update in
 * order, is `GET /__sim/cards/<outTrackId>` (the `link`).
 */
import type { SimCard } from './cards.js';

/** What the page draws: `thinking` (open, no text yet), `streaming` (open, text), closed. */
export type CardPhase = 'thinking' | 'streaming' | 'finished' | 'failed';

/** One card's summary on the feed. */
export interface CardView {
  outTrackId: string;
  account: string;
  space: SimCard['space'];
  state: SimCard['state'];
  phase: CardPhase;
  /** The card's current `params.msgContent` (markdown; '' before any text). */
  content: string;
  flowStatus?: string;
  /** `params.showStop === "true"`: the card shows its stop button. */
  showStop: boolean;
  /** How many streaming/data calls the card got. */
  updates: number;
  createdAt: number;
  closedAt?: number;
  /** `GET` this for the full card (`/__sim/cards/<outTrackId>`). */
  link: string;
}

/** The link to one card's JSON record. */
export function cardLink(outTrackId: string): string {
  return `/__sim/cards/${encodeURIComponent(outTrackId)}`;
}

/**
 * The feed's view of a card. An open card with no text is "thinking" (§6.4 flowStatus 1); once
 * text streams in it is "streaming" whatever its status says (the channel streams into a card
 * created as thinking without another status call, card-reply.ts); 3/5 close it.
 */
export function cardView(card: SimCard): CardView {
  const content = card.params.msgContent ?? '';
  const flowStatus = card.params.flowStatus;
  const phase: CardPhase =
    card.state !== 'open' ? card.state : content === '' ? 'thinking' : 'streaming';
  return {
    outTrackId: card.outTrackId,
    account: card.account,
    space: { ...card.space },
    state: card.state,
    phase,
    content,
    ...(flowStatus === undefined ? {} : { flowStatus }),
    showStop: card.params.showStop === 'true',
    updates: card.updates.length,
    createdAt: card.createdAt,
    ...(card.closedAt === undefined ? {} : { closedAt: card.closedAt }),
    link: cardLink(card.outTrackId),
  };
}
