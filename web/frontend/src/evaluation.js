// The Evaluation panel: the incident's exports (logbook PDF in the page's language, feed CSV,
// anchors GeoJSON and KML, the whole archive) and its evaluation points: what went well, what
// must improve, who follows it up and by when. Contributors and managers record points; a point
// is edited, closed or reopened by its author or a manager; viewers read. The hub checks every
// one of these (hub/actions/evaluation.py); the panel only offers what the role may do.

import './evaluation.css';
import { getLang, onLangChange, t } from './i18n.js';
import { api, errorText, formatTime, h, toast, uuid4 } from './util.js';
import { field, openDialog, select } from './dialog.js';
import { EVALUATION_KINDS } from './enums.js';
import { exportLinks, mayChange, mergePoint } from './evaluation-logic.js';

const enc = encodeURIComponent;
// The hub's limits (models/limits.py MAX_EVALUATION_CHARS, MAX_LABEL_CHARS).
const MAX_TEXT = 4000;
const MAX_OWNER = 200;

export class EvaluationPanel {
  /**
   * @param {HTMLElement} root  the Evaluation tab panel
   * @param {import('./store.js').IncidentStore} store
   * @param {{incidentId: string, role: string, userId: string}} opts
   */
  constructor(root, store, { incidentId, role, userId }) {
    this.root = root;
    this.incidentId = incidentId;
    this.who = { role, userId };
    this.canRecord = role === 'contributor' || role === 'manager';
    this.points = [];
    store.subscribe((change) => this._changed(change));
    onLangChange(() => this.build());
    this.build();
  }

  _changed(change) {
    if (change.type === 'reset') this.load();
    else if (change.type === 'event' && change.event.type.startsWith('evaluation.')) this._put(change.event.data);
  }

  async load() {
    try {
      const answer = await api('GET', `/api/incidents/${enc(this.incidentId)}/evaluation`);
      this.points = answer.points;
      this.render();
    } catch (error) {
      toast(errorText(error), 'error');
    }
  }

  _put(point) {
    this.points = mergePoint(this.points, point);
    this.render();
  }

  build() {
    const draft = this.text ? { text: this.text.value, owner: this.owner.value, due: this.due.value, kind: this.kind.value } : null;
    this.root.replaceChildren(
      h('h2', { class: 'sr-only' }, t('eval.title')),
      h('h3', {}, t('eval.exports')),
      h(
        'ul',
        { class: 'eval-exports', id: 'eval-exports' },
        exportLinks(this.incidentId, getLang()).map((link) =>
          h('li', {}, h('a', { href: link.href, download: '', class: `export-${link.key}` }, t(`eval.export.${link.key}`))),
        ),
      ),
      h('h3', {}, t('eval.title')),
      this.canRecord ? this._form() : h('p', { class: 'muted' }, t('eval.readonly')),
    );
    if (draft) Object.entries(draft).forEach(([key, value]) => (this[key].value = value));
    this.list = h('ol', { class: 'eval-list', 'aria-live': 'polite' });
    this.root.append(this.list);
    this.render();
  }

  _form() {
    this.kind = select('kind', EVALUATION_KINDS, (k) => t(`eval.kind.${k}`), 'to_improve', { id: 'eval-kind' });
    this.text = h('textarea', { id: 'eval-text', name: 'text', rows: 3, required: true, maxlength: MAX_TEXT });
    this.owner = h('input', { id: 'eval-owner', name: 'owner', type: 'text', maxlength: MAX_OWNER });
    this.due = h('input', { id: 'eval-due', name: 'due', type: 'date' });
    this.submit = h('button', { type: 'submit', class: 'btn btn-primary' }, t('eval.add'));
    return h(
      'form',
      { class: 'eval-form', onsubmit: (e) => this._record(e) },
      field(t('eval.kind'), this.kind),
      field(t('eval.text'), this.text),
      h('div', { class: 'row' }, field(t('eval.owner'), this.owner), field(t('eval.due'), this.due), this.submit),
    );
  }

