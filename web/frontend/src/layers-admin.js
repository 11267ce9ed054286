// The reference layers page (/layers): every user sees the layers the hub holds; admins add
// one (a name, a category, a symbol, a colour and its file), replace a layer's file and
// delete a layer. The hub's own refusal (a broken zip, a projection that cannot be placed, a
// KML with a DTD, a feature out of range…) is shown under the form that sent it.

import { applyI18n, bindLangSwitch, initLang, onLangChange, t } from './i18n.js';
import { api, bindTopbar, errorText, formatTime, h, readConfig, toast } from './util.js';
import { CATEGORIES, SYMBOLS, symbolSvg } from './layers-logic.js';
import './layers.css';

const config = readConfig();
const isAdmin = Boolean(config.user && config.user.is_admin);
initLang(config.lang);
bindLangSwitch();
bindTopbar();
applyI18n();

const $ = (id) => document.getElementById(id);
const ACCEPTED = '.geojson,.json,.kml,.kmz,.zip,application/geo+json,application/json,application/vnd.google-earth.kml+xml,application/zip';

async function sendForm(method, url, body) {
  let res;
  try {
    res = await fetch(url, { method, credentials: 'same-origin', headers: { Accept: 'application/json' }, body });
  } catch (err) {
    throw { code: 'unavailable', message: String(err), status: 0 };
  }
  const data = await res.json().catch(() => null);
  if (!res.ok) throw { ...((data && data.error) || { code: 'unavailable' }), status: res.status };
  return data;
}

/** The hub's message as it said it, after the code's own words. */
function refusal(problem) {
  const label = errorText(problem);
  return problem && problem.message && problem.message !== label ? `${label} ${problem.message}` : label;
}

function svgElement(symbol, colour) {
  const span = h('span', { class: 'ref-layer-label', 'aria-hidden': 'true' });
  span.innerHTML = symbolSvg(symbol, colour); // built from two checked words, no user text
  return span;
}

let layers = [];

async function refresh() {
  try {
    layers = (await api('GET', '/api/layers')).layers;
  } catch (problem) {
    toast(refusal(problem), 'error');
    return;
  }
  render();
}

function render() {
  const list = $('layers-list');
  list.replaceChildren(...layers.map(row));
  $('layers-empty').hidden = layers.length > 0;
}

function row(layer) {
  const error = h('p', { class: 'form-error', role: 'alert', id: `layer-error-${layer.id}` });
  const file = h('input', { type: 'file', accept: ACCEPTED, id: `layer-file-${layer.id}`, 'aria-label': `${t('layers.replace')}: ${layer.name}` });
  const actions = isAdmin
    ? h(
        'div',
        { class: 'layer-actions' },
        file,
        h('button', { type: 'button', class: 'btn btn-small layer-replace', onclick: () => replace(layer, file, error) }, t('layers.replace')),
        h('button', { type: 'button', class: 'btn btn-small btn-danger layer-delete', onclick: () => remove(layer, error) }, t('layers.delete')),
      )
    : null;
  return h(
    'li',
    { class: 'layer-row', 'data-layer-id': layer.id },
    svgElement(layer.symbol, layer.colour),
    ' ',
    h('strong', { class: 'layer-name' }, layer.name),
    ' ',
    h('span', { class: 'muted' }, `${t(`layers.category.${layer.category}`)} · ${t('layers.features', { n: layer.count })} · ${layer.file_name} · ${t('layers.version', { n: layer.version, at: formatTime(layer.updated_at, true) })}`),
    actions,
    error,
  );
}

async function replace(layer, input, error) {
  error.textContent = '';
  if (!input.files.length) {
    error.textContent = t('layers.choose_file');
    return;
  }
  const body = new FormData();
  body.append('file', input.files[0], input.files[0].name);
  try {
    const changed = await sendForm('PUT', `/api/layers/${encodeURIComponent(layer.id)}`, body);
    toast(t('layers.replaced', { name: changed.name, n: changed.count, version: changed.version }));
    await refresh();
  } catch (problem) {
    error.textContent = refusal(problem);
  }
}

async function remove(layer, error) {
  error.textContent = '';
  if (!window.confirm(t('layers.delete_confirm', { name: layer.name, n: layer.count }))) return;
  try {
    await sendForm('DELETE', `/api/layers/${encodeURIComponent(layer.id)}`);
    toast(t('layers.deleted', { name: layer.name }));
    await refresh();
  } catch (problem) {
    error.textContent = refusal(problem);
  }
}

function uploadForm() {
  const field = (key, control) => h('label', { class: 'field' }, h('span', {}, t(key)), control);
  const name = h('input', { id: 'layer-name', type: 'text', required: true, maxlength: 100 });
  const category = h('select', { id: 'layer-category' }, CATEGORIES.map((c) => h('option', { value: c }, t(`layers.category.${c}`))));
  const symbol = h('select', { id: 'layer-symbol' }, SYMBOLS.map((s) => h('option', { value: s }, t(`layers.symbol.${s}`))));
  const colour = h('input', { id: 'layer-colour', type: 'color', value: '#1f6feb' });
  const file = h('input', { id: 'layer-file', type: 'file', accept: ACCEPTED, required: true });
  const error = h('p', { class: 'form-error', role: 'alert', id: 'layer-upload-error' });
  const submit = h('button', { type: 'submit', class: 'btn', id: 'layer-upload' }, t('layers.upload'));
  const form = h(
    'form',
    { class: 'layer-form' },
    field('layers.field.name', name),
    field('layers.field.category', category),
    field('layers.field.symbol', symbol),
    field('layers.field.colour', colour),
    field('layers.field.file', file),
    submit,
    error,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.textContent = '';
    if (!file.files.length) {
      error.textContent = t('layers.choose_file');
      return;
    }
    const body = new FormData();
    body.append('name', name.value.trim());
    body.append('category', category.value);
    body.append('symbol', symbol.value);
    body.append('colour', colour.value);
    body.append('file', file.files[0], file.files[0].name);
    submit.disabled = true;
    try {
      const layer = await sendForm('POST', '/api/layers', body);
      toast(t('layers.uploaded', { name: layer.name, n: layer.count }));
      form.reset();
      await refresh();
    } catch (problem) {
      error.textContent = refusal(problem);
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

function renderForm() {
  $('layers-upload').replaceChildren(isAdmin ? uploadForm() : h('p', { class: 'muted' }, t('layers.admin_only')));
}

renderForm();
refresh();
onLangChange(() => {
  applyI18n();
  renderForm();
  render();
});
