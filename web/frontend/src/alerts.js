// The Alerts panel (BE-Alert): choose perimeters on the map or draw an area, see the audience,
// write per language with each channel's limits and rendering, send through a confirmation that
// repeats what will happen, then follow the alert's state, its CAP messages, update and cancel.
// The hub estimates the audience, renders the channels and counts SMS segments; this panel only
// shows what it answers. Viewers see the alerts; contributors draft; managers send, update and
// cancel (the hub checks every one of these).

import './alerts.css';
import L from './leaflet-global.js';
import { getLang, onLangChange, t } from './i18n.js';
import { api, errorText, formatTime, h, toast } from './util.js';
import { field, openDialog, select } from './dialog.js';
import { ALERT_CHANNELS, ALERT_LANGUAGES, CAP_CATEGORIES, CERTAINTIES, SEVERITIES, URGENCIES } from './enums.js';
import {
  Latest,
  ProgressSamples,
  deliveryView,
  formatDuration,
  handedOver,
  allowedActions,
  areaNames,
  areaPayload,
  changedFields,
  completeInfo,
  draftPayload,
  hasPublicPage,
  isTestOnly,
  languagesOf,
  markerWord,
  perimeters,
  splitMarker,
  toLocalInput,
} from './alert-logic.js';

const ESTIMATE_DELAY_MS = 400;
const PREVIEW_DELAY_MS = 400;
const DEFAULT_HOURS = 6;
const PERSONAL_CHANNELS = ['sms', 'voice', 'email'];
// The field limits of the hub's AlertTextIn (models/shapes.py).
const LIMITS = { headline: 160, description: 4000, instruction: 1000 };
const AREA_STYLE = { color: '#b71c1c', weight: 3, dashArray: '8 6', fillColor: '#e53935', fillOpacity: 0.12 };

const enc = encodeURIComponent;

export class AlertsPanel {
  /**
   * @param {HTMLElement} root  the Alerts tab panel
   * @param {import('./store.js').IncidentStore} store
   * @param {{incidentId: string, role: string, map: L.Map, anchors: import('./map.js').AnchorLayer}} opts
   */
  constructor(root, store, { incidentId, role, map, anchors }) {
    this.root = root;
    this.store = store;
    this.incidentId = incidentId;
    this.role = role;
    this.map = map;
    this.anchors = anchors;
    this.canDraft = role === 'contributor' || role === 'manager';
    this.isManager = role === 'manager';
    this.draft = null; // the form's state while composing; the DOM is rebuilt from it
    this.open = new Set(); // alert ids whose details are shown
    this.samples = new ProgressSamples(); // delivery counts over time: each channel's rate
    this.overlay = null;
    this.drawing = null;
    this.estimates = new Latest(ESTIMATE_DELAY_MS, (answer) => this._estimated(answer), (error) => this._estimated(null, error));
    this.previews = new Latest(PREVIEW_DELAY_MS, (answer) => this._previewed(answer), (error) => this._previewed(null, error));
    store.subscribe((change) => this._changed(change));
    onLangChange(() => this.build());
    // Choosing perimeters on the map: a click on a zone while composing adds or removes it.
    anchors.group.on('click', (e) => this._mapClick(e));
    this.build();
  }

  // ------------------------------------------------------------------------ state from the hub
  _changed(change) {
    switch (change.type) {
      case 'reset':
        this.load();
        if (this.draft) {
          // Keep the form as it is (someone may be typing): only what the snapshot changes.
          this.renderStatus();
          this.renderPerimeters();
          this.requestEstimate();
        } else this.build();
        break;
      case 'incident':
        if (this.draft) this.renderStatus();
        else this.build(); // opened or closed: what may be done changes
        break;
      case 'population-alert':
      case 'population-alerts':
        this.renderList();
        break;
      case 'anchor':
        if (this.draft) this._anchorChanged(change.id);
        this.renderList();
        break;
      default:
    }
  }

  /** The incident's alerts over HTTP: after every snapshot, since a snapshot carries none. */
  async load() {
    try {
      const data = await api('GET', `/api/incidents/${enc(this.incidentId)}/alerts`);
      this.store.setPopulationAlerts(data.alerts || []);
    } catch (error) {
      toast(errorText(error), 'error');
    }
  }

  _replace(alert) {
    if (alert) this.store.upsertPopulationAlert(alert);
    return alert;
  }

  /** Fetch one alert again (after a conflict: someone changed it meanwhile). */
  async _reload(id) {
    try {
      return this._replace((await api('GET', `/api/alerts/${enc(id)}`)).alert);
    } catch {
      return null;
    }
  }

  // ------------------------------------------------------------------------ the panel
  build() {
    const head = h(
      'div',
      { class: 'bea-head' },
      h('h2', {}, t('alerts.title')),
      this.canDraft && !this.draft && !this.closed()
        ? h('button', { type: 'button', id: 'alert-new', class: 'btn btn-primary btn-small', onclick: () => this.startNew() }, t('alerts.new'))
        : null,
    );
    this.composeRoot = h('div', { class: 'bea-compose-root' });
    this.listRoot = h('ol', { class: 'bea-list', 'aria-live': 'polite' });
    fill(this.root, head, this.composeRoot, this.listRoot);
    if (this.draft) this.renderCompose();
    this.renderList();
  }

