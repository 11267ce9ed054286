// The feed panel: post, correct, filter, and show an entry's location on the map.

import { getLang, t } from './i18n.js';
import { h, formatTime, fullTime, getTimeZone, timeElement, toast } from './util.js';
import { writtenReceived } from './time-format.js';
import { select } from './dialog.js';
import { ANCHOR_KINDS, DISCIPLINES, ENTRY_KINDS, PRIORITIES } from './enums.js';

// The hub's own entry for a change of the map (hub/actions/anchors.py): shown in the reader's
// language, as "Anchor created: LABEL (KIND)" is only its canonical text.
const ANCHOR_CHANGE = /^Anchor (created|moved|deleted): ([\s\S]*) \(([a-z_]+)\)$/;

/** An entry's text as the reader reads it. */
export function entryText(entry) {
  const change = entry.kind === 'info' && !entry.corrects ? ANCHOR_CHANGE.exec(entry.text || '') : null;
  if (!change || !ANCHOR_KINDS.includes(change[3])) return entry.text;
  return t(`feed.anchor_${change[1]}`, { label: change[2], kind: t(`anchor.${change[3]}`) });
}

/**
 * @param {HTMLElement} root  the feed tab panel
 * @param {import('./store.js').IncidentStore} store
 * @param {object} opts
 * @param {boolean} opts.canWrite
 * @param {(payload: object) => Promise<boolean>} opts.post    resolves true once stored
 * @param {(entry: object, text: string, reason: string) => Promise<boolean>} opts.correct
 * @param {() => {promise: Promise<object|null>, cancel: () => void}} opts.pick  map picker
 * @param {(point: object|null, accuracy?: number) => void} [opts.draft]  marks the location
 *   the entry being written will carry (null: none)
 * @param {() => void} [opts.focusMap]  gives the map the focus (picking started by keyboard)
 * @param {(geometry: object) => void} opts.show
 * @param {string} [opts.idPrefix]  before the panel's element ids, when another panel is on the page
 * @param {() => object[]} [opts.pending]  posts written but not sent yet (outbox.js), oldest first
 */
const round6 = (x) => Math.round(x * 1e6) / 1e6;

/** The start of a text, to name what a button acts on. */
export function excerpt(text, length = 60) {
  const flat = String(text || '').replace(/\s+/g, ' ').trim();
  return flat.length > length ? `${flat.slice(0, length - 1)}…` : flat;
}

/**
 * An entry's time: when the hub received it, or "written 10:02, received 10:15 CET" when its
 * author wrote it more than a minute before (a post queued offline, written_at).
 */
export function entryTime(entry) {
  const both = writtenReceived(entry, { lang: getLang(), timeZone: getTimeZone() });
  if (!both) return timeElement(entry.created_at);
  return h(
    'span',
    { class: 'entry-times' },
    h('time', { datetime: entry.written_at, class: 'entry-written', title: fullTime(entry.written_at) }, t('feed.written', { time: both.written })),
    ', ',
    h('time', { datetime: entry.created_at, class: 'entry-received', title: fullTime(entry.created_at) }, t('feed.received', { time: both.received })),
  );
}

export class FeedPanel {
  constructor(root, store, opts) {
    this.root = root;
    this.store = store;
    this.opts = opts;
    this.filters = { discipline: '', kind: '', priority: '' };
    this.location = null;
    this.accuracy = null;
    this.picking = null;
    this.build();
  }

  /** (Re)build the panel, e.g. after a language change. */
  build() {
    const draft = this.text ? { text: this.text.value, kind: this.kind.value, priority: this.priority.value } : null;
    this.nodes = null;
    this.root.replaceChildren();
    if (this.opts.canWrite) {
      this.root.append(this._form());
      if (draft) {
        this.text.value = draft.text;
        this.kind.value = draft.kind;
        this.priority.value = draft.priority;
      }
      this._setLocation(this.location, this.accuracy);
    }
    this.root.append(this._filters());
    this.list = h('ol', { class: 'feed-list', 'aria-live': 'polite', 'aria-relevant': 'additions' });
    this.root.append(this.list);
    this.render();
  }

