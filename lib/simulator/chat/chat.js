// The chat page: a DingTalk-like conversation list over the simulator. Messages are injected
// with the control API (POST /__sim/messages); everything shown comes from the live feed
// (GET /__sim/stream, server-sent events): pushed messages with their delivery, ACK,
// redelivery and the outcome the channel reported, every reply in the outbox, and every AI card
// (replyMode card), redrawn in place as it streams, with a Stop button while it shows one.
// All text reaches the DOM through textContent or the escaping markdown renderer.
import { cardItem } from './card-item.js';
import { $, api, avatar, chip } from './dom.js';
import { escapeHtml, renderMarkdown } from './markdown.js';

const state = {
  apps: [],
  demo: false,
  /** key → { key, account, conversationId, type, title, peer, items: Map } */
  conversations: new Map(),
  /** messageId → conversation key */
  messageHome: new Map(),
  replySeqs: new Set(),
  /** outTrackIds whose Stop was clicked (the button stays disabled across redraws). */
  stopping: new Set(),
  active: undefined,
  draft: undefined,
};

const keyOf = (account, conversationId) => `${account}|${conversationId}`;

function conversation(key, init) {
  let conv = state.conversations.get(key);
  if (!conv) {
    conv = { key, items: new Map(), ...init };
    state.conversations.set(key, conv);
  } else {
    for (const [field, value] of Object.entries(init)) if (value) conv[field] ??= value;
  }
  return conv;
}

function onMessage(view) {
  // An EVENT push or a card callback (a click: it shows on its card), not a chat message.
  if (!view.conversationId || !view.conversationType) return;
  const key = keyOf(view.account, view.conversationId);
  const isGroup = view.conversationType === '2';
  const conv = conversation(key, {
    account: view.account,
    conversationId: view.conversationId,
    type: view.conversationType,
    title: isGroup
      ? view.conversationTitle || view.conversationId
      : `DM: ${view.senderNick || view.senderStaffId}`,
    peer: isGroup ? undefined : view.senderStaffId,
  });
  conv.items.set(`in:${view.messageId}`, { kind: 'in', at: view.injectedAt, view });
  state.messageHome.set(view.messageId, key);
  if (view.outcome) schedulePairingRefresh();
  changed(key);
}

/** The DM conversation of an OpenAPI send to users, found by the user's earlier messages. */
function dmKeyFor(account, userId) {
  for (const conv of state.conversations.values()) {
    if (conv.account === account && conv.type === '1' && conv.peer === userId) return conv.key;
  }
  return conversation(keyOf(account, `dm:${userId}`), {
    account,
    conversationId: `dm:${userId}`,
    type: '1',
    title: `DM: ${userId}`,
    peer: userId,
  }).key;
}

function onReply(entry) {
  if (state.replySeqs.has(entry.seq)) return;
  state.replySeqs.add(entry.seq);
  const keys = entry.conversationId
    ? [keyOf(entry.account, entry.conversationId)]
    : (entry.userIds ?? []).map((userId) => dmKeyFor(entry.account, userId));
  for (const key of keys) {
    const conv = conversation(key, {
      account: entry.account,
      conversationId: entry.conversationId,
      type: entry.conversationType,
      title: entry.conversationId,
    });
    conv.items.set(`out:${entry.seq}`, { kind: 'out', at: entry.at, entry });
    changed(key);
  }
}

/** A card lives in its space: a group by openConversationId, a DM by the user's staffId. */
function onCard(view) {
  const key =
    view.space.type === 'IM_GROUP'
      ? conversation(keyOf(view.account, view.space.id), {
          account: view.account,
          conversationId: view.space.id,
          type: '2',
          title: view.space.id,
        }).key
      : dmKeyFor(view.account, view.space.id);
  const conv = state.conversations.get(key);
  conv.items.set(`card:${view.outTrackId}`, { kind: 'card', at: view.createdAt, card: view });
  changed(key);
}