  closed() {
    return Boolean(this.store.incident && this.store.incident.status === 'closed');
  }

  incidentKind() {
    return (this.store.incident && this.store.incident.kind) || '';
  }

  /** The CAP status the form's alert will carry: an exercise incident always sends Exercise. */
  status() {
    if (!this.draft) return 'Actual';
    if (this.draft.mode === 'update') return this.draft.alert.cap_status;
    return this.incidentKind() === 'exercise' ? 'Exercise' : this.draft.capStatus;
  }

  // ------------------------------------------------------------------------ the list
  renderList() {
    if (!this.listRoot) return;
    const alerts = this.store.populationAlertList();
    fill(this.listRoot,
      ...(alerts.length ? alerts.map((a) => this._card(a)) : [h('li', { class: 'muted' }, t('alerts.none'))]),
    );
  }

  _card(alert) {
    const lang = languagesOf(alert.info)[0];
    const headline = lang ? alert.info[lang].headline : '';
    const allowed = allowedActions(alert, this.role, { closed: this.closed() });
    const busy = this.draft && this.draft.alert && this.draft.alert.id === alert.id;
    const open = this.open.has(alert.id);
    const estimate = alert.estimate || {};
    const card = h(
      'li',
      { class: `bea-card bea-card-${alert.state}`, 'data-alert-id': alert.id },
      h(
        'div',
        { class: 'bea-card-head' },
        h('span', { class: `badge bea-state bea-state-${alert.state}` }, t(`alerts.state.${alert.state}`)),
        statusBadge(alert.cap_status),
        h('strong', { class: 'bea-headline' }, headline),
      ),
      h(
        'div',
        { class: 'muted' },
        `${this._areaText(alert.area)} · ${t('alerts.reached', { n: fmt(estimate.registrations) })} · ${alert.channels.map((c) => t(`alerts.channel.${c}`)).join(', ')}`,
      ),
      h(
        'div',
        { class: 'muted' },
        alert.sent_at ? `${t('alerts.sent_at')} ${formatTime(alert.sent_at, true)}` : `${t('alerts.created_at')} ${formatTime(alert.created_at, true)}`,
        ` · ${t('alerts.expires')} ${formatTime(alert.expires, true)}`,
      ),
    );
    if (open) card.append(this._details(alert));
    card.append(
      h(
        'div',
        { class: 'bea-card-actions' },
        h(
          'button',
          { type: 'button', class: 'btn btn-small bea-toggle', 'aria-expanded': String(open), onclick: () => this._toggle(alert.id) },
          open ? t('alerts.less') : t('alerts.details'),
        ),
        h('button', { type: 'button', class: 'btn btn-small', onclick: () => this.showArea(alert.area && alert.area.geometry, true) }, t('alerts.show_area')),
        allowed.edit && !busy ? h('button', { type: 'button', class: 'btn btn-small bea-edit', onclick: () => this.startEdit(alert, 'edit') }, t('alerts.edit')) : null,
        allowed.send ? h('button', { type: 'button', class: 'btn btn-small btn-danger bea-send', onclick: () => this.send(alert) }, t('alerts.send')) : null,
        allowed.update && !busy ? h('button', { type: 'button', class: 'btn btn-small bea-update', onclick: () => this.startEdit(alert, 'update') }, t('alerts.update')) : null,
        allowed.cancel ? h('button', { type: 'button', class: 'btn btn-small btn-danger bea-cancel', onclick: () => this.cancel(alert) }, t('alerts.cancel_alert')) : null,
      ),
    );
    return card;
  }

  _toggle(id) {
    if (this.open.has(id)) this.open.delete(id);
    else this.open.add(id);
    this.renderList();
  }

