// The incident page: map, feed, convoys, presence, connection state. It follows protocol.md
// like any other client; IncidentSync recovers missed events by seq after any reconnect.

import './app.css';
import { io } from 'socket.io-client';
import L from './leaflet-global.js';
import { applyI18n, bindLangSwitch, getLang, initLang, onLangChange, t } from './i18n.js';
import { IncidentSync } from './recovery.js';
import { OnlineList, readOnline } from './presence.js';
import { IncidentStore } from './store.js';
import { AnchorLayer, ConvoyLayer, anchorAction, createMap, pickPoint, showGeometry } from './map.js';
import { InsideCounts, ReferenceLayers } from './layers.js';
import { FeedPanel, excerpt } from './feed.js';
import { AlertsPanel } from './alerts.js';
import { EvaluationPanel } from './evaluation.js';
import { ContactsPanel } from './contacts.js';
import { ConvoysPanel } from './convoys.js';
import { registerDrawingWords, translateMap } from './map-words.js';
import { LabelDeclutter, MapLegend, legendSources } from './map-legend.js';
import { Replay } from './replay.js';
import { PHASES } from './enums.js';
import { conflictRows } from './conflict-logic.js';
import { ANCHOR_KINDS, anchorSymbol } from './symbols.js';
import { field, openDialog, select } from './dialog.js';
import { windFields } from './wind-fields.js';
import { compass, speedText } from './wind-logic.js';
import { api, bindTopbar, errorText, formatTime, h, readConfig, setTimeZone, timeElement, toast, uuid4 } from './util.js';
import { Outbox, transient } from './outbox.js';

const ACK_TIMEOUT_MS = 10000;
const JOIN_TIMEOUT_MS = 20000;

const config = readConfig();
const incidentId = String(config.incident_id);
const role = (config.user && config.user.role) || 'viewer';
const canWrite = role === 'contributor' || role === 'manager';
const isManager = role === 'manager';

initLang(config.lang);
// Every time on the page in the incident's zone, which it names (hub/timeline/zone.py).
setTimeZone(config.time_zone || 'Europe/Brussels');
bindLangSwitch();
bindTopbar();

const store = new IncidentStore();
const $ = (id) => document.getElementById(id);

// ---------------------------------------------------------------- socket and requests
const socket = io({ transports: ['websocket', 'polling'] });

/** Emit with an ack; resolves with the ack, rejects on timeout or disconnect. */
function request(event, payload, timeout = ACK_TIMEOUT_MS) {
  return socket.timeout(timeout).emitWithAck(event, payload);
}

/**
 * A write: resolves with the ack's data or null after telling the user why. Writes carrying
 * a `client_id` are retried after a lost ack, since the hub answers a repeat with the first result.
 */
async function write(event, payload, { retries = payload.client_id ? 2 : 0, onError } = {}) {
  for (let attempt = 0; ; attempt += 1) {
    let ack;
    try {
      ack = await request(event, payload);
    } catch {
      if (attempt < retries) continue;
      toast(t('error.timeout'), 'error');
      return null;
    }
    if (ack && ack.ok) return ack;
    const error = (ack && ack.error) || { code: 'unavailable' };
    if (!(onError && onError(error, ack))) toast(errorText(error), 'error');
    return null;
  }
}

// ---------------------------------------------------------------- connection state
const connEl = $('conn-state');
let connState = 'connecting';
function setConn(state) {
  connState = state;
  connEl.className = `conn conn-${state}`;
  connEl.textContent = t(`conn.${state}`);
  if (state === 'unauthorized') connEl.append(' ', h('a', { href: '/login' }, t('login.submit')));
}

// ---------------------------------------------------------------- map
const map = createMap($('map'), { tileUrl: config.tile_url, pmtilesUrl: config.basemap_pmtiles });
let firstSnapshot = true;