  _form() {
    this.text = h('textarea', {
      name: 'text',
      rows: 2,
      required: true,
      maxlength: 4000,
      id: 'feed-text',
      'aria-describedby': 'feed-text-hint',
      onkeydown: (e) => {
        // Ctrl+Enter (⌘+Enter on a Mac) posts, as in most chat and mail clients.
        if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
          e.preventDefault();
          this.form.requestSubmit();
        }
      },
    });
    this.kind = select('kind', ENTRY_KINDS, (k) => t(`entry.${k}`), 'info', { id: 'feed-kind' });
    this.priority = select('priority', PRIORITIES, (p) => t(`priority.${p}`), 'normal', { id: 'feed-priority' });
    this.locationLabel = h('span', { class: 'location-label muted', id: 'feed-location', 'aria-live': 'polite' });
    this.pickButton = h('button', { type: 'button', class: 'btn btn-small', id: 'feed-pick', onclick: (e) => this._togglePick(e) }, t('feed.pick'));
    this.hereButton =
      globalThis.navigator && navigator.geolocation
        ? h('button', { type: 'button', class: 'btn btn-small', id: 'feed-here', onclick: () => this._useHere() }, t('feed.here'))
        : null;
    this.clearButton = h(
      'button',
      { type: 'button', class: 'btn btn-small', hidden: true, onclick: () => this._setLocation(null) },
      t('feed.clear_location'),
    );
    this.submit = h('button', { type: 'submit', class: 'btn btn-primary' }, t('feed.post'));
    this.form = h(
      'form',
      { class: 'feed-form', onsubmit: (e) => this._post(e) },
      h('label', { for: 'feed-text', class: 'sr-only' }, t('feed.text')),
      this.text,
      h('span', { id: 'feed-text-hint', class: 'sr-only' }, t('feed.ctrl_enter')),
      h(
        'div',
        { class: 'row' },
        h('label', { for: 'feed-kind' }, t('feed.kind')),
        this.kind,
        h('label', { for: 'feed-priority' }, t('feed.priority')),
        this.priority,
      ),
      h('div', { class: 'row' }, this.pickButton, this.hereButton, this.clearButton, this.locationLabel, h('span', { class: 'spacer' }), this.submit),
    );
    this.text.placeholder = t('feed.text');
    return this.form;
  }

  _filters() {
    const make = (name, values, labelOf) => {
      const el = select(name, ['', ...values], (v) => (v ? labelOf(v) : t('feed.all')), this.filters[name], {
        id: this._id(`filter-${name}`),
        onchange: () => {
          this.filters[name] = el.value;
          this.render();
        },
      });
      return el;
    };
    return h(
      'div',
      { class: 'feed-filters row', role: 'group', 'aria-label': 'filters' },
      h('label', { for: this._id('filter-discipline') }, t('feed.filter.discipline')),
      make('discipline', DISCIPLINES, (d) => t(`disc.${d}`)),
      h('label', { for: this._id('filter-kind') }, t('feed.kind')),
      make('kind', ENTRY_KINDS, (k) => t(`entry.${k}`)),
      h('label', { for: this._id('filter-priority') }, t('feed.priority')),
      make('priority', PRIORITIES, (p) => t(`priority.${p}`)),
    );
  }

  /** An element id, prefixed when two panels share the page (the replay's, replay.js). */
  _id(name) {
    return `${this.opts.idPrefix || ''}${name}`;
  }

  async _post(event) {
    event.preventDefault();
    const text = this.text.value.trim();
    if (!text) return;
    if (this.picking) this.picking.cancel(); // a post ends picking: the place was chosen or not
    this.submit.disabled = true;
    const payload = { text, kind: this.kind.value, priority: this.priority.value };
    if (this.location) payload.location = this.location;
    const ok = await this.opts.post(payload);
    this.submit.disabled = false;
    if (ok) {
      this.text.value = '';
      this.priority.value = 'normal';
      this._setLocation(null);
    }
    // The disabled button lost the focus to the page: give it back where the next one is written.
    this.text.focus();
  }

  /** Put the cursor in the message box (the skip link, after a post). */
  focusText() {
    if (this.text) this.text.focus();
  }

  async _togglePick(event) {
    if (this.picking) {
      this.picking.cancel();
      return;
    }
    this.picking = this.opts.pick();
    this.pickButton.textContent = t('feed.picking');
    this.pickButton.setAttribute('aria-pressed', 'true');
    // A click with no pointer (detail 0) came from the keyboard: the map takes the focus, so
    // that its arrow keys pan and Enter picks its centre.
    if (event && event.detail === 0 && this.opts.focusMap) this.opts.focusMap();
    const point = await this.picking.promise;
    this.picking = null;
    this.pickButton.textContent = t('feed.pick');
    this.pickButton.removeAttribute('aria-pressed');
    if (point) {
      this._setLocation(point);
      if (event && event.detail === 0) this.pickButton.focus();
    }
  }

  /** The device's position (the browser's geolocation), with how precise it says it is. */
  _useHere() {
    this.hereButton.disabled = true;
    navigator.geolocation.getCurrentPosition(
      (position) => {
        this.hereButton.disabled = false;
        const { longitude, latitude, accuracy } = position.coords;
        const point = { type: 'Point', coordinates: [round6(longitude), round6(latitude)] };
        this._setLocation(point, Number.isFinite(accuracy) ? accuracy : null);
      },
      () => {
        this.hereButton.disabled = false;
        toast(t('feed.here_failed'), 'error');
      },
      { enableHighAccuracy: true, timeout: 20000, maximumAge: 30000 },
    );
  }

  _setLocation(point, accuracy = null) {
    this.location = point;
    this.accuracy = point ? accuracy : null;
    this.clearButton.hidden = !point;
    const where = point ? `${point.coordinates[1].toFixed(5)}, ${point.coordinates[0].toFixed(5)}` : '';
    this.locationLabel.textContent = point && this.accuracy != null ? `${where} (±${Math.round(this.accuracy)} m)` : where;
    if (this.opts.draft) this.opts.draft(point, this.accuracy);
  }

  /**
   * Bring the list in line with the store, reusing the nodes of unchanged entries so that an
   * open correction form (and its focus) survives new entries arriving above it.
   */
  render() {
    const corrected = this.store.correctedIds();
    const entries = this.store.feed(this.filters);
    const nodes = new Map();
    const wanted = entries.map((e) => {
      const correction = corrected.get(String(e.id));
      const key = `${e.id}:${correction ? correction.id : ''}`;
      const node = this.nodes && this.nodes.get(key) ? this.nodes.get(key) : this._entry(e, correction);
      nodes.set(key, node);
      return node;
    });
    // Posts waiting for the connection sit on top (the newest entries are), each drawn anew.
    const pending = this.opts.pending ? this.opts.pending() : [];
    wanted.unshift(...pending.slice().reverse().map((item) => this._pending(item)));
    if (!entries.length && !pending.length) wanted.push(h('li', { class: 'muted empty' }, t('feed.empty')));
    this.nodes = nodes;
    let cursor = this.list.firstChild;
    for (const node of wanted) {
      if (node === cursor) cursor = cursor.nextSibling;
      else this.list.insertBefore(node, cursor);
    }
    while (cursor) {
      const next = cursor.nextSibling;
      cursor.remove();
      cursor = next;
    }
  }

  _entry(entry, correction) {
    const kind = entry.kind || 'info';
    const priority = entry.priority || 'normal';
    const author = entry.author || {};
    const classes = ['entry', `entry-${priority}`, correction ? 'entry-corrected' : '', entry.corrects ? 'entry-correction' : '']
      .filter(Boolean)
      .join(' ');
    const li = h(
      'li',
      { class: classes, id: this._id(`entry-${entry.id}`), dataset: { id: entry.id } },
      h(
        'div',
        { class: 'entry-head' },
        entryTime(entry),
        h('span', { class: 'entry-author' }, author.name || '?'),
        author.organisation ? h('span', { class: 'muted' }, author.organisation) : null,
        // The discipline's name (D3 Police, Coordination), not its code: 'coord' means nothing to a reader.
        author.discipline ? h('span', { class: `badge disc disc-${author.discipline}` }, t(`disc.${author.discipline}`)) : null,
        h('span', { class: `badge kind-${kind}` }, t(`entry.${kind}`)),
        priority !== 'normal' ? h('span', { class: `badge prio-${priority}` }, t(`priority.${priority}`)) : null,
        correction ? h('span', { class: 'badge badge-corrected' }, t('feed.corrected')) : null,
      ),
      entry.corrects
        ? h(
            'a',
            { class: 'entry-ref', href: `#${this._id(`entry-${entry.corrects}`)}` },
            `↳ ${t('feed.correction_of')}${entry.reason ? ` — ${t('feed.reason')}: ${entry.reason}` : ''}`,
          )
        : null,
      h('p', { class: 'entry-text' }, entryText(entry)),
    );
    const actions = h('div', { class: 'entry-actions' });
    // Every entry has the same buttons: each names its entry for those who hear or tab to it.
    const about = excerpt(entryText(entry));
    if (entry.location) {
      actions.append(
        h(
          'button',
          { type: 'button', class: 'btn btn-small', 'aria-label': `${t('feed.show_on_map')}: ${about}`, onclick: () => this.opts.show(entry.location) },
          t('feed.show_on_map'),
        ),
      );
      li.classList.add('has-location');
      li.addEventListener('click', (ev) => {
        if (!ev.target.closest('button, a, form')) this.opts.show(entry.location);
      });
    }
    if (correction) {
      actions.append(h('a', { class: 'btn btn-small', href: `#${this._id(`entry-${correction.id}`)}` }, `→ ${t('feed.correction_of')}`));
    }
    if (this.opts.canWrite && !correction) {
      actions.append(
        h(
          'button',
          { type: 'button', class: 'btn btn-small', 'aria-label': `${t('feed.correct')}: ${about}`, onclick: () => this._openCorrect(li, entry) },
          t('feed.correct'),
        ),
      );
    }
    if (actions.childElementCount) li.append(actions);
    return li;
  }

  /** A post written but not sent yet: its text, when it was written, and that it waits. */
  _pending(item) {
    const { payload } = item;
    const priority = payload.priority || 'normal';
    return h(
      'li',
      { class: `entry entry-${priority} entry-pending`, dataset: { clientId: payload.client_id } },
      h(
        'div',
        { class: 'entry-head' },
        payload.written_at
          ? h('time', { datetime: payload.written_at, class: 'entry-written', title: fullTime(payload.written_at) }, t('feed.written', { time: formatTime(payload.written_at) }))
          : null,
        h('span', { class: `badge kind-${payload.kind || 'info'}` }, t(`entry.${payload.kind || 'info'}`)),
        priority !== 'normal' ? h('span', { class: `badge prio-${priority}` }, t(`priority.${priority}`)) : null,
        h('span', { class: 'badge badge-pending' }, t('feed.pending')),
      ),
      h('p', { class: 'entry-text' }, payload.text),
    );
  }

  _openCorrect(li, entry) {
    if (li.querySelector('.correct-form')) return;
    const text = h('textarea', { rows: 2, required: true, maxlength: 4000, 'aria-label': t('feed.text') });
    text.value = entry.text;
    const reason = h('input', { type: 'text', required: true, maxlength: 500, 'aria-label': t('feed.reason'), placeholder: t('feed.reason') });
    const form = h(
      'form',
      {
        class: 'correct-form',
        onsubmit: async (ev) => {
          ev.preventDefault();
          if (await this.opts.correct(entry, text.value.trim(), reason.value.trim())) form.remove();
        },
      },
      text,
      reason,
      h(
        'div',
        { class: 'row' },
        h('button', { type: 'button', class: 'btn', onclick: () => form.remove() }, t('feed.cancel')),
        h('button', { type: 'submit', class: 'btn btn-primary' }, t('feed.send_correction')),
      ),
    );
    li.append(form);
    text.focus();
  }
}