  _details(alert) {
    const cap = `/api/alerts/${enc(alert.id)}/cap`;
    const messages = alert.messages || [];
    const progress = alert.progress || {};
    return h(
      'div',
      { class: 'bea-details' },
      messages.length
        ? h(
            'table',
            { class: 'bea-messages' },
            h('caption', { class: 'sr-only' }, t('alerts.messages')),
            h('thead', {}, h('tr', {}, h('th', {}, t('alerts.identifier')), h('th', {}, t('alerts.msg_type')), h('th', {}, t('alerts.time')))),
            h(
              'tbody',
              {},
              messages.map((m) =>
                h(
                  'tr',
                  {},
                  h('td', {}, h('a', { href: `${cap}?identifier=${enc(m.identifier)}`, target: '_blank', rel: 'noopener' }, m.identifier)),
                  h('td', {}, t(`alerts.msg.${m.msg_type}`)),
                  h('td', {}, formatTime(m.sent, true)),
                ),
              ),
            ),
          )
        : h('p', { class: 'muted' }, t('alerts.no_messages')),
      Object.keys(progress).length
        ? h(
            'ul',
            { class: 'bea-progress' },
            Object.entries(progress).map(([channel, p]) => {
              const view = deliveryView(p, this.samples.add(`${alert.id}:${channel}`, handedOver(p)));
              // the rate and time left while some are queued; once none are, that it is done
              const pace =
                view.left === 0
                  ? [t('alerts.done')]
                  : [
                      view.rate ? t('alerts.rate', { rate: fmt(Math.round(view.rate)) }) : null,
                      view.left === null ? null : t('alerts.left', { time: formatDuration(view.left) }),
                    ].filter(Boolean);
              return h(
                'li',
                {},
                h('span', { class: 'bea-progress-channel' }, t(`alerts.channel.${channel}`)),
                h('progress', { max: String(Math.max(view.total, 1)), value: String(view.done), 'aria-label': t(`alerts.channel.${channel}`) }),
                h('span', {}, t('alerts.progress', { queued: fmt(p.queued), sent: fmt(p.sent), delivered: fmt(p.delivered), failed: fmt(p.failed) })),
                pace.length ? h('span', { class: 'bea-progress-pace' }, pace.join(' · ')) : null,
              );
            }),
          )
        : null,
      h(
        'p',
        { class: 'bea-links' },
        messages.length ? h('a', { href: cap, target: '_blank', rel: 'noopener', class: 'bea-cap-link' }, t('alerts.cap_document')) : null,
        hasPublicPage(alert) ? h('a', { href: `/alerts/${enc(alert.id)}`, target: '_blank', rel: 'noopener', class: 'bea-public-link' }, t('alerts.public_page')) : null,
      ),
      h(
        'dl',
        { class: 'bea-info' },
        languagesOf(alert.info).flatMap((lang) => [
          h('dt', {}, t(`alerts.lang.${lang}`)),
          h('dd', {}, h('strong', {}, alert.info[lang].headline), h('div', {}, alert.info[lang].instruction)),
        ]),
      ),
    );
  }

  _areaText(area) {
    return areaNames(area, this.store.anchors, { drawn: t('alerts.drawn_area'), unnamed: '—' }).join(' + ');
  }

  // ------------------------------------------------------------------------ composing
  startNew() {
    const expires = new Date(Date.now() + DEFAULT_HOURS * 3600 * 1000).toISOString();
    const lang = ALERT_LANGUAGES.includes(getLang()) ? getLang() : 'fr';
    this.draft = {
      mode: 'new',
      alert: null,
      anchorIds: [],
      geometry: null,
      langs: [lang],
      info: {},
      event: '',
      category: 'Safety',
      urgency: 'Immediate',
      severity: 'Severe',
      certainty: 'Likely',
      expires: toLocalInput(expires),
      channels: ['sms', 'voice', 'email', 'public'],
      capStatus: 'Actual',
      estimate: null,
      preview: null,
    };
    this.build();
    this.requestPreview();
  }

  /** Load an alert into the form: a draft to edit, or a sent alert to update. */
  startEdit(alert, mode) {
    const drawn = !(alert.area.anchor_ids || []).length;
    this.draft = {
      mode,
      alert,
      anchorIds: [...(alert.area.anchor_ids || [])],
      geometry: drawn ? alert.area.geometry : null,
      langs: languagesOf(alert.info),
      info: JSON.parse(JSON.stringify(alert.info)),
      event: alert.event,
      category: alert.category,
      urgency: alert.urgency,
      severity: alert.severity,
      certainty: alert.certainty,
      expires: toLocalInput(alert.expires),
      channels: [...alert.channels],
      capStatus: alert.cap_status === 'Test' ? 'Test' : 'Actual',
      estimate: null,
      preview: null,
    };
    this.build();
    this.requestEstimate(true);
    this.requestPreview(true);
    this.root.scrollTop = 0;
  }

  close() {
    this._stopDrawing();
    this.estimates.cancel();
    this.previews.cancel();
    this.draft = null;
    this.showArea(null);
    this.build();
  }