function onConnections(list) {
  const open = list.filter((c) => c.state === 'open');
  const pill = $('link-state');
  pill.textContent = open.length > 0 ? `connected (${open.length})` : 'bot offline';
  pill.className = `pill ${open.length > 0 ? 'up' : 'down'}`;
  pill.dataset.open = String(open.length);
}

let renderQueued = false;
function changed(key) {
  if (!state.active && state.draft === undefined) state.active = key;
  if (renderQueued) return;
  renderQueued = true;
  requestAnimationFrame(() => {
    renderQueued = false;
    renderConversations();
    renderMessages();
  });
}

function renderConversations() {
  const list = $('conversations');
  list.replaceChildren();
  for (const conv of state.conversations.values()) {
    const li = document.createElement('li');
    li.dataset.key = conv.key;
    li.className = conv.key === state.active ? 'active' : '';
    const title = document.createElement('span');
    title.textContent = state.apps.length > 1 ? `${conv.title} · ${conv.account}` : conv.title;
    li.append(avatar(conv.title.replace(/^DM: /, ''), conv.type === '2' ? 'group' : ''), title);
    li.addEventListener('click', () => select(conv.key));
    list.append(li);
  }
  if (state.draft) {
    const li = document.createElement('li');
    li.className = state.active === undefined ? 'active' : '';
    li.textContent =
      state.draft.type === '2' ? `New group: ${state.draft.title}` : 'New DM with the bot';
    list.append(li);
  }
}

const STATE_CHIPS = {
  queued: ['queued (bot offline)', 'warn'],
  delivered: ['delivered', 'info'],
  acked: ['ACKed', 'ok'],
  unacked: ['never ACKed: DingTalk gave up', 'bad'],
  dropped: ['not delivered: no connection', 'bad'],
};

function statusChips(view) {
  const chips = [chip(...(STATE_CHIPS[view.state] ?? [view.state]))];
  if (view.redeliveries > 0) chips.push(chip(`redelivered ×${view.redeliveries}`, 'warn'));
  const outcome = view.outcome;
  if (outcome?.status === 'handled' && outcome.reason === 'pairing_challenge') {
    chips.push(chip('pairing challenge sent', 'info'));
  } else if (outcome?.status === 'handled') {
    chips.push(chip(outcome.reason ? `handled (${outcome.reason})` : 'handled', 'ok'));
  } else if (outcome?.status === 'dropped') {
    const reason = chip(`ignored: ${outcome.reason}`, 'bad');
    reason.classList.add('reason');
    chips.push(reason);
  } else if (outcome?.status === 'failed') {
    const reason = chip(`failed: ${outcome.reason}`, 'bad');
    reason.classList.add('reason');
    chips.push(reason);
  } else if (outcome?.status === 'duplicate') {
    chips.push(chip(`duplicate (${outcome.reason})`));
  }
  return chips;
}

function messageItem(view) {
  const li = document.createElement('li');
  li.className = 'msg mine';
  li.dataset.messageId = view.messageId;
  li.dataset.state = view.state;
  li.dataset.outcome = view.outcome?.status ?? '';
  li.dataset.reason = view.outcome?.reason ?? '';
  const body = document.createElement('div');
  body.className = 'body';
  const who = document.createElement('span');
  who.className = 'who';
  who.textContent = `${view.senderNick ?? ''} (${view.senderStaffId ?? '?'})`;
  const bubble = document.createElement('div');
  bubble.className = 'bubble';
  // DingTalk strips @-mentions from the text and lists them in atUsers: show them again.
  const mentioned = [...(view.atBot ? ['bot'] : []), ...view.atStaffIds];
  const mentions = mentioned
    .map((who) => `<span class="mention">@${escapeHtml(who)}</span> `)
    .join('');
  const text = view.text ?? `[${view.msgtype}]`;
  bubble.innerHTML = mentions + escapeHtml(text).replace(/\n/g, '<br>');
  const status = document.createElement('div');
  status.className = 'status';
  status.append(...statusChips(view));
  body.append(who, bubble, status);
  li.append(avatar(view.senderNick || view.senderStaffId), body);
  return li;
}

