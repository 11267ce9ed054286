// The emergency-plan library (/plans): search by title words as you type and by place (a click
// on the map: the plans whose area holds it); a plan opened shows its versions, the files of the
// version shown as downloads, its predefined anchors on a map drawn as the incident map draws
// anchors, and how many contacts it names (ids only: opening a contact is a logged read, not
// this page's business). Its organisation's members and admins upload a version and approve a
// draft; anyone creates a plan of their own organisation.

import L from './leaflet-global.js';
import { applyI18n, bindLangSwitch, getLang, initLang, onLangChange, t } from './i18n.js';
import { api, bindTopbar, errorText, formatTime, h, readConfig, toast } from './util.js';
import { AnchorLayer, createMap } from './map.js';
import { PLAN_KINDS, PLAN_LEVELS } from './enums.js';
import {
  anchorsText,
  canEdit,
  contactIdsText,
  defaultVersion,
  errorLine,
  fileSize,
  parseArea,
  plansQuery,
  typeName,
  versionAnchors,
  versionOf,
} from './plans-logic.js';
import './contacts.css';
import './plans.css';

const config = readConfig();
const user = config.user || null;
initLang(config.lang);
bindLangSwitch();
bindTopbar();
applyI18n();

const $ = (id) => document.getElementById(id);
const enc = encodeURIComponent;
const SEARCH_DEBOUNCE_MS = 200;
const ACCEPTED = '.pdf,.png,.jpg,.jpeg,.docx,.xlsx,.odt,.ods,application/pdf,image/png,image/jpeg';

const state = { q: '', at: null };
let results = [];
let open = null; // the plan shown, as GET /api/plans/{id} gives it
let shown = null; // the number of its version shown
let detailMap = null;
let detailAnchors = null;
let view = 'pick'; // what the detail card shows: 'pick', 'plan' or 'new'

// ---------------------------------------------------------------- search
function filters() {
  const q = h('input', { id: 'plans-q', type: 'search', maxlength: 200, autocomplete: 'off', value: state.q });
  let timer = null;
  q.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      state.q = q.value;
      search();
    }, SEARCH_DEBOUNCE_MS);
  });
  const place = state.at
    ? h(
        'span',
        { id: 'plans-at-place' },
        t('plans.at_place', { lat: state.at[0].toFixed(4), lon: state.at[1].toFixed(4) }),
        ' ',
        h('button', { type: 'button', class: 'btn btn-small', id: 'plans-at-clear', onclick: () => setPlace(null) }, t('plans.at_clear')),
      )
    : null;
  const parts = [
    h('div', { class: 'field' }, h('label', { for: 'plans-q' }, t('plans.search')), q),
    place,
    h('button', { type: 'button', class: 'btn', id: 'plans-new', onclick: () => newPlanForm() }, t('plans.new')),
  ];
  $('plans-filters').replaceChildren(...parts.filter(Boolean));
}

const atMap = createMap($('plans-at-map'), { tileUrl: config.tile_url, pmtilesUrl: config.basemap_pmtiles });
let atMarker = null;
atMap.on('click', (event) => setPlace([event.latlng.lat, event.latlng.lng]));
// By keyboard: the focused map picks its centre with Enter or Space (the arrows pan it there).
atMap.getContainer().addEventListener('keydown', (event) => {
  if (event.target !== atMap.getContainer() || (event.key !== 'Enter' && event.key !== ' ')) return;
  event.preventDefault();
  const centre = atMap.getCenter();
  setPlace([centre.lat, centre.lng]);
});

function setPlace(at) {
  state.at = at;
  if (atMarker) atMarker.remove();
  atMarker = at ? L.circleMarker(at, { radius: 8, color: '#0d47a1', weight: 3, fillOpacity: 0.4, className: 'plans-at-marker', interactive: false }).addTo(atMap) : null;
  filters();
  search();
}

let asked = 0;
async function search() {
  const mine = ++asked;
  try {
    const answer = await api('GET', `/api/plans?${plansQuery(state)}`);
    if (mine !== asked) return; // a later keystroke's answer comes
    results = answer.plans;
    renderResults();
  } catch (error) {
    toast(errorText(error), 'error');
  }
}