  renderCompose() {
    const d = this.draft;
    const titles = { new: 'alerts.new', edit: 'alerts.edit_draft', update: 'alerts.update_title' };
    this.statusRoot = h('div', { class: 'bea-status-root' });
    this.perimetersRoot = h('div', { class: 'bea-perimeters' });
    this.estimateRoot = h('div', { class: 'bea-estimate', 'aria-live': 'polite' });
    this.langsRoot = h('div', { class: 'bea-langs' });
    const langBoxes = h(
      'div',
      { class: 'row bea-lang-choice' },
      ALERT_LANGUAGES.map((lang) =>
        h(
          'label',
          { class: 'bea-check' },
          h('input', { type: 'checkbox', name: 'alert-lang', value: lang, checked: d.langs.includes(lang), onchange: (e) => this._toggleLang(lang, e.target.checked) }),
          ` ${t(`alerts.lang.${lang}`)}`,
        ),
      ),
    );
    const fieldset = (legend, ...children) => h('fieldset', { class: 'bea-fieldset' }, h('legend', {}, legend), ...children);
    const bind = (control, key) => {
      control.addEventListener('change', () => {
        d[key] = control.value;
      });
      return control;
    };
    const event = h('input', { type: 'text', name: 'event', id: 'alert-event', required: true, maxlength: 200, value: d.event });
    event.addEventListener('input', () => {
      d.event = event.value;
    });
    const expires = bind(h('input', { type: 'datetime-local', name: 'expires', id: 'alert-expires', required: true, value: d.expires }), 'expires');
    const channels = h(
      'div',
      { class: 'row' },
      ALERT_CHANNELS.map((c) =>
        h(
          'label',
          { class: 'bea-check' },
          h('input', {
            type: 'checkbox',
            name: 'alert-channel',
            value: c,
            checked: d.channels.includes(c),
            onchange: (e) => {
              d.channels = ALERT_CHANNELS.filter((x) => (x === c ? e.target.checked : d.channels.includes(x)));
            },
          }),
          ` ${t(`alerts.channel.${c}`)}`,
        ),
      ),
    );
    const buttons = h('div', { class: 'row bea-form-actions' }, h('button', { type: 'button', class: 'btn', onclick: () => this.close() }, t('alerts.discard')), h('span', { class: 'spacer' }));
    if (d.mode === 'update') {
      buttons.append(h('button', { type: 'submit', class: 'btn btn-danger', id: 'alert-send-update', value: 'update' }, t('alerts.send_update')));
    } else {
      buttons.append(h('button', { type: 'submit', class: 'btn', id: 'alert-save', value: 'save' }, t('alerts.save_draft')));
      if (this.isManager) buttons.append(h('button', { type: 'submit', class: 'btn btn-primary', id: 'alert-send', value: 'send' }, t('alerts.send')));
    }
    this.form = h(
      'form',
      { class: 'bea-compose', id: 'alert-form', novalidate: true, onsubmit: (e) => this._submit(e) },
      (this.formTitle = h('h3', {}, t(titles[d.mode]))),
      this.statusRoot,
      fieldset(t('alerts.area'), h('p', { class: 'muted' }, t('alerts.area_help')), this.perimetersRoot, this.estimateRoot),
      fieldset(t('alerts.texts'), langBoxes, this.langsRoot),
      fieldset(
        t('alerts.cap'),
        field(t('alerts.event'), event),
        h(
          'div',
          { class: 'bea-grid' },
          field(t('alerts.category'), bind(select('category', CAP_CATEGORIES, (v) => t(`alerts.category.${v}`), d.category), 'category')),
          field(t('alerts.urgency'), bind(select('urgency', URGENCIES, (v) => t(`alerts.urgency.${v}`), d.urgency), 'urgency')),
          field(t('alerts.severity'), bind(select('severity', SEVERITIES, (v) => t(`alerts.severity.${v}`), d.severity), 'severity')),
          field(t('alerts.certainty'), bind(select('certainty', CERTAINTIES, (v) => t(`alerts.certainty.${v}`), d.certainty), 'certainty')),
        ),
        field(t('alerts.expires'), expires),
        h('div', { class: 'field' }, h('span', { class: 'bea-label' }, t('alerts.channels')), channels),
      ),
      buttons,
    );
    fill(this.composeRoot, this.form);
    this.renderStatus();
    this.renderPerimeters();
    this.renderEstimate();
    this.renderLangs();
    if (d.estimate && d.estimate.area) this.showArea(d.estimate.area.geometry);
    else if (d.geometry) this.showArea(d.geometry);
  }

  /** The CAP status in red when it is Exercise or Test, with the word every text starts with. */
  renderStatus() {
    const d = this.draft;
    const status = this.status();
    const test = isTestOnly(status);
    const box = h('div', { class: `bea-status ${test ? 'bea-status-test' : 'bea-status-actual'}`, id: 'alert-status', role: test ? 'alert' : null });
    if (d.mode !== 'update' && this.incidentKind() !== 'exercise') {
      const chooser = select('cap_status', ['Actual', 'Test'], (v) => t(`alerts.status.${v}`), d.capStatus, { id: 'alert-cap-status' });
      chooser.addEventListener('change', () => {
        d.capStatus = chooser.value;
        this.renderStatus();
        this.requestEstimate();
        this.requestPreview();
      });
      box.append(field(t('alerts.status'), chooser));
    } else {
      box.append(h('div', { class: 'bea-status-name' }, `${t('alerts.status')}: `, h('strong', {}, t(`alerts.status.${status}`))));
    }
    if (test) {
      box.append(
        h('p', {}, h('strong', {}, t('alerts.test_only'))),
        h(
          'p',
          {},
          `${t('alerts.marker_note')} `,
          d.langs.length
            ? d.langs.flatMap((lang, i) => [i ? ', ' : '', h('span', { class: 'bea-marker' }, markerWord(status, lang)), ` (${lang.toUpperCase()})`])
            : '—',
        ),
      );
    } else {
      box.append(h('p', {}, t('alerts.actual_note')));
    }
    fill(this.statusRoot, box);
  }

