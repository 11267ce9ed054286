// The incident list: filters (kind, phase, status), creation, and member management.

import { applyI18n, bindLangSwitch, initLang, onLangChange, t } from './i18n.js';
import { api, bindLogout, errorText, formatTime, h, readConfig, toast } from './util.js';
import { field, openDialog, select } from './dialog.js';
import { INCIDENT_KINDS as KINDS, PHASES, ROLES, STATUSES } from './enums.js';

const config = readConfig();
const user = config.user || {};
initLang(config.lang);
bindLangSwitch();
bindLogout();

const $ = (id) => document.getElementById(id);
const filters = { kind: '', phase: '', status: 'open' };
let incidents = [];

/**
 * The one place that knows the members API: add or change (`role` set) or remove (`role`
 * null) one member, by username. Resolves with the hub's answer (`{member}`).
 */
export function changeMember(incidentId, username, role) {
  const members = `/api/incidents/${encodeURIComponent(incidentId)}/members`;
  if (role == null) return api('DELETE', `${members}/${encodeURIComponent(username)}`);
  return api('POST', members, { username, role });
}

/** Current members: `[{user_id, username, name, organisation, discipline, role}]`. */
async function loadMembers(incidentId) {
  const data = await api('GET', `/api/incidents/${encodeURIComponent(incidentId)}/members`);
  return (data && data.members) || [];
}

async function load() {
  try {
    const data = await api('GET', '/api/incidents');
    incidents = Array.isArray(data) ? data : data.incidents || [];
  } catch (error) {
    if (error.status === 401) location.assign(`/login?next=${encodeURIComponent(location.pathname)}`);
    else toast(errorText(error), 'error');
  }
  render();
}

/** Only an incident's managers change its members (being an admin is not enough). */
function canManage(incident) {
  return incident.role === 'manager';
}

function renderFilters() {
  const make = (name, values, prefix) => {
    const el = select(name, ['', ...values], (v) => (v ? t(`${prefix}.${v}`) : t('list.all')), filters[name], {
      onchange: () => {
        filters[name] = el.value;
        render();
      },
    });
    return field(t(`list.filter.${name}`), el);
  };
  $('list-filters').replaceChildren(make('kind', KINDS, 'kind'), make('phase', PHASES, 'phase'), make('status', STATUSES, 'status'));
}

function render() {
  const rows = incidents
    .filter((i) => (!filters.kind || i.kind === filters.kind) && (!filters.phase || i.phase === filters.phase) && (!filters.status || i.status === filters.status))
    .sort((a, b) => String(b.created_at).localeCompare(String(a.created_at)));
  const body = $('incident-rows');
  body.replaceChildren(
    ...rows.map((i) =>
      h(
        'tr',
        { class: i.kind === 'exercise' ? 'is-exercise' : '' },
        h('td', {}, h('a', { href: `/incidents/${encodeURIComponent(i.id)}` }, i.title)),
        h('td', {}, h('span', { class: `badge kind-${i.kind}` }, t(`kind.${i.kind}`))),
        h('td', {}, t(`phase.${i.phase}`)),
        h('td', {}, h('span', { class: `badge status-${i.status}` }, t(`status.${i.status}`))),
        // Evaluation points still open: what the follow-up of this incident still owes.
        h('td', { class: 'open-points' }, i.open_points ? h('span', { class: 'badge' }, String(i.open_points)) : ''),
        h('td', {}, formatTime(i.created_at, true)),
        h(
          'td',
          {},
          canManage(i)
            ? h('button', { type: 'button', class: 'btn btn-small', onclick: () => membersDialog(i) }, t('list.members'))
            : null,
        ),
      ),
    ),
  );
  $('list-empty').hidden = rows.length > 0;
}

async function membersDialog(incident) {
  let members = [];
  try {
    members = await loadMembers(incident.id);
  } catch (error) {
    toast(errorText(error), 'error');
  }
  const table = h('table', { class: 'members-table' });
  const draw = () =>
    table.replaceChildren(
      ...members.map((m) =>
        h(
          'tr',
          {},
          h('td', {}, m.name || m.username, m.organisation ? h('span', { class: 'muted' }, ` — ${m.organisation}`) : null),
          h('td', {}, t(`role.${m.role}`)),
          h(
            'td',
            {},
            h(
              'button',
              {
                type: 'button',
                class: 'btn btn-small btn-danger',
                onclick: () => apply(m.username, null),
              },
              t('list.member.remove'),
            ),
          ),
        ),
      ),
    );
  const apply = async (username, role) => {
    try {
      await changeMember(incident.id, username, role);
      toast(t('list.member.saved'));
      members = await loadMembers(incident.id).catch(() => members);
      draw();
      return true;
    } catch (error) {
      toast(errorText(error), 'error');
      return false;
    }
  };
  draw();
  const username = h('input', { name: 'username', type: 'text', autocomplete: 'off' });
  const role = select('role', ROLES, (r) => t(`role.${r}`), 'contributor');
  const add = h(
    'button',
    {
      type: 'button',
      class: 'btn btn-primary',
      onclick: async () => {
        if (username.value.trim() && (await apply(username.value.trim(), role.value))) username.value = '';
      },
    },
    t('list.member.add'),
  );
  await openDialog({
    title: `${t('list.members')} — ${incident.title}`,
    body: h('div', {}, table, field(t('list.member.username'), username), field(t('list.member.role'), role), add),
  });
}

function initCreate() {
  const form = $('create-form');
  if (!form) return;
  if (config.can_create === false) {
    form.closest('section').hidden = true;
    return;
  }
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      const { incident } = await api('POST', '/api/incidents', {
        title: form.elements.namedItem('title').value.trim(),
        kind: form.elements.namedItem('kind').value,
      });
      location.assign(`/incidents/${encodeURIComponent(incident.id)}`);
    } catch (error) {
      toast(errorText(error), 'error');
    }
  });
}

onLangChange(() => {
  applyI18n();
  renderFilters();
  render();
});

renderFilters();
initCreate();
load();
