// The directory page: search as you type (any word of name, function, organisation or tags),
// filters, the review queue of one's own organisation, a contact opened (a logged read), its
// creation and edit (a stale version shows the current record), its review and its history.

import { applyI18n, bindLangSwitch, initLang, onLangChange, t } from './i18n.js';
import { api, bindTopbar, errorText, formatTime, h, readConfig, toast } from './util.js';
import { methodList } from './contacts.js';
import { searchQuery } from './contacts-logic.js';
import './contacts.css';

const config = readConfig();
initLang(config.lang);
bindLangSwitch();
bindTopbar();
applyI18n();

const $ = (id) => document.getElementById(id);
const enc = encodeURIComponent;
const DISCIPLINES = ['D1', 'D2', 'D3', 'D4', 'D5', 'coord'];
const TYPES = ['phone', 'mobile', 'email', 'radio', 'fax'];
const state = { q: '', discipline: '', tag: '', due: false, after: null };
let open = null;

function filters() {
  const q = h('input', { id: 'dir-q', type: 'search', maxlength: 200, autocomplete: 'off', value: state.q });
  q.addEventListener('input', () => {
    state.q = q.value;
    search();
  });
  const discipline = h('select', { id: 'dir-discipline' }, h('option', { value: '' }, t('list.all')), DISCIPLINES.map((d) => h('option', { value: d }, d)));
  discipline.value = state.discipline;
  discipline.addEventListener('change', () => {
    state.discipline = discipline.value;
    search();
  });
  const tag = h('input', { id: 'dir-tag', type: 'text', maxlength: 40, value: state.tag });
  tag.addEventListener('change', () => {
    state.tag = tag.value;
    search();
  });
  const due = h('input', { id: 'dir-due', type: 'checkbox', checked: state.due });
  due.addEventListener('change', () => {
    state.due = due.checked;
    search();
  });
  $('dir-filters').replaceChildren(
    h('label', { for: 'dir-q' }, t('contacts.search')), q,
    h('label', { for: 'dir-discipline' }, t('contacts.discipline')), discipline,
    h('label', { for: 'dir-tag' }, t('contacts.tag')), tag,
    h('label', {}, due, ' ', t('contacts.due')),
    h('button', { type: 'button', class: 'btn', id: 'dir-new', onclick: () => edit(null) }, t('contacts.new')),
  );
}

let asked = 0;
async function search() {
  const mine = ++asked;
  try {
    const answer = await api('GET', `/api/contacts?${searchQuery({ ...state, limit: 50 })}`);
    if (mine !== asked) return; // a later keystroke's answer comes
    $('dir-results').replaceChildren(
      ...answer.contacts.map((contact) =>
        h(
          'li',
          { dataset: { contactId: contact.id } },
          h('button', { type: 'button', class: 'linklike contact-name', onclick: () => show(contact.id) }, contact.name),
          h('span', { class: 'muted' }, [contact.function, contact.organisation.name].filter(Boolean).join(' · ')),
          contact.overdue ? h('span', { class: 'badge-overdue' }, t('contacts.overdue')) : null,
        ),
      ),
    );
    $('dir-empty').hidden = answer.contacts.length > 0;
  } catch (error) {
    toast(errorText(error), 'error');
  }
}

async function show(id) {
  try {
    open = (await api('GET', `/api/contacts/${enc(id)}`)).contact;
  } catch (error) {
    toast(errorText(error), 'error');
    return;
  }
  const c = open;
  $('dir-detail').replaceChildren(
    h('h2', { id: 'dir-detail-name' }, c.name),
    h('p', {}, [c.function, c.organisation.name].filter(Boolean).join(' · ')),
    methodList(c.methods),
    c.tags.length ? h('p', {}, `${t('contacts.tag')}: ${c.tags.join(', ')}`) : null,
    h('p', { class: 'muted' }, `${t('contacts.review_due')}: ${formatTime(c.review_due, true)}`),
    h('p', {}, h('a', { href: `/api/contacts/${enc(c.id)}.vcf` }, 'vCard')),
    h(
      'div',
      {},
      h('button', { type: 'button', class: 'btn', id: 'dir-edit', onclick: () => edit(c) }, t('contacts.edit')),
      ' ',
      h('button', { type: 'button', class: 'btn', id: 'dir-review', onclick: () => review(c) }, t('contacts.confirm')),
      ' ',
      h('button', { type: 'button', class: 'btn btn-small', id: 'dir-history', onclick: () => history(c) }, t('contacts.history')),
    ),
    h('div', { id: 'dir-history-list', class: 'contact-history' }),
  );
}