  async _record(event) {
    event.preventDefault();
    const text = this.text.value.trim();
    if (!text) return;
    const body = { client_id: uuid4(), kind: this.kind.value, text };
    if (this.owner.value.trim()) body.owner = this.owner.value.trim();
    if (this.due.value) body.due = this.due.value;
    this.submit.disabled = true;
    try {
      const answer = await api('POST', `/api/incidents/${enc(this.incidentId)}/evaluation`, body);
      this._put(answer.point);
      this.text.value = '';
      this.owner.value = '';
      this.due.value = '';
    } catch (error) {
      toast(errorText(error), 'error');
    } finally {
      this.submit.disabled = false;
    }
  }

  async _change(point, changes) {
    try {
      const answer = await api('PATCH', `/api/incidents/${enc(this.incidentId)}/evaluation/${enc(point.id)}`, {
        version: point.version,
        ...changes,
      });
      this._put(answer.point);
    } catch (error) {
      // A conflict: someone changed it first; show theirs, to be reviewed before trying again.
      toast(error.code === 'conflict' ? t('eval.conflict') : errorText(error), 'error');
      if (error.code === 'conflict') this.load();
    }
  }

  async _edit(point) {
    const kind = select('kind', EVALUATION_KINDS, (k) => t(`eval.kind.${k}`), point.kind);
    const text = h('textarea', { name: 'text', rows: 4, required: true, maxlength: MAX_TEXT });
    text.value = point.text;
    const owner = h('input', { name: 'owner', type: 'text', maxlength: MAX_OWNER, value: point.owner || '' });
    const due = h('input', { name: 'due', type: 'date', value: point.due || '' });
    const answer = await openDialog({
      title: t('eval.edit'),
      body: h('div', {}, field(t('eval.kind'), kind), field(t('eval.text'), text), field(t('eval.owner'), owner), field(t('eval.due'), due)),
      actions: [
        { label: t('eval.cancel'), value: 'cancel' },
        { label: t('eval.save'), value: 'save', primary: true },
      ],
      validate: () => Boolean(text.value.trim()),
    });
    if (!answer) return;
    const changes = {};
    if (kind.value !== point.kind) changes.kind = kind.value;
    if (text.value.trim() !== point.text) changes.text = text.value.trim();
    if ((owner.value.trim() || null) !== point.owner) changes.owner = owner.value.trim() || null;
    if ((due.value || null) !== point.due) changes.due = due.value || null;
    if (Object.keys(changes).length) await this._change(point, changes);
  }

  render() {
    if (!this.list) return;
    if (!this.points.length) {
      this.list.replaceChildren(h('li', { class: 'muted' }, t('eval.empty')));
      return;
    }
    this.list.replaceChildren(...this.points.map((point) => this._row(point)));
  }

  _row(point) {
    const closed = point.state === 'closed';
    const follow = [
      point.owner ? `${t('eval.owner')}: ${point.owner}` : null,
      point.due ? `${t('eval.due')}: ${new Date(`${point.due}T12:00:00`).toLocaleDateString()}` : null,
    ].filter(Boolean);
    const author = point.author;
    const actions = mayChange(point, this.who)
      ? h(
          'div',
          { class: 'eval-actions' },
          h('button', { type: 'button', class: 'btn btn-small eval-edit', onclick: () => this._edit(point) }, t('eval.edit')),
          h(
            'button',
            {
              type: 'button',
              class: 'btn btn-small eval-toggle',
              onclick: () => this._change(point, { state: closed ? 'open' : 'closed' }),
            },
            closed ? t('eval.reopen') : t('eval.close'),
          ),
        )
      : null;
    return h(
      'li',
      { class: `eval-point kind-${point.kind} state-${point.state}`, dataset: { id: point.id } },
      h(
        'div',
        {},
        h('span', { class: 'eval-badge' }, t(`eval.kind.${point.kind}`)),
        ' ',
        h('span', { class: 'eval-state' }, t(`eval.state.${point.state}`)),
      ),
      h('p', { class: 'eval-text' }, point.text),
      follow.length ? h('div', { class: 'eval-follow' }, follow.join(' · ')) : null,
      h(
        'div',
        { class: 'eval-meta' },
        `${author.name} — ${author.organisation} (${author.discipline}) · ${formatTime(point.created_at, true)}`,
      ),
      actions,
    );
  }
}