function versionsText(plan) {
  if (plan.latest_version == null) return t('plans.no_version');
  const approved = plan.approved_version == null ? t('plans.no_approved') : t('plans.approved_version', { n: plan.approved_version });
  return `${approved} · ${t('plans.latest_version', { n: plan.latest_version })}`;
}

function planLine(plan) {
  return [t(`plans.kind.${plan.kind}`), t(`plans.level.${plan.level}`), plan.organisation.name].join(' · ');
}

function renderResults() {
  $('plans-results').replaceChildren(
    ...results.map((plan) =>
      h(
        'li',
        { dataset: { planId: plan.id } },
        h('button', { type: 'button', class: 'link plan-title', onclick: () => show(plan.id) }, plan.title),
        h('span', { class: 'muted' }, planLine(plan)),
        h('span', { class: 'muted plan-versions-line' }, versionsText(plan)),
        plan.overdue ? h('span', { class: 'badge-overdue' }, t('plans.overdue')) : null,
      ),
    ),
  );
  $('plans-empty').hidden = results.length > 0;
}

// ---------------------------------------------------------------- one plan
async function show(id, number = null) {
  try {
    open = (await api('GET', `/api/plans/${enc(id)}`)).plan;
  } catch (error) {
    toast(errorText(error), 'error');
    return;
  }
  shown = number != null && versionOf(open, number) ? number : defaultVersion(open);
  view = 'plan';
  renderPlan();
}

function setDetail(...children) {
  if (detailMap) detailMap.remove();
  detailMap = null;
  detailAnchors = null;
  $('plan-detail').replaceChildren(...children.filter(Boolean)); // replaceChildren writes null as text
}

function who(actor) {
  return actor ? actor.name : t('plans.someone');
}

function versionItem(plan, version, editor) {
  const approved = version.status === 'approved';
  return h(
    'li',
    { dataset: { version: String(version.number) }, class: version.number === shown ? 'is-shown' : null },
    h('strong', {}, t('plans.version', { n: version.number })),
    ' ',
    h('span', { class: `badge-status badge-status-${version.status}` }, t(`plans.status.${version.status}`)),
    ' ',
    version.number === shown
      ? h('span', { class: 'muted' }, t('plans.shown'))
      : h('button', { type: 'button', class: 'btn btn-small plan-show', onclick: () => showVersion(version.number) }, t('plans.show')),
    editor && !approved ? ' ' : null,
    editor && !approved ? h('button', { type: 'button', class: 'btn btn-small btn-primary plan-approve', onclick: () => approve(plan, version) }, t('plans.approve')) : null,
    h(
      'div',
      { class: 'muted' },
      t('plans.created_by', { name: who(version.created_by), at: formatTime(version.created_at, true) }),
      approved ? ` — ${t('plans.approved_by', { name: who(version.approved_by), at: formatTime(version.approved_at, true) })}` : '',
    ),
    version.note ? h('p', { class: 'plan-note' }, version.note) : null,
  );
}

function fileItem(plan, file) {
  return h(
    'li',
    {},
    h('a', { href: `/api/plans/${enc(plan.id)}/files/${enc(file.id)}`, download: file.name, class: 'plan-file' }, file.name),
    ' ',
    h('span', { class: 'muted' }, `${fileSize(file.size)} · ${typeName(file.content_type)}`),
  );
}