const anchorActions = {
  async create(geometry, properties = {}) {
    const values = await anchorDialog({ kind: defaultKind(geometry, properties), label: '', geometry, properties }, true);
    if (!values) return;
    const ack = await write('anchor.create', {
      incident_id: incidentId,
      client_id: uuid4(),
      kind: values.kind,
      label: values.label,
      geometry,
      properties: values.properties || properties,
    });
    if (ack) store.upsertAnchor(ack.anchor);
  },
  async update(anchor, changes) {
    const ack = await write(
      'anchor.update',
      { incident_id: incidentId, anchor_id: anchor.id, version: anchor.version, ...changes },
      { onError: (error, reply) => error.code === 'conflict' && (showConflict(reply.anchor, changes, anchor), true) },
    );
    if (ack) store.upsertAnchor(ack.anchor);
    else anchors.render(anchor.id); // undo the local edit: draw the stored state again
  },
  async remove(anchor) {
    const ack = await write(
      'anchor.delete',
      { incident_id: incidentId, anchor_id: anchor.id, version: anchor.version },
      { onError: (error, reply) => error.code === 'conflict' && (showConflict(reply.anchor, null, anchor), true) },
    );
    if (!ack) return;
    store.upsertAnchor({ ...(ack.anchor || anchor), deleted: true });
    // A deletion can be undone a while: the same anchor made again (a new one, as the feed says).
    toast(`${t('anchor.deleted')}: ${anchor.label || t(`anchor.${anchor.kind}`)}`, 'info', {
      label: t('anchor.undo'),
      run: () =>
        write('anchor.create', {
          incident_id: incidentId,
          client_id: uuid4(),
          kind: anchor.kind,
          label: anchor.label,
          geometry: anchor.geometry,
          properties: anchor.properties || {},
        }).then((created) => created && store.upsertAnchor(created.anchor)),
    });
  },
  async confirmRemove(anchor) {
    map.closePopup();
    const answer = await openDialog({
      title: t('anchor.delete_confirm'),
      body: h('p', {}, `${t(`anchor.${anchor.kind}`)} — ${anchor.label || ''}`),
      actions: [
        { label: t('feed.cancel'), value: 'cancel' },
        { label: t('anchor.delete'), value: 'delete', primary: true },
      ],
    });
    if (answer) await anchorActions.remove(anchor);
  },
  async edit(anchor) {
    map.closePopup();
    const values = await anchorDialog(anchor, false);
    if (!values) return;
    const changes = {};
    if (values.label !== anchor.label) changes.label = values.label;
    if (values.changed) changes.properties = values.properties; // a weather anchor's wind
    if (Object.keys(changes).length) await anchorActions.update(anchor, changes);
  },
};

// A manager fills a weather anchor from the hub's observation feed (WEATHER_URL), when one is
// configured; the hub says why when the feed cannot be reached.
if (isManager && config.weather_feed) {
  anchorActions.observe = async (anchor) => {
    map.closePopup();
    const ack = await write(
      'anchor.observe',
      { incident_id: incidentId, anchor_id: anchor.id, version: anchor.version },
      {
        onError: (error, reply) => {
          if (error.code === 'conflict' && reply.anchor) store.upsertAnchor(reply.anchor);
          toast(error.message || errorText(error), 'error');
          return true;
        },
      },
    );
    if (!ack) return;
    store.upsertAnchor(ack.anchor);
    const p = ack.anchor.properties || {};
    toast(t('wind.observed_ok', { from: compass(p.wind_from_deg, getLang()).word, speed: speedText(p.wind_speed_ms) || '—' }), 'info');
  };
}

function defaultKind(geometry, properties = {}) {
  if (geometry.type === 'Point') return properties.radius_m ? 'exclusion_zone' : 'command_post';
  if (geometry.type === 'LineString') return 'road_closure';
  return 'exclusion_zone';
}

/** Kind (only for a new anchor: `anchor.update` cannot change it), label, and a weather
 * anchor's wind (wind-fields.js), shown while the kind is `weather`. */
