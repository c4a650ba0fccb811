// DOM helpers shared by the chat page's modules.

/** The element with this id. */
export const $ = (id) => document.getElementById(id);

/** A round avatar with the first letter of `text`. */
export function avatar(text, kind) {
  const span = document.createElement('span');
  span.className = `avatar ${kind ?? ''}`;
  span.textContent = [...(text || '?')].slice(0, 1).join('').toUpperCase();
  return span;
}

/** A small status label. */
export function chip(text, tone) {
  const span = document.createElement('span');
  span.className = `chip ${tone ?? ''}`;
  span.textContent = text;
  return span;
}

/** A JSON call to the simulator (POST when there is a body); throws with its message. */
export async function api(path, init) {
  const res = await fetch(
    path,
    init?.body
      ? { method: 'POST', headers: { 'content-type': 'application/json' }, ...init }
      : init,
  );
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body.message ?? `${res.status} ${res.statusText}`);
  return body;
}