function renderPlan() {
  const plan = open;
  const editor = canEdit(user, plan);
  const version = versionOf(plan, shown);
  const anchors = versionAnchors(version);
  const mapEl = h('div', { id: 'plan-map', class: 'plans-map', role: 'region', 'aria-label': t('plans.anchors') });
  setDetail(
    h('h2', { id: 'plan-detail-title' }, plan.title),
    h('p', {}, planLine(plan)),
    h(
      'p',
      { class: 'muted' },
      `${t('plans.review_due')}: ${formatTime(plan.review_due, true)}`,
      plan.overdue ? ' ' : null,
      plan.overdue ? h('span', { class: 'badge-overdue' }, t('plans.overdue')) : null,
    ),
    h('h3', {}, t('plans.versions')),
    plan.versions.length
      ? h('ol', { id: 'plan-versions', class: 'plan-versions' }, plan.versions.map((v) => versionItem(plan, v, editor)))
      : h('p', { class: 'muted', id: 'plan-versions' }, t('plans.no_version')),
    version ? h('h3', {}, `${t('plans.files')} — ${t('plans.version', { n: version.number })}`) : null,
    version
      ? version.files.length
        ? h('ul', { id: 'plan-files', class: 'plan-files' }, version.files.map((file) => fileItem(plan, file)))
        : h('p', { class: 'muted' }, t('plans.no_files'))
      : null,
    version ? h('h3', {}, t('plans.anchors')) : null,
    version ? h('p', { class: 'muted', id: 'plan-anchor-count' }, t('plans.anchors_count', { n: anchors.length })) : null,
    version ? mapEl : null,
    version ? h('p', { id: 'plan-contacts', title: version.contact_ids.join(', ') }, t('plans.contacts', { n: version.contact_ids.length })) : null,
    editor ? uploadForm(plan) : null,
  );
  if (version) drawAnchors(mapEl, anchors, plan);
}

/** The version's anchors drawn by the incident map's own AnchorLayer, read-only. */
function drawAnchors(element, anchors, plan) {
  detailMap = createMap(element, { tileUrl: config.tile_url, pmtilesUrl: config.basemap_pmtiles });
  const store = { anchors: new Map(anchors.map((anchor) => [anchor.id, anchor])) };
  detailAnchors = new AnchorLayer(detailMap, store, { canEdit: false, actions: {} });
  detailAnchors.setLang(getLang());
  detailAnchors.renderAll();
  if (anchors.length) detailAnchors.fitAll();
  else if (plan.area) detailMap.fitBounds(L.geoJSON(plan.area).getBounds(), { maxZoom: 15 });
}

function showVersion(number) {
  shown = number;
  renderPlan();
}

async function approve(plan, version) {
  try {
    open = (await api('POST', `/api/plans/${enc(plan.id)}/versions/${version.number}/approve`)).plan;
    toast(t('plans.approved'));
    shown = version.number;
    renderPlan();
    search();
  } catch (error) {
    toast(errorLine(error, errorText(error)), 'error');
  }
}

// ---------------------------------------------------------------- writing
const formError = (id) => h('p', { id, class: 'form-error', role: 'alert' });
const labelled = (text, control) => h('div', { class: 'field' }, h('label', { for: control.id }, text), control);

/** POST a multipart form; throws the hub's error `{code, message, status}` as api() does. */
async function postForm(url, body) {
  let res;
  try {
    res = await fetch(url, { method: 'POST', credentials: 'same-origin', headers: { Accept: 'application/json' }, body });
  } catch (err) {
    throw { code: 'unavailable', message: String(err), status: 0 };
  }
  const data = await res.json().catch(() => null);
  if (!res.ok) throw { ...((data && data.error) || { code: 'unavailable' }), status: res.status };
  return data;
}

function uploadForm(plan) {
  const files = h('input', { id: 'plan-files-input', type: 'file', multiple: true, accept: ACCEPTED });
  const anchors = h('textarea', { id: 'plan-anchors', rows: 4, spellcheck: 'false' });
  const anchorsFile = h('input', { id: 'plan-anchors-file', type: 'file', accept: '.geojson,.json,application/geo+json,application/json' });
  anchorsFile.addEventListener('change', async () => {
    const file = anchorsFile.files[0];
    if (file) anchors.value = await file.text();
  });
  const contacts = h('textarea', { id: 'plan-contact-ids', rows: 2, spellcheck: 'false' });
  const note = h('textarea', { id: 'plan-note', rows: 2, maxlength: 2000 });
  const error = formError('plan-upload-error');
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', id: 'plan-upload-submit' }, t('plans.send'));
  const form = h(
    'form',
    { id: 'plan-upload', class: 'plan-form' },
    h('h3', {}, t('plans.upload')),
    labelled(t('plans.field.files'), files),
    labelled(t('plans.field.anchors'), anchors),
    labelled(t('plans.field.anchors_file'), anchorsFile),
    labelled(t('plans.field.contacts'), contacts),
    labelled(t('plans.field.note'), note),
    error,
    submit,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.textContent = '';
    if (!files.files.length) {
      error.textContent = t('plans.choose_files');
      return;
    }
    const body = new FormData();
    for (const file of files.files) body.append('files', file, file.name);
    try {
      const anchorsJson = anchorsText(anchors.value);
      if (anchorsJson) body.append('anchors', anchorsJson);
    } catch (problem) {
      error.textContent = `${t('error.invalid')} ${problem.message}`;
      return;
    }
    const ids = contactIdsText(contacts.value);
    if (ids) body.append('contact_ids', ids);
    if (note.value.trim()) body.append('note', note.value.trim());
    submit.disabled = true;
    try {
      open = (await postForm(`/api/plans/${enc(plan.id)}/versions`, body)).plan;
      shown = open.latest_version;
      toast(t('plans.uploaded', { n: shown }));
      renderPlan();
      search();
    } catch (problem) {
      error.textContent = errorLine(problem, errorText(problem));
      submit.disabled = false;
    }
  });
  return form;
}