  renderPerimeters() {
    const d = this.draft;
    const zones = perimeters(this.store.anchors.values());
    const drawButton = this.drawing
      ? h('button', { type: 'button', class: 'btn btn-small', onclick: () => this._stopDrawing() }, t('alerts.stop_drawing'))
      : h('button', { type: 'button', class: 'btn btn-small', id: 'alert-draw', onclick: () => this.startDrawing() }, d.geometry ? t('alerts.redraw') : t('alerts.draw'));
    fill(this.perimetersRoot,
      zones.length
        ? h(
            'ul',
            { class: 'bea-zone-list' },
            zones.map((a) =>
              h(
                'li',
                {},
                h(
                  'label',
                  { class: 'bea-check' },
                  h('input', { type: 'checkbox', name: 'perimeter', value: a.id, checked: d.anchorIds.includes(a.id), onchange: (e) => this.togglePerimeter(a.id, e.target.checked) }),
                  ' ',
                  h('span', { class: `bea-zone bea-zone-${a.kind}`, 'aria-hidden': 'true' }),
                  `${a.label || '—'} `,
                  h('span', { class: 'muted' }, t(`anchor.${a.kind}`)),
                ),
              ),
            ),
          )
        : h('p', { class: 'muted' }, t('alerts.no_perimeters')),
      h(
        'div',
        { class: 'row' },
        drawButton,
        d.geometry ? h('span', { class: 'bea-drawn' }, t('alerts.drawn_area')) : null,
        d.geometry ? h('button', { type: 'button', class: 'btn btn-small', onclick: () => this.setDrawn(null) }, t('alerts.clear_area')) : null,
      ),
      this.drawing ? h('p', { class: 'muted' }, t('alerts.drawing_help')) : null,
    );
  }

  renderEstimate() {
    const d = this.draft;
    const e = d.estimate;
    if (!areaPayload(d)) {
      fill(this.estimateRoot, h('p', { class: 'muted' }, t('alerts.choose_area')));
      return;
    }
    if (!e || e.loading) {
      fill(this.estimateRoot, h('p', { class: 'muted' }, t('alerts.estimating')));
      return;
    }
    if (e.error) {
      fill(this.estimateRoot, h('p', { class: 'bea-error' }, explain(e.error)));
      return;
    }
    fill(this.estimateRoot,
      h(
        'div',
        {},
        h('span', { class: 'bea-area-name' }, `${this._areaText(e.area)}: `),
        h('strong', { class: 'bea-total' }, fmt(e.estimate.registrations)),
        ` ${t('alerts.registrations')}`,
        e.test_only ? h('span', { class: 'badge bea-test-only' }, t('alerts.test_audience')) : null,
      ),
      audienceTable(e.estimate),
    );
  }

  renderLangs() {
    const d = this.draft;
    this.langBoxes = new Map();
    fill(this.langsRoot,
      ...d.langs.map((lang) => {
        const text = d.info[lang] || (d.info[lang] = { headline: '', description: '', instruction: '' });
        const part = (key, rows) => {
          const id = `alert-${lang}-${key}`;
          const control = rows
            ? h('textarea', { id, name: `${lang}-${key}`, rows, maxlength: LIMITS[key], required: true })
            : h('input', { id, name: `${lang}-${key}`, type: 'text', maxlength: LIMITS[key], required: true });
          control.value = text[key] || '';
          const count = h('span', { class: 'bea-count muted' });
          const counted = () => {
            count.textContent = `${control.value.length}/${LIMITS[key]}`;
          };
          counted();
          control.addEventListener('input', () => {
            text[key] = control.value;
            counted();
            this.requestPreview();
          });
          return h('div', { class: 'field' }, h('label', { for: id }, t(`alerts.${key}`), ' ', count), control);
        };
        const channels = h('div', { class: 'bea-channels', 'aria-live': 'polite' });
        this.langBoxes.set(lang, channels);
        return h(
          'fieldset',
          { class: 'bea-lang', 'data-lang': lang, lang: lang },
          h('legend', {}, t(`alerts.lang.${lang}`)),
          part('headline', 0),
          part('description', 3),
          part('instruction', 2),
          channels,
        );
      }),
    );
    this.renderPreviews();
  }

  /** Each language's channels as the hub renders them: SMS segments always in view. */
  renderPreviews() {
    const d = this.draft;
    const status = this.status();
    for (const [lang, box] of this.langBoxes) {
      const rendered = d.preview && d.preview.languages && d.preview.languages[lang];
      const text = d.info[lang];
      const complete = completeInfo({ [lang]: text })[lang];
      if (!complete) {
        fill(box, h('p', { class: 'muted' }, t('alerts.write_all')));
        continue;
      }
      if (!rendered) {
        fill(box, h('p', { class: d.previewError ? 'bea-error' : 'muted' }, d.previewError ? explain(d.previewError) : t('alerts.rendering')));
        continue;
      }
      // While the next rendering is on its way, the last one stays, marked as not current.
      const current = JSON.stringify(d.previewOf && d.previewOf[lang]) === JSON.stringify(complete);
      const sms = rendered.sms;
      const limit = sms.encoding === 'GSM-7' ? t('alerts.limit_gsm') : t('alerts.limit_ucs');
      box.classList.toggle('bea-stale', !current);
      fill(box,
        !current && d.previewError ? h('p', { class: 'bea-error' }, explain(d.previewError)) : null,
        h(
          'div',
          { class: `bea-sms-count${sms.segments > 1 ? ' bea-multi' : ''}` },
          h('strong', {}, t('alerts.channel.sms')),
          ': ',
          h('span', { class: 'bea-segments' }, t(sms.segments === 1 ? 'alerts.segment' : 'alerts.segments', { n: sms.segments })),
          ` · ${sms.encoding} · ${t('alerts.units', { n: sms.units })}`,
        ),
        h('p', { class: 'muted bea-limit' }, limit),
        marked('div', 'bea-rendered bea-sms-text', sms.text, status, lang),
        h('details', { class: 'bea-preview' }, h('summary', {}, t('alerts.channel.voice')), marked('div', 'bea-rendered', rendered.voice.text, status, lang)),
        h(
          'details',
          { class: 'bea-preview' },
          h('summary', {}, t('alerts.channel.email')),
          marked('div', 'bea-rendered bea-subject', rendered.email.subject, status, lang),
          marked('div', 'bea-rendered', rendered.email.body, status, lang),
        ),
      );
    }
  }