async function anchorDialog(anchor, isNew) {
  const kind = select('kind', ANCHOR_KINDS, (k) => t(`anchor.${k}`), anchor.kind, { disabled: !isNew });
  const label = h('input', { name: 'label', type: 'text', maxlength: 200, required: true, value: anchor.label || '' });
  const wind = anchor.geometry && anchor.geometry.type === 'Point' ? windFields(anchor.properties || {}) : null;
  const showWind = () => {
    if (wind) wind.element.hidden = kind.value !== 'weather';
  };
  showWind();
  kind.addEventListener('change', showWind);
  const answer = await openDialog({
    title: isNew ? t('anchor.new') : t('anchor.edit'),
    body: h('div', {}, field(t('anchor.kind'), kind), field(t('anchor.label'), label), wind && wind.element),
    actions: [
      { label: t('feed.cancel'), value: 'cancel' },
      { label: t('anchor.save'), value: 'save', primary: true },
    ],
    validate: () => label.reportValidity() && (!wind || wind.element.hidden || wind.validate()),
  });
  if (!answer) return null;
  const values = { kind: kind.value, label: label.value.trim() };
  return wind && kind.value === 'weather' ? { ...values, ...wind.read() } : values;
}

/**
 * A stale version: show the anchor as it is now beside my refused change (drawn dashed on the
 * map meanwhile), who made theirs, then keep theirs or apply mine on top.
 */
async function showConflict(current, changes, base) {
  if (!current) return;
  store.upsertAnchor(current);
  anchors.render(String(current.id));
  const who = personName(current.updated_by);
  const moved = (metres) => (metres ? t('conflict.moved', { metres }) : t('conflict.unchanged'));
  const cells = {
    label: (row) => [row.theirs || '—', row.mine == null ? t('conflict.unchanged') : row.mine || '—'],
    place: (row) => [moved(row.theirs), row.mine == null ? t('conflict.unchanged') : t('conflict.apart', { metres: row.mine })],
  };
  const rows = conflictRows(current, base, changes).map((row) => {
    const [theirs, mine] = cells[row.what](row);
    return h('tr', {}, h('th', { scope: 'row' }, t(`conflict.${row.what}`)), h('td', {}, theirs), h('td', { class: 'conflict-mine' }, changes ? mine : t('anchor.delete')));
  });
  const ghost = changes && changes.geometry ? L.geoJSON(changes.geometry, { style: { color: '#0d47a1', weight: 3, dashArray: '6 6', fill: false }, interactive: false }).addTo(map) : null;
  const answer = await openDialog({
    title: t('conflict.title'),
    className: 'dialog-conflict',
    body: h(
      'div',
      {},
      h('p', {}, t('conflict.by', { who, label: current.label || t(`anchor.${current.kind}`), when: formatTime(current.updated_at, true), version: current.version })),
      h(
        'table',
        { class: 'conflict-state' },
        h('thead', {}, h('tr', {}, h('td', {}), h('th', { scope: 'col' }, t('conflict.theirs', { who })), h('th', { scope: 'col' }, t('conflict.mine')))),
        h('tbody', {}, rows),
      ),
      ghost ? h('p', { class: 'muted' }, t('conflict.ghost')) : null,
    ),
    actions: [
      { label: t('conflict.keep_theirs'), value: 'cancel', primary: true },
      { label: changes ? t('conflict.apply_mine') : t('anchor.delete'), value: 'mine' },
    ],
  });
  if (ghost) ghost.remove();
  if (!answer) return;
  const fresh = store.anchors.get(String(current.id));
  if (!fresh) return;
  if (changes) await anchorActions.update(fresh, changes);
  else await anchorActions.remove(fresh);
}

/** The people this page has seen (events' actors, entries' authors, who is online), by id. */
const people = new Map();
function learn(id, name) {
  if (id != null && name) people.set(String(id), name);
}
function personName(id) {
  const online = store.online.find((u) => String(u.user_id) === String(id));
  return people.get(String(id)) || (online && online.name) || t('conflict.someone');
}