function newPlanForm() {
  view = 'new';
  const title = h('input', { id: 'plan-new-title', type: 'text', required: true, maxlength: 200 });
  const kind = h('select', { id: 'plan-new-kind' }, PLAN_KINDS.map((k) => h('option', { value: k }, t(`plans.kind.${k}`))));
  kind.value = 'special';
  const level = h('select', { id: 'plan-new-level' }, PLAN_LEVELS.map((l) => h('option', { value: l }, t(`plans.level.${l}`))));
  const area = h('textarea', { id: 'plan-new-area', rows: 4, spellcheck: 'false' });
  const mapEl = h('div', { id: 'plan-area-map', class: 'plans-map plans-map-small' });
  const error = formError('plan-new-error');
  const draw = h('button', { type: 'button', class: 'btn btn-small', id: 'plan-draw-area' }, t('plans.draw_area'));
  const form = h(
    'form',
    { id: 'plan-new', class: 'plan-form' },
    labelled(t('plans.field.title'), title),
    labelled(t('plans.field.kind'), kind),
    labelled(t('plans.field.level'), level),
    labelled(t('plans.field.area'), area),
    h('p', {}, draw),
    mapEl,
    error,
    h('button', { type: 'submit', class: 'btn btn-primary' }, t('plans.create')),
  );
  setDetail(h('h2', {}, t('plans.new')), form);
  detailMap = createMap(mapEl, { tileUrl: config.tile_url, pmtilesUrl: config.basemap_pmtiles });
  let drawn = null;
  const showArea = () => {
    if (drawn) drawn.remove();
    drawn = null;
    try {
      const geometry = parseArea(area.value);
      if (geometry) {
        drawn = L.geoJSON(geometry, { style: { color: '#0d47a1', weight: 2, fillOpacity: 0.1 }, interactive: false }).addTo(detailMap);
        detailMap.fitBounds(drawn.getBounds(), { maxZoom: 15 });
      }
    } catch {
      /* shown on submit */
    }
  };
  area.addEventListener('change', showArea);
  draw.addEventListener('click', () => detailMap.pm.enableDraw('Polygon'));
  detailMap.on('pm:create', ({ layer }) => {
    area.value = JSON.stringify(layer.toGeoJSON().geometry);
    layer.remove();
    showArea();
  });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.textContent = '';
    const body = { title: title.value, kind: kind.value, level: level.value };
    try {
      const geometry = parseArea(area.value);
      if (geometry) body.area = geometry;
    } catch (problem) {
      error.textContent = `${t('error.invalid')} ${problem.message}`;
      return;
    }
    try {
      const plan = (await api('POST', '/api/plans', body)).plan;
      toast(t('plans.created'));
      await show(plan.id);
      search();
    } catch (problem) {
      error.textContent = errorLine(problem, errorText(problem));
    }
  });
  title.focus();
}

// ---------------------------------------------------------------- language
function build() {
  filters();
  renderResults();
  if (view === 'plan' && open) renderPlan();
  else if (view === 'new') newPlanForm();
}
onLangChange(build);
filters();
search();
// The incident's plans panel links here with ?plan=<id>.
const linked = new URLSearchParams(location.search).get('plan');
if (linked) show(linked);