  _toggleLang(lang, on) {
    const d = this.draft;
    d.langs = ALERT_LANGUAGES.filter((l) => (l === lang ? on : d.langs.includes(l)));
    this.renderLangs();
    this.renderStatus();
    this.requestPreview();
  }

  togglePerimeter(id, on) {
    const d = this.draft;
    const ids = d.anchorIds.filter((x) => x !== id);
    if (on) ids.push(id);
    d.anchorIds = ids;
    if (ids.length) d.geometry = null;
    this._stopDrawing();
    this.renderPerimeters();
    this.requestEstimate();
  }

  setDrawn(geometry) {
    const d = this.draft;
    if (!d) return;
    d.geometry = geometry;
    if (geometry) d.anchorIds = [];
    this.renderPerimeters();
    this.showArea(geometry);
    this.requestEstimate();
  }

  _anchorChanged(id) {
    const d = this.draft;
    if (!d.anchorIds.includes(id)) {
      this.renderPerimeters();
      return;
    }
    if (!this.store.anchors.has(id)) d.anchorIds = d.anchorIds.filter((x) => x !== id);
    this.renderPerimeters();
    this.requestEstimate(); // the perimeter moved, grew or went: the audience changes
  }

  _mapClick(e) {
    if (!this.draft || this.root.hidden || this.drawing) return;
    const layer = e.propagatedFrom || e.layer;
    const anchor = layer && layer.anchorId && this.store.anchors.get(layer.anchorId);
    if (!anchor || !perimeters([anchor]).length) return;
    this.map.closePopup();
    this.togglePerimeter(anchor.id, !this.draft.anchorIds.includes(anchor.id));
  }

  // ------------------------------------------------------------------------ drawing an area
  startDrawing() {
    if (this.drawing || !this.map.pm) return;
    const map = this.map;
    const done = (geometry) => {
      map.off('pm:create', onCreate);
      map.off('pm:drawend', onEnd);
      map.pmAlertArea = false; // map.js: drawings are anchors again
      this.drawing = null;
      if (this.draft) {
        if (geometry) this.setDrawn(geometry);
        else this.renderPerimeters();
      }
    };
    const onCreate = ({ layer }) => {
      const geometry = layer.toGeoJSON().geometry;
      map.removeLayer(layer);
      done(geometry);
    };
    // Escape or the toolbar ends the drawing without a shape; a finished shape also ends it,
    // in either order with its pm:create: look once the current events are through.
    const onEnd = () => setTimeout(() => this.drawing && done(null), 0);
    map.pmAlertArea = true;
    map.on('pm:create', onCreate);
    map.on('pm:drawend', onEnd);
    this.drawing = { stop: () => map.pm.disableDraw() };
    map.pm.enableDraw('Polygon', { snappable: false, pathOptions: AREA_STYLE, templineStyle: AREA_STYLE, hintlineStyle: { ...AREA_STYLE, dashArray: '4 4' } });
    this.renderPerimeters();
  }

  _stopDrawing() {
    if (this.drawing) this.drawing.stop();
  }

  /** The alert's area on the map (null removes it); `fly` brings it into view. */
  showArea(geometry, fly = false) {
    if (this.overlay) this.overlay.remove();
    this.overlay = null;
    if (!geometry) return;
    this.overlay = L.geoJSON(geometry, { style: () => AREA_STYLE, interactive: false, pmIgnore: true, className: 'bea-area' }).addTo(this.map);
    if (fly) {
      const bounds = this.overlay.getBounds();
      if (bounds.isValid()) this.map.flyToBounds(bounds, { maxZoom: 16, padding: [40, 40] });
    }
  }

  // ------------------------------------------------------------------------ asking the hub
  _chosenStatus() {
    return this.status() === 'Test' ? 'Test' : 'Actual';
  }

  requestEstimate(now = false) {
    const d = this.draft;
    const area = areaPayload(d);
    if (!area) {
      this.estimates.cancel();
      d.estimate = null;
      this.renderEstimate();
      this.showArea(null);
      return;
    }
    d.estimate = { loading: true };
    this.renderEstimate();
    const body = { area, cap_status: this._chosenStatus() };
    this.estimates.run(() => api('POST', `/api/incidents/${enc(this.incidentId)}/alerts/estimate`, body));
    if (now) this.estimates.flush();
  }

  _estimated(answer, error) {
    if (!this.draft) return;
    this.draft.estimate = answer || { error };
    this.renderEstimate();
    if (answer && answer.area) this.showArea(answer.area.geometry);
  }