// Labels that do not overlap (before the layers, which find it on map.labels).
new LabelDeclutter(map);
const anchors = new AnchorLayer(map, store, { canEdit: canWrite, actions: anchorActions });
const convoys = new ConvoyLayer(map, store);
// Reference layers in the layer switcher, and the anchors' "Inside: …" (layers.js).
const referenceLayers = new ReferenceLayers(map, {
  switcher: map.layerSwitcher,
  onError: (layer, error) => toast(t('layers.failed', { name: layer.name, error: error.message }), 'error'),
});
referenceLayers.load();
const insideCounts = new InsideCounts(map, anchors, store, incidentId);
anchors.onPopup = (anchor, body) => insideCounts.fill(anchor, body);
// Leaflet's and geoman's own words in the page's language (English, or a GIS tool's French).
if (canWrite) registerDrawingWords(map);
translateMap(map);

// ---------------------------------------------------------------- feed
// Posts written while the hub cannot be reached wait here, with when they were written
// (written_at), and go once the page is live again (outbox.js).
const outbox = new Outbox({
  send: (payload) => request('feed.post', payload).catch(() => ({ ok: false, error: { code: 'timeout' } })),
  storage: localStore(),
  key: `crisishub.outbox.${incidentId}.${(config.user && config.user.id) || ''}`,
  onSent: (_item, entry) => entry && store.addEntry(entry),
  onRefused: (item, error) => toast(`${t('feed.queued_refused')}: ${excerpt(item.payload.text, 40)} — ${errorText(error)}`, 'error'),
  onChange: () => feed.render(),
});

function localStore() {
  try {
    return globalThis.localStorage || null;
  } catch {
    return null; // storage refused (a private mode): the queue lives in memory only
  }
}

function flushOutbox() {
  if (outbox.size && socket.connected && navigator.onLine !== false) outbox.flush();
}

/** A post: sent now, or queued when the hub cannot be reached (then true: the box empties). */
async function postEntry(payload) {
  const full = { incident_id: incidentId, client_id: uuid4(), ...payload };
  const queue = () => {
    if (!outbox.add(full)) {
      toast(t('feed.queue_full'), 'error');
      return false;
    }
    toast(t('feed.queued'), 'info');
    return true;
  };
  if (!socket.connected || navigator.onLine === false || outbox.size) return queue(); // behind those waiting
  let ack;
  try {
    ack = await request('feed.post', full);
  } catch {
    return queue(); // no answer: sent again later with the same client_id, stored once
  }
  if (ack && ack.ok) return Boolean(stored(ack));
  const error = (ack && ack.error) || { code: 'unavailable' };
  if (transient(error)) return queue();
  toast(errorText(error), 'error');
  return false;
}

const feed = new FeedPanel($('feed-live'), store, {
  canWrite,
  pending: () => outbox.items,
  post: postEntry,
  correct: async (entry, text, reason) =>
    Boolean(
      await write('feed.correct', { incident_id: incidentId, entry_id: entry.id, client_id: uuid4(), text, reason }).then(stored),
    ),
  pick: () => pickPoint(map),
  focusMap: () => map.getContainer().focus(),
  draft: (point, accuracy) => showDraft(point, accuracy),
  show: (geometry) => {
    showGeometry(map, geometry);
    showPin(geometry);
  },
});

// The second stop of the Tab key (after "Skip to content"): straight to the message box.
const skipMessage = $('skip-message');
skipMessage.hidden = !canWrite;
skipMessage.addEventListener('click', (ev) => {
  ev.preventDefault();
  $('tab-feed').click();
  feed.focusText();
});

/** Show our own entry at once; the event that follows carries the same entry. */
function stored(ack) {
  if (ack && ack.entry) store.addEntry(ack.entry);
  return ack;
}