function replyItem(entry) {
  const li = document.createElement('li');
  li.className = 'msg bot';
  li.dataset.seq = String(entry.seq);
  li.dataset.via = entry.via;
  const body = document.createElement('div');
  body.className = 'body';
  const who = document.createElement('span');
  who.className = 'who';
  // A markdown title shows in DingTalk's notification and conversation list, not in the bubble.
  const title = entry.msgtype === 'markdown' && entry.title ? ` · “${entry.title}”` : '';
  who.textContent = `bot · ${entry.via === 'openapi' ? 'OpenAPI (paid)' : 'sessionWebhook'} · ${entry.msgtype}${title}`;
  const bubble = document.createElement('div');
  bubble.className = 'bubble';
  bubble.innerHTML =
    entry.msgtype === 'markdown'
      ? renderMarkdown(entry.text)
      : escapeHtml(entry.text).replace(/\n/g, '<br>');
  body.append(who, bubble);
  // Uploaded media the message carries (sampleImageMsg, sampleFile, markdown images by media id).
  for (const a of entry.attachments ?? []) {
    const line = document.createElement('div');
    line.className = 'attachment';
    line.textContent = `📎 ${a.type} ${a.name} · ${a.size} bytes · ${a.mediaId}`;
    body.append(line);
  }
  li.append(avatar('B', 'bot'), body);
  return li;
}

function renderMessages() {
  const list = $('messages');
  const conv = state.conversations.get(state.active);
  const draft = state.active === undefined ? state.draft : undefined;
  $('chat-title').textContent = conv
    ? conv.title
    : draft
      ? 'New conversation'
      : 'Pick or open a conversation';
  $('chat-sub').textContent = conv ? `${conv.conversationId} · account ${conv.account}` : '';
  const isGroup = (conv?.type ?? draft?.type) === '2';
  $('at-bot-row').hidden = !isGroup;
  $('at-others').hidden = !isGroup;
  $('text').disabled = !(conv || draft);
  $('send').disabled = !(conv || draft);
  list.replaceChildren();
  if (!conv) return;
  const items = [...conv.items.values()].sort((a, b) => a.at - b.at);
  for (const item of items) {
    if (item.kind === 'in') list.append(messageItem(item.view));
    else if (item.kind === 'card')
      list.append(cardItem(conv, item.card, { stopping: state.stopping, logFault }));
    else list.append(replyItem(item.entry));
  }
  list.scrollTop = list.scrollHeight;
}

function select(key) {
  state.active = key;
  state.draft = undefined;
  changed(key);
}

async function send(event) {
  event.preventDefault();
  const text = $('text').value;
  if (!text.trim()) return;
  const conv = state.conversations.get(state.active);
  const target = conv ?? state.draft;
  if (!target) return;
  const type = target.type ?? '1';
  const request = {
    conversationType: type,
    sender: {
      staffId: $('sender-id').value.trim() || 'manager807',
      nick: $('sender-nick').value.trim() || undefined,
    },
    text,
    account: conv?.account ?? ($('account').value || undefined),
  };
  if (type === '2') {
    if (conv) request.conversationId = conv.conversationId;
    request.conversationTitle = conv?.title ?? state.draft.title;
    request.atBot = $('at-bot').checked;
    const others = $('at-others')
      .value.split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (others.length > 0) request.atUsers = others;
  }
  try {
    const injected = await api('/__sim/messages', { body: JSON.stringify(request) });
    $('text').value = '';
    state.draft = undefined;
    state.active = keyOf(
      injected.account ?? request.account ?? state.apps[0]?.accountId,
      injected.conversationId,
    );
    const known = state.messageHome.get(injected.messageId);
    if (known) state.active = known;
    changed(state.active);
  } catch (err) {
    logFault(`send failed: ${err.message}`);
  }
}

function openConversation(event) {
  event.preventDefault();
  const type = $('new-type').value;
  const title = $('new-title').value.trim() || '演示群 Demo group 🎉';
  state.draft = { type, title };
  state.active = undefined;
  renderConversations();
  renderMessages();
  $('text').focus();
}