  requestPreview(now = false) {
    const d = this.draft;
    const info = completeInfo(Object.fromEntries(d.langs.map((l) => [l, d.info[l] || {}])));
    if (!Object.keys(info).length) {
      this.previews.cancel();
      this.renderPreviews();
      return;
    }
    const body = { info, cap_status: this._chosenStatus() };
    this.previews.run(async () => ({ info, answer: await api('POST', `/api/incidents/${enc(this.incidentId)}/alerts/preview`, body) }));
    this.renderPreviews();
    if (now) this.previews.flush();
  }

  _previewed(result, error) {
    const d = this.draft;
    if (!d) return;
    d.previewError = error || null;
    if (result) {
      d.preview = result.answer;
      d.previewOf = result.info;
    }
    this.renderPreviews();
  }

  // ------------------------------------------------------------------------ writes
  _values() {
    const d = this.draft;
    return {
      ...d,
      info: Object.fromEntries(d.langs.map((l) => [l, d.info[l] || {}])),
    };
  }

  /** What is missing before the form can be stored, or null. */
  _problem(body) {
    const d = this.draft;
    if (!body.area) return t('alerts.need_area');
    const written = Object.keys(body.info);
    if (!d.langs.length || written.length !== d.langs.length) return t('alerts.need_texts');
    if (!body.event) return t('alerts.need_event');
    if (!body.channels.length) return t('alerts.need_channel');
    if (!body.expires || new Date(body.expires).getTime() <= Date.now()) return t('alerts.need_expires');
    return null;
  }

  async _submit(ev) {
    ev.preventDefault();
    const action = ev.submitter ? ev.submitter.value : 'save';
    const body = draftPayload(this._values());
    const problem = this._problem(body);
    if (problem) {
      toast(problem, 'error');
      return;
    }
    const buttons = [...this.form.querySelectorAll('button')];
    buttons.forEach((b) => {
      b.disabled = true;
    });
    try {
      if (action === 'update') await this._sendUpdate(body);
      else {
        const alert = await this._saveDraft(body);
        if (alert && action === 'send') {
          if (await this.send(alert)) this.close();
        } else if (alert) {
          toast(t('alerts.saved'));
          this.close();
          this.open.add(alert.id);
          this.renderList();
        }
      }
    } finally {
      buttons.forEach((b) => {
        b.disabled = false;
      });
    }
  }

  async _saveDraft(body) {
    const d = this.draft;
    try {
      if (d.mode === 'edit') {
        const fields = { ...body, version: d.alert.version };
        const data = await api('PATCH', `/api/alerts/${enc(d.alert.id)}`, fields);
        d.alert = this._replace(data.alert);
      } else {
        const data = await api('POST', `/api/incidents/${enc(this.incidentId)}/alerts`, body);
        d.alert = this._replace(data.alert);
        d.mode = 'edit'; // stored: the form now edits that draft (if the send is not confirmed)
        this.formTitle.textContent = t('alerts.edit_draft');
      }
      return d.alert;
    } catch (error) {
      await this._failed(error, d.alert);
      return null;
    }
  }

  async _failed(error, alert) {
    toast(error.code === 'conflict' ? t('alerts.conflict') : explain(error), 'error');
    if (error.code === 'conflict' && alert) {
      const fresh = await this._reload(alert.id);
      if (fresh && this.draft && this.draft.alert && this.draft.alert.id === fresh.id) this.draft.alert = fresh;
    }
  }

  /**
   * The audience of an area now (registrations come and go): a stored area is counted by its
   * geometry, since the hub keeps an alert's area as drafted whatever its anchors became.
   */
  async _audience(area, capStatus) {
    const asked = area.geometry ? { geometry: area.geometry } : area;
    try {
      return await api('POST', `/api/incidents/${enc(this.incidentId)}/alerts/estimate`, {
        area: asked,
        cap_status: capStatus === 'Test' ? 'Test' : 'Actual',
      });
    } catch (error) {
      toast(explain(error), 'error');
      return null;
    }
  }

  /** Send a stored draft after the manager confirms what it is, where and to whom. */
  async send(alert) {
    const fresh = await this._audience(alert.area, alert.cap_status);
    if (!fresh) return false;
    const ok = await this._confirm('send', alert, alert.area, fresh.estimate, alert);
    if (!ok) return false;
    try {
      const data = await api('POST', `/api/alerts/${enc(alert.id)}/send`, { version: alert.version });
      this._replace(data.alert);
      this.open.add(alert.id);
      this.renderList();
      toast(t('alerts.sent_toast'));
      return true;
    } catch (error) {
      await this._failed(error, alert);
      return false;
    }
  }

  async _sendUpdate(body) {
    const alert = this.draft.alert;
    const changed = changedFields(alert, body);
    if (!Object.keys(changed).length) {
      toast(t('alerts.unchanged'), 'error');
      return;
    }
    const fresh = await this._audience(changed.area || alert.area, alert.cap_status);
    if (!fresh) return;
    const area = changed.area ? fresh.area : alert.area;
    const after = { ...alert, ...body, info: body.info, channels: body.channels };
    if (!(await this._confirm('update', alert, area, fresh.estimate, after))) return;
    try {
      const data = await api('POST', `/api/alerts/${enc(alert.id)}/update`, { version: alert.version, ...changed });
      this._replace(data.alert);
      this.open.add(alert.id);
      toast(t('alerts.updated_toast'));
      this.close();
    } catch (error) {
      await this._failed(error, alert);
    }
  }