let pin = null;
function showPin(geometry) {
  if (pin) pin.remove();
  if (geometry.type !== 'Point') return;
  const [lon, lat] = geometry.coordinates;
  pin = L.circleMarker([lat, lon], { radius: 14, color: '#000', weight: 3, fill: false, className: 'feed-pin', interactive: false }).addTo(map);
  setTimeout(() => pin && pin.remove(), 6000);
}

/** Where the entry being written will be: a pin, and the device's accuracy as a circle. */
let draftPin = null;
function showDraft(point, accuracy) {
  if (draftPin) draftPin.remove();
  draftPin = null;
  if (!point) return;
  const [lon, lat] = point.coordinates;
  draftPin = L.layerGroup([
    L.marker([lat, lon], {
      icon: L.divIcon({ html: DRAFT_PIN, className: 'feed-draft-pin', iconSize: [28, 36], iconAnchor: [14, 34] }),
      interactive: false,
      keyboard: false,
    }),
  ]);
  if (accuracy) draftPin.addLayer(L.circle([lat, lon], { radius: accuracy, color: '#0d47a1', weight: 1, fillOpacity: 0.12, interactive: false }));
  draftPin.addTo(map);
}
const DRAFT_PIN =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 28 36" width="28" height="36" aria-hidden="true"><path d="M14 1C7 1 2 6 2 13c0 9 12 22 12 22s12-13 12-22C26 6 21 1 14 1z" fill="#0d47a1" stroke="#fff" stroke-width="2"/><circle cx="14" cy="13" r="4.5" fill="#fff"/></svg>';

new AlertsPanel($('panel-alerts'), store, { incidentId, role, map, anchors });
new EvaluationPanel($('panel-evaluation'), store, { incidentId, role, userId: String((config.user && config.user.id) || '') });
new ContactsPanel($('panel-contacts'), store, { incidentId, role });

// ---------------------------------------------------------------- replay (issue 15)
const replay = new Replay({
  map,
  incidentId,
  incident: () => store.incident,
  liveLayers: [anchors.group, convoys.routes, convoys.trails, convoys.markers],
  liveConvoys: convoys,
  liveFeed: $('feed-live'),
  feedRoot: $('feed-replay'),
  bar: $('replay-bar'),
  banner: $('replay-banner'),
  toggle: $('replay-toggle'),
  // The Anchors and Convoys tabs show what the map shows: the replay's moment while it lasts.
  onShow: () => {
    renderAnchorList();
    renderConvoys();
    legend.render();
  },
});
// What the map's colours and symbols mean: the kinds the map shows now, live or replayed.
const legend = new MapLegend(map, legendSources(() => (replay.active ? replay.store : store)));


// ---------------------------------------------------------------- side panels
function renderAnchorList() {
  const shown = replay.active ? replay.store : store;
  const layer = replay.active ? replay.anchors : anchors;
  const editable = canWrite && !replay.active; // the past is not edited
  const list = [...shown.anchors.values()].sort((a, b) => a.kind.localeCompare(b.kind) || (a.label || '').localeCompare(b.label || ''));
  $('panel-anchors').replaceChildren(
    list.length
      ? h(
          'ul',
          { class: 'anchor-list' },
          list.map((a) => {
            const icon = h('span', { class: 'anchor-list-icon', 'aria-hidden': 'true' });
            icon.innerHTML = anchorSymbol(a.kind); // our own static SVG, never user data
            return h(
              'li',
              {},
              icon,
              h(
                'div',
                { class: 'anchor-main' },
                h('button', { type: 'button', class: 'link', onclick: () => layer.focus(a.id) }, a.label || '—'),
                h('span', { class: 'muted' }, t(`anchor.${a.kind}`)),
                // When it last changed, in the incident's zone (and its date if not today).
                a.updated_at ? h('span', { class: 'muted anchor-updated' }, t('anchor.updated'), ' ', timeElement(a.updated_at)) : null,
              ),
              editable
                ? h(
                    'div',
                    { class: 'anchor-actions' },
                    h('button', { type: 'button', class: 'btn btn-small', 'aria-label': anchorAction('anchor.edit', a), onclick: () => anchorActions.edit(a) }, t('anchor.edit')),
                    h(
                      'button',
                      { type: 'button', class: 'btn btn-small btn-danger', 'aria-label': anchorAction('anchor.delete', a), onclick: () => anchorActions.confirmRemove(a) },
                      t('anchor.delete'),
                    ),
                  )
                : null,
            );
          }),
        )
      : h('p', { class: 'muted' }, '—'),
  );
}

