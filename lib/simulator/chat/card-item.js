// An AI card (replyMode card) as a bot bubble, redrawn as it streams: its phase, a link to its
// JSON, and a Stop button while the card shows one (the click route pushes the card callback).
import { $, api, avatar, chip } from './dom.js';
import { renderMarkdown } from './markdown.js';

const CARD_PHASES = {
  thinking: ['thinking…', 'info'],
  streaming: ['streaming', 'warn'],
  finished: ['finished', 'ok'],
  failed: ['failed', 'bad'],
};

/** Who clicks a card's Stop: the DM's user, or in a group the last sender before the card. */
function clickerFor(conv, card) {
  if (conv.type !== '2' && conv.peer) return conv.peer;
  let sender;
  for (const item of conv.items.values()) {
    if (item.kind === 'in' && item.at <= card.createdAt && item.view.senderStaffId)
      sender = item.view.senderStaffId;
  }
  return sender ?? ($('sender-id').value.trim() || 'manager807');
}

async function stopCard(conv, card, button, page) {
  page.stopping.add(card.outTrackId);
  button.disabled = true;
  try {
    await api(`${cardLink(card)}/click`, {
      body: JSON.stringify({ userId: clickerFor(conv, card), action: 'stop' }),
    });
    page.logFault(`stop clicked on card ${card.outTrackId}`);
  } catch (err) {
    page.stopping.delete(card.outTrackId);
    button.disabled = false;
    page.logFault(`stop failed: ${err.message}`);
  }
}

/** The card's own JSON route (`GET`; its click route is below it), as the feed names it. */
const cardLink = (card) => card.link;

export function cardItem(conv, card, page) {
  const li = document.createElement('li');
  li.className = 'msg bot card';
  li.dataset.outTrackId = card.outTrackId;
  li.dataset.phase = card.phase;
  const body = document.createElement('div');
  body.className = 'body';
  const who = document.createElement('span');
  who.className = 'who';
  who.textContent = `bot · AI card · ${card.updates} update${card.updates === 1 ? '' : 's'}`;
  const bubble = document.createElement('div');
  bubble.className = 'bubble';
  bubble.innerHTML = card.content ? renderMarkdown(card.content) : '<span class="typing">…</span>';
  const status = document.createElement('div');
  status.className = 'status';
  const phase = chip(...(CARD_PHASES[card.phase] ?? [card.phase]));
  phase.classList.add('phase');
  const link = document.createElement('a');
  link.className = 'card-link';
  link.href = cardLink(card);
  link.target = '_blank';
  link.rel = 'noopener';
  link.textContent = 'card JSON';
  status.append(phase, link);
  if (card.showStop && card.state === 'open') {
    const stop = document.createElement('button');
    stop.type = 'button';
    stop.className = 'stop';
    stop.textContent = 'Stop';
    stop.disabled = page.stopping.has(card.outTrackId);
    stop.addEventListener('click', () => stopCard(conv, card, stop, page));
    status.append(stop);
  }
  body.append(who, bubble, status);
  li.append(avatar('B', 'bot'), body);
  return li;
}