  async cancel(alert) {
    if (!(await this._confirm('cancel', alert, alert.area, alert.estimate, alert))) return;
    try {
      const data = await api('POST', `/api/alerts/${enc(alert.id)}/cancel`, { version: alert.version });
      this._replace(data.alert);
      this.open.add(alert.id);
      this.renderList();
      toast(t('alerts.cancelled_toast'));
    } catch (error) {
      await this._failed(error, alert);
    }
  }

  /**
   * The confirmation before a CAP message goes out: the area, the audience by channel and
   * language, the status (Exercise and Test in red, with their marker), channels and languages.
   */
  async _confirm(step, alert, area, estimate, content) {
    const status = alert.cap_status;
    const test = isTestOnly(status);
    const langs = languagesOf(content.info);
    const first = langs[0];
    const rows = [
      [t('alerts.area'), h('span', { class: 'bea-confirm-area' }, this._areaText(area))],
      [
        t('alerts.audience'),
        h(
          'div',
          { class: 'bea-confirm-audience' },
          h('strong', { class: 'bea-total' }, fmt(estimate && estimate.registrations)),
          ` ${t('alerts.registrations')}`,
          test ? h('span', { class: 'badge bea-test-only' }, t('alerts.test_audience')) : null,
          estimate ? audienceTable(estimate) : null,
        ),
      ],
      [
        t('alerts.status'),
        h(
          'div',
          { class: test ? 'bea-confirm-status bea-status-test' : 'bea-confirm-status' },
          h('strong', {}, t(`alerts.status.${status}`)),
          ...(test ? [' — ', t('alerts.marker_note'), ' ', ...langs.flatMap((l, i) => [i ? ', ' : '', h('span', { class: 'bea-marker' }, markerWord(status, l))])] : []),
        ),
      ],
      [t('alerts.channels'), content.channels.map((c) => t(`alerts.channel.${c}`)).join(', ')],
      [t('alerts.languages'), langs.map((l) => t(`alerts.lang.${l}`)).join(', ')],
      [t('alerts.headline'), first ? content.info[first].headline : ''],
    ];
    if (step === 'cancel') rows.push([t('alerts.msg_type'), t('alerts.msg.Cancel')]);
    const verb = { send: 'alerts.confirm_send', update: 'alerts.confirm_update', cancel: 'alerts.confirm_cancel' }[step];
    const answer = await openDialog({
      title: t(`${verb}.title`),
      className: `dialog-alert-confirm${test ? ' is-test' : ''}`,
      body: h(
        'div',
        {},
        test ? h('p', { class: 'bea-status bea-status-test' }, h('strong', {}, t(`alerts.status.${status}`).toUpperCase()), ' — ', t('alerts.test_only')) : null,
        h('dl', { class: 'bea-confirm' }, rows.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
      ),
      actions: [
        { label: t('alerts.back'), value: 'cancel' },
        { label: t(`${verb}.button`), value: 'confirm', primary: true },
      ],
    });
    return Boolean(answer);
  }
}

/** Replace an element's children, skipping the null and false of optional parts. */
function fill(el, ...children) {
  el.replaceChildren(...children.flat().filter((c) => c != null && c !== false));
}

/** An error as the page says it, with the hub's own words when they name the field or rule. */
function explain(error) {
  const detail = error && (error.code === 'invalid' || error.code === 'forbidden') && error.message ? ` ${error.message}` : '';
  return `${errorText(error)}${detail}`;
}

function fmt(n) {
  return typeof n === 'number' ? n.toLocaleString(getLang() === 'en' ? 'en-GB' : `${getLang()}-BE`) : '—';
}

function statusBadge(status) {
  return h('span', { class: `badge bea-cap bea-cap-${status}` }, t(`alerts.status.${status}`));
}

/** The audience by channel (the personal channels) and by language. */
function audienceTable(estimate) {
  const byChannel = estimate.by_channel || {};
  const byLanguage = estimate.by_language || {};
  const langs = ALERT_LANGUAGES.filter((l) => byLanguage[l]);
  return h(
    'table',
    { class: 'bea-audience' },
    h(
      'tbody',
      {},
      h('tr', {}, h('th', { scope: 'row' }, t('alerts.by_channel')), PERSONAL_CHANNELS.map((c) => h('td', {}, `${t(`alerts.channel.${c}`)} ${fmt(byChannel[c] || 0)}`))),
      h(
        'tr',
        {},
        h('th', { scope: 'row' }, t('alerts.by_language')),
        langs.length ? langs.map((l) => h('td', {}, `${l.toUpperCase()} ${fmt(byLanguage[l])}`)) : h('td', {}, '—'),
      ),
    ),
  );
}

/** A rendered text with its Exercise/Test marker in its own (red) span. */
function marked(tag, className, text, status, lang) {
  const { marker, rest } = splitMarker(text, status, lang);
  return h(tag, { class: className }, marker ? h('span', { class: 'bea-marker' }, marker) : null, rest);
}