const convoysPanel = new ConvoysPanel($('panel-convoys'), {
  silentAfterS: Number(config.silent_after_s) || 60,
  show: (lon, lat) => showGeometry(map, { type: 'Point', coordinates: [lon, lat] }),
  names: () => ({ convoys: store.convoys, vehicles: store.vehicles, anchors: store.anchors }),
});

function renderConvoys() {
  const shown = replay.active ? replay.store : store;
  // In a replay, the vehicle alerts this page holds up to the moment shown.
  const alerts = replay.active ? store.alerts.filter((a) => Date.parse(a.at) <= replay.target) : store.alerts;
  convoysPanel.render({
    convoys: shown.convoys,
    vehicles: shown.vehicles,
    layer: replay.active ? replay.convoys : convoys,
    alerts,
    live: !replay.active,
  });
}

/** The vehicle alerts that fired before this page opened (or while it was away). */
async function loadConvoyAlerts() {
  try {
    const data = await api('GET', `/api/incidents/${encodeURIComponent(incidentId)}/convoy-alerts`);
    store.loadAlerts(data.events);
  } catch {
    // keep what we have; new alerts keep coming as events
  }
}

function renderOnline() {
  $('online-count').textContent = String(store.online.length);
  $('panel-online').replaceChildren(
    store.online.length
      ? h('ul', { class: 'online' }, store.online.map((u) => h('li', {}, h('span', { class: 'dot', 'aria-hidden': 'true' }), u.name, ' ', h('span', { class: 'muted' }, u.organisation || ''))))
      : h('p', { class: 'muted' }, t('online.none')),
  );
}

function renderIncident() {
  const incident = store.incident;
  if (!incident) return;
  $('incident-title').textContent = incident.title;
  document.title = `${incident.kind === 'exercise' ? `[${t('kind.exercise').toUpperCase()}] ` : ''}${incident.title} — CrisisHub`;
  $('exercise-banner').hidden = incident.kind !== 'exercise';
  document.body.classList.toggle('is-exercise', incident.kind === 'exercise');
  const badges = $('incident-badges');
  // A manager reads the phase and status in the controls that change them: not twice.
  badges.replaceChildren(
    ...[
      h('span', { class: `badge kind-${incident.kind}` }, t(`kind.${incident.kind}`)),
      isManager ? null : h('span', { class: 'badge' }, `${t('incident.phase')}: ${t(`phase.${incident.phase}`)}`),
      isManager ? null : h('span', { class: `badge status-${incident.status}` }, t(`status.${incident.status}`)),
    ].filter(Boolean),
  );
  if (isManager) badges.append(managerControls(incident));
  // Whoever cannot write is told so, rather than left to wonder where the message box is.
  const readonly = $('readonly-note');
  readonly.hidden = canWrite && incident.status !== 'closed';
  readonly.textContent = t(incident.status === 'closed' ? 'incident.readonly_closed' : 'incident.readonly');
}

function managerControls(incident) {
  const phase = select('phase', PHASES, (p) => t(`phase.${p}`), incident.phase, { 'aria-label': t('incident.phase') });
  const status = select('status', ['open', 'closed'], (s) => t(`status.${s}`), incident.status, { 'aria-label': t('incident.status') });
  return h(
    'form',
    {
      class: 'manager-controls',
      onsubmit: async (ev) => {
        ev.preventDefault();
        try {
          const data = await api('PATCH', `/api/incidents/${encodeURIComponent(incidentId)}`, { phase: phase.value, status: status.value });
          store.setIncident(data.incident);
        } catch (error) {
          toast(errorText(error), 'error');
        }
      },
    },
    phase,
    status,
    h('button', { type: 'submit', class: 'btn btn-small' }, t('incident.save')),
  );
}