async function review(c) {
  try {
    await api('POST', `/api/contacts/${enc(c.id)}/review`, { version: c.version });
    toast(t('contacts.confirmed'));
    await show(c.id);
    search();
  } catch (error) {
    conflictOr(error);
  }
}

function conflictOr(error) {
  toast(errorText(error), 'error');
  if (error.code === 'conflict' && open) show(open.id);
}

async function history(c) {
  try {
    const answer = await api('GET', `/api/contacts/${enc(c.id)}/history`);
    $('dir-history-list').replaceChildren(
      h(
        'ol',
        {},
        answer.changes.map((change) =>
          h('li', {}, `${formatTime(change.at, true)} — ${change.by ? change.by.name : t('contacts.operator')} — ${t(`contacts.action.${change.action}`)}: ${Object.keys(change.after).join(', ')}`),
        ),
      ),
    );
  } catch (error) {
    toast(errorText(error), 'error');
  }
}

function edit(c) {
  const input = (id, value, attrs = {}) => h('input', { id, type: 'text', value: value || '', ...attrs });
  const name = input('edit-name', c && c.name, { required: true, maxlength: 200 });
  const fn = input('edit-function', c && c.function, { maxlength: 200 });
  const tags = input('edit-tags', c && c.tags.join(', '));
  const kind = h('select', { id: 'edit-kind' }, ['person', 'function'].map((k) => h('option', { value: k }, t(`contacts.kind.${k}`))));
  kind.value = (c && c.kind) || 'person';
  const methods = h('textarea', { id: 'edit-methods', rows: 4 });
  methods.value = c ? c.methods.map((m) => `${m.type} ${m.value}${m.h24 ? ' 24/7' : ''}`).join('\n') : '';
  const form = h(
    'form',
    { id: 'dir-form' },
    h('label', { for: 'edit-kind' }, t('contacts.kind')), kind,
    h('label', { for: 'edit-name' }, t('contacts.name')), name,
    h('label', { for: 'edit-function' }, t('contacts.function')), fn,
    h('label', { for: 'edit-methods' }, t('contacts.methods_hint', { types: TYPES.join(', ') })), methods,
    h('label', { for: 'edit-tags' }, t('contacts.tag')), tags,
    h('button', { type: 'submit', class: 'btn' }, t('contacts.save')),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = {
      kind: kind.value,
      name: name.value,
      function: fn.value || null,
      tags: tags.value.split(',').map((s) => s.trim()).filter(Boolean),
      methods: methods.value
        .split('\n')
        .map((line) => line.trim())
        .filter(Boolean)
        .map((line) => {
          const [type, ...rest] = line.split(/\s+/);
          const h24 = rest[rest.length - 1] === '24/7';
          return { type, value: (h24 ? rest.slice(0, -1) : rest).join(' '), h24 };
        }),
    };
    try {
      const answer = c ? await api('PATCH', `/api/contacts/${enc(c.id)}`, { ...body, version: c.version }) : await api('POST', '/api/contacts', body);
      toast(t('contacts.saved'));
      await show(answer.contact.id);
      search();
    } catch (error) {
      conflictOr(error);
    }
  });
  $('dir-detail').replaceChildren(h('h2', {}, c ? t('contacts.edit') : t('contacts.new')), form);
}

function build() {
  filters();
  search();
}
onLangChange(build);
build();