function logFault(text) {
  const li = document.createElement('li');
  li.textContent = `${new Date().toLocaleTimeString()} ${text}`;
  $('fault-log').prepend(li);
}

const FAULTS = {
  async drop() {
    const open = (await api('/__sim/connections')).filter((c) => c.state === 'open');
    for (const c of open)
      await api(`/__sim/connections/${encodeURIComponent(c.id)}/drop`, { method: 'POST' });
    return `dropped ${open.length} connection(s); watch the bot reconnect`;
  },
  async webhook() {
    await api('/__sim/faults', {
      body: JSON.stringify({ webhook: { count: 1, errcode: 300001 } }),
    });
    return 'the next sessionWebhook reply fails with 300001 (session gone)';
  },
  async qps() {
    await api('/__sim/faults', { body: JSON.stringify({ openapi: { count: 3 } }) });
    return 'the next 3 OpenAPI calls get 403 QpsLimit';
  },
};

async function runFault(event) {
  const name = event.target.dataset.fault;
  try {
    logFault(await FAULTS[name]());
  } catch (err) {
    logFault(`${name} failed: ${err.message}`);
  }
}

let pairingTimer;
function schedulePairingRefresh() {
  if (!state.demo) return;
  clearTimeout(pairingTimer);
  pairingTimer = setTimeout(refreshPairings, 100);
}

async function refreshPairings() {
  const list = $('pairings');
  try {
    const { requests } = await api('/__sim/demo/pairings');
    list.replaceChildren();
    if (requests.length === 0)
      list.append(Object.assign(document.createElement('li'), { textContent: 'none' }));
    for (const r of requests) {
      const li = document.createElement('li');
      li.dataset.code = r.code;
      const who = document.createElement('span');
      who.textContent = `${r.userId}${r.nick ? ` (${r.nick})` : ''} · account ${r.account}`;
      const command = document.createElement('code');
      command.className = 'cmd';
      command.textContent = r.command;
      const button = document.createElement('button');
      button.textContent = `Approve ${r.code}`;
      button.addEventListener('click', () => approve(r, button));
      li.append(who, command, button);
      list.append(li);
    }
  } catch (err) {
    list.replaceChildren(Object.assign(document.createElement('li'), { textContent: err.message }));
  }
}

async function approve(request, button) {
  button.disabled = true;
  try {
    const answer = await api('/__sim/demo/pairings/approve', {
      body: JSON.stringify({ account: request.account, code: request.code, notify: true }),
    });
    logFault(answer.lines.join(' '));
  } catch (err) {
    logFault(`approve failed: ${err.message}`);
  }
  refreshPairings();
}

async function start() {
  const { apps, demo } = await api('/__sim/apps');
  state.apps = apps;
  state.demo = demo;
  const select = $('account');
  for (const app of apps) select.append(new Option(app.accountId, app.accountId));
  $('account-row').hidden = apps.length < 2;
  $('pairing-panel').hidden = !demo;
  if (demo) refreshPairings();
  $('composer').addEventListener('submit', send);
  $('new-conversation').addEventListener('submit', openConversation);
  $('new-type').addEventListener('change', () => {
    $('new-title').hidden = $('new-type').value !== '2';
  });
  for (const button of document.querySelectorAll('[data-fault]'))
    button.addEventListener('click', runFault);
  const feed = new EventSource('/__sim/stream');
  feed.addEventListener('message', (e) => onMessage(JSON.parse(e.data)));
  feed.addEventListener('reply', (e) => onReply(JSON.parse(e.data)));
  feed.addEventListener('card', (e) => onCard(JSON.parse(e.data)));
  feed.addEventListener('connections', (e) => onConnections(JSON.parse(e.data)));
  feed.addEventListener('ready', () => {
    document.body.dataset.ready = 'true';
  });
  renderMessages();
}

start().catch((err) => logFault(`the page could not start: ${err.message}`));