// ---------------------------------------------------------------- tabs (WAI-ARIA tabs pattern)
function initTabs() {
  const tabs = [...document.querySelectorAll('[role="tab"]')];
  const choose = (tab) => {
    for (const other of tabs) {
      const on = other === tab;
      other.setAttribute('aria-selected', String(on));
      other.tabIndex = on ? 0 : -1;
      $(other.getAttribute('aria-controls')).hidden = !on;
    }
  };
  tabs.forEach((tab, i) => {
    tab.addEventListener('click', () => choose(tab));
    tab.addEventListener('keydown', (ev) => {
      const step = { ArrowRight: 1, ArrowLeft: -1 }[ev.key];
      if (!step) return;
      const next = tabs[(i + step + tabs.length) % tabs.length];
      choose(next);
      next.focus();
    });
  });
}

// ---------------------------------------------------------------- store → views
/**
 * A flash entry from someone else, once: the ack and the event both bring it, and its author,
 * who has just written it, needs no warning of it.
 */
const flashed = new Set();
function flashToast(entry) {
  const id = String(entry.id);
  if (flashed.has(id)) return;
  flashed.add(id);
  if (entry.author && config.user && String(entry.author.id) === String(config.user.id)) return;
  toast(`FLASH — ${entry.text}`, 'flash');
}

store.subscribe((change) => {
  switch (change.type) {
    case 'reset':
      renderIncident();
      anchors.renderAll();
      legend.render();
      renderAnchorList();
      convoys.renderAll();
      renderConvoys();
      feed.render();
      renderOnline();
      break;
    case 'incident':
      renderIncident();
      break;
    case 'anchor':
      anchors.render(change.id);
      renderAnchorList();
      legend.render();
      break;
    case 'feed':
      feed.render();
      if (change.entry && change.entry.priority === 'flash' && !firstSnapshot) flashToast(change.entry);
      break;
    case 'convoys':
      convoys.renderAll();
      renderConvoys();
      legend.render();
      break;
    case 'vehicle':
      convoys.renderVehicle(change.vehicle);
      convoysPanel.updateVehicle(change.vehicle);
      legend.render(); // a first position, a heading known: redrawn only if its rows change
      break;
    case 'alert': {
      renderConvoys();
      // One toast per group: a motorcade crossing a zone line is one event, not one per car.
      const text = convoysPanel.toastText(change.alert, store.alerts);
      if (text) toast(text, 'alert');
      break;
    }
    case 'alerts':
      renderConvoys();
      break;
    case 'presence':
      renderOnline();
      break;
    default:
  }
});
convoys.onFollow = renderConvoys;

// ---------------------------------------------------------------- convoys over HTTP
let convoyRefresh = null;
/** Latest convoys and their stored tracks: after a snapshot, a replay, or an unknown vehicle. */
function refreshConvoys() {
  clearTimeout(convoyRefresh);
  convoyRefresh = setTimeout(async () => {
    try {
      const data = await api('GET', `/api/incidents/${encodeURIComponent(incidentId)}/convoys`);
      store.setConvoys(Array.isArray(data) ? data : data.convoys || []);
    } catch {
      return; // keep what we have; positions keep coming over the socket
    }
    await Promise.all(
      [...store.vehicles.keys()].map((id) =>
        api('GET', `/api/vehicles/${encodeURIComponent(id)}/track`)
          .then((track) => store.setTrack(id, track))
          .catch(() => {}),
      ),
    );
  }, 300);
}

/**
 * The first view: every anchor and every vehicle where it last was, so that whoever opens the
 * incident sees the site, its perimeters and the motorcade at once (fitting the anchors alone
 * left a motorcade still at the airport off-screen).
 */
