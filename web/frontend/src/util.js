// Small helpers shared by the pages.

import { getLang, t } from './i18n.js';
import { DEFAULT_TIME_ZONE, formatFull, formatWhen } from './time-format.js';

/** A random UUID v4; crypto.randomUUID needs a secure context, getRandomValues does not. */
export function uuid4() {
  if (globalThis.crypto && typeof globalThis.crypto.randomUUID === 'function') {
    try {
      return globalThis.crypto.randomUUID();
    } catch {
      /* insecure context: fall through */
    }
  }
  const b = globalThis.crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * Create an element: h('button', {class: 'x', onclick: fn, 'aria-label': '…'}, 'text', child).
 * Strings become text nodes, so user data is never parsed as HTML.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value == null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (value === true) el.setAttribute(key, '');
    else el.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child == null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

// The zone the page's times are shown in: the incident's (the page's config, set once by
// app.js), the hub's default elsewhere.
let pageTimeZone = DEFAULT_TIME_ZONE;

/** Show the page's times in `zone` (an IANA name); an unknown name keeps the default. */
export function setTimeZone(zone) {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    pageTimeZone = zone;
  } catch {
    pageTimeZone = DEFAULT_TIME_ZONE;
  }
}

export function getTimeZone() {
  return pageTimeZone;
}

/**
 * A time in the page's zone and language, which it names ("10:02 CET"), with its date when it
 * is not today there (time-format.js); `withDate` shows the date even today.
 */
export function formatTime(iso, withDate = false, opts = {}) {
  return formatWhen(iso, { lang: getLang(), timeZone: pageTimeZone, date: withDate, ...opts });
}

/** The full date, time and zone of `iso`, for a title or a screen reader. */
export function fullTime(iso) {
  return formatFull(iso, { lang: getLang(), timeZone: pageTimeZone });
}

/** A `<time>` element showing `iso` (formatTime), with its full form on hover. */
export function timeElement(iso, withDate = false, opts = {}) {
  return h('time', { datetime: iso || null, title: fullTime(iso) || null }, formatTime(iso, withDate, opts));
}

/** A message for an error `{code, message}` from an ack or an HTTP answer. */
export function errorText(error) {
  if (!error) return t('error.unavailable');
  const key = `error.${error.code}`;
  const text = t(key);
  return text === key ? error.message || error.code : text;
}

/** fetch JSON from the hub (same origin, session cookie); throws `{code, message, status}`. */
export async function api(method, url, body) {
  const init = { method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(url, init);
  } catch (err) {
    throw { code: 'unavailable', message: String(err), status: 0 };
  }
  const data = await res.json().catch(() => null);
  if (!res.ok) {
    const error = (data && data.error) || { code: res.status === 401 ? 'unauthorized' : 'unavailable' };
    throw { ...error, status: res.status };
  }
  return data;
}

const FLASHES_KEPT = 3;
const ACTION_MS = 30000;

/**
 * A transient message at the bottom of the screen (at the top on a phone, app.css, clear of the
 * message box), announced to screen readers; its × dismisses it before it goes by itself. A
 * flash stays until dismissed (the last few of them): the most urgent news must not pass
 * while its reader looked away. `action` ({label, run}) adds a button (Undo) and a longer stay.
 */
export function toast(text, kind = 'info', action = null) {
  let region = document.getElementById('toasts');
  if (!region) {
    region = h('div', { id: 'toasts', class: 'toasts', role: 'status', 'aria-live': 'polite' });
    document.body.append(region);
  }
  const item = h(
    'div',
    { class: `toast toast-${kind}` },
    h('span', { class: 'toast-text' }, text),
    action
      ? h(
          'button',
          {
            type: 'button',
            class: 'btn btn-small toast-action',
            onclick: () => {
              item.remove();
              action.run();
            },
          },
          action.label,
        )
      : null,
    h('button', { type: 'button', class: 'toast-close', 'aria-label': t('toast.dismiss'), onclick: () => item.remove() }, '×'),
  );
  region.append(item);
  if (action) {
    setTimeout(() => item.remove(), ACTION_MS); // time to read it and change one's mind
  } else if (kind === 'flash') {
    const flashes = region.querySelectorAll('.toast-flash');
    for (const old of [...flashes].slice(0, -FLASHES_KEPT)) old.remove();
  } else {
    setTimeout(() => item.remove(), kind === 'error' ? 8000 : 5000);
  }
}

/** The top bar's logout button (base.html): end the session, then go to the login page. */
/** The top bar of every page: its logout, and the Menu that unfolds the links on a phone. */
export function bindTopbar(doc = document) {
  const menu = doc.getElementById('nav-menu');
  const links = doc.getElementById('nav-links');
  if (menu && links) {
    const show = (open) => {
      menu.setAttribute('aria-expanded', String(open));
      links.classList.toggle('nav-open', open);
    };
    menu.addEventListener('click', () => show(menu.getAttribute('aria-expanded') !== 'true'));
    doc.addEventListener('keydown', (event) => {
      if (event.key === 'Escape' && links.classList.contains('nav-open')) {
        show(false);
        menu.focus();
      }
    });
    doc.addEventListener('click', (event) => {
      if (!menu.contains(event.target) && !links.contains(event.target)) show(false);
    });
  }
  const button = doc.getElementById('logout');
  if (!button) return;
  button.addEventListener('click', async () => {
    try {
      await api('DELETE', '/api/session');
    } finally {
      location.assign('/login');
    }
  });
}

/** The page's JSON config from `<script id="config" type="application/json">`, or {}. */
export function readConfig(doc = document) {
  const el = doc.getElementById('config');
  try {
    return el ? JSON.parse(el.textContent) : {};
  } catch {
    return {};
  }
}