function fitFirstView() {
  const bounds = L.latLngBounds([]);
  const drawn = anchors.group.getBounds();
  if (drawn.isValid()) bounds.extend(drawn);
  for (const v of store.vehicles.values()) if (v.position) bounds.extend([v.position.lat, v.position.lon]);
  if (bounds.isValid()) map.fitBounds(bounds, { maxZoom: 15, padding: [30, 30] });
}

// ---------------------------------------------------------------- recovery
// Who is online: the join's list, then the hub's versioned changes; a missed one (a version
// that does not follow) or a list longer than a page is read again with presence.get.
const online = new OnlineList();
let rereading = null;
function rereadOnline() {
  if (rereading) return;
  rereading = readOnline(online, incidentId, (event, payload) => request(event, payload))
    .then((done) => { if (done) store.setOnline(online.users); })
    .finally(() => { rereading = null; });
}

const sync = new IncidentSync({
  incidentId,
  request: (event, payload) => request(event, payload, JOIN_TIMEOUT_MS),
  onSnapshot: (snapshot, incident) => {
    store.reset(snapshot, incident);
    if (firstSnapshot) fitFirstView();
    firstSnapshot = false;
    refreshConvoys();
    loadConvoyAlerts();
  },
  onEvent: (event) => {
    if (event.actor) learn(event.actor.id, event.actor.name);
    store.apply(event);
  },
  onIncident: (incident) => store.setIncident(incident),
  onPresence: (page) => {
    if (online.page(page)) store.setOnline(online.users);
    else rereadOnline();
  },
  onState: (state, error) => {
    if (!socket.connected) return;
    if (state === 'error' && error && (error.code === 'forbidden' || error.code === 'not_found')) {
      sync.stop();
      toast(errorText(error), 'error');
    }
    setConn(state === 'live' ? 'live' : state);
    if (state === 'live') flushOutbox();
  },
});

let connectedBefore = false;
socket.on('connect', async () => {
  setConn('syncing');
  const replay = connectedBefore;
  connectedBefore = true;
  const ok = await sync.connect();
  if (ok && replay) refreshConvoys(); // positions are not replayed: fetch the latest
});
socket.on('disconnect', (reason) => {
  sync.disconnect();
  setConn('offline');
  // Socket.IO does not reconnect after the server closed the socket itself, which a hub
  // shutting down may do: try again; a refusal then arrives as connect_error.
  if (reason === 'io server disconnect') setTimeout(() => socket.connect(), 1000 + Math.random() * 2000);
});
socket.on('connect_error', (err) => {
  setConn(err && err.message === 'unauthorized' ? 'unauthorized' : 'offline');
});
socket.on('incident.event', (event) => sync.handleEvent(event));
// The browser says the network is back before the socket notices: try the queue then too.
window.addEventListener('online', () => flushOutbox());
socket.on('convoy.positions', (msg) => {
  if (!msg || String(msg.incident_id) !== incidentId) return;
  if (store.applyPositions(msg.positions).length) refreshConvoys();
});
socket.on('alert.progress', (msg) => {
  if (msg && String(msg.incident_id) === incidentId) store.setAlertProgress(msg);
});
socket.on('presence.changed', (msg) => {
  if (!msg || String(msg.incident_id) !== incidentId || rereading) return;
  const result = online.apply(msg);
  if (result === 'applied') store.setOnline(online.users);
  else if (result === 'gap') rereadOnline();
});

// ---------------------------------------------------------------- language
onLangChange((lang) => {
  applyI18n();
  setConn(connState);
  anchors.setLang(lang);
  translateMap(map);
  legend.render();
  feed.build();
  replay.setLang();
  renderIncident();
  renderAnchorList();
  renderConvoys();
  renderOnline();
});

initTabs();
anchors.setLang(getLang());
setConn('connecting');
renderAnchorList();
renderConvoys();
renderOnline();
