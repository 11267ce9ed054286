// The incident list: filters (kind, phase, status), creation, and member management.

import { applyI18n, bindLangSwitch, initLang, onLangChange, t } from './i18n.js';
import { api, bindTopbar, errorText, formatTime, h, readConfig, toast } from './util.js';
import { field, openDialog, select } from './dialog.js';
import { INCIDENT_KINDS as KINDS, PHASES, ROLES, STATUSES } from './enums.js';

const config = readConfig();
const user = config.user || {};
initLang(config.lang);
bindLangSwitch();
bindTopbar();

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

/** Users whose username or name starts with `q` (GET /api/users), for the member field. */
async function suggestUsers(q) {
  const data = await api('GET', `/api/users?q=${encodeURIComponent(q)}`);
  return (data && data.users) || [];
}

const SUGGEST_DELAY_MS = 200;

async function membersDialog(incident) {
  let members = [];
  try {
    members = await loadMembers(incident.id);
  } catch (error) {
    toast(errorText(error), 'error');
  }
  // Inside the dialog: a toast would sit under the modal's backdrop, unseen.
  const message = h('p', { class: 'member-message', role: 'status', 'aria-live': 'polite', hidden: true });
  const say = (text, isError) => {
    message.textContent = text;
    message.className = `member-message ${isError ? 'member-error' : 'member-ok'}`;
    message.setAttribute('role', isError ? 'alert' : 'status');
    message.hidden = !text;
  };
  const table = h('table', { class: 'members-table' });
  const draw = () =>
    table.replaceChildren(
      ...members.map((m) => {
        const self = m.username === user.username;
        const who = m.name || m.username;
        return h(
          'tr',
          {},
          h(
            'td',
            {},
            who,
            m.organisation ? h('span', { class: 'muted' }, ` — ${m.organisation}`) : null,
            self ? h('span', { class: 'muted' }, ` (${t('list.member.you')})`) : null,
          ),
          h('td', {}, t(`role.${m.role}`)),
          h(
            'td',
            {},
            // A manager does not remove themself here (the incident would lose its manager).
            self
              ? null
              : h(
                  'button',
                  {
                    type: 'button',
                    class: 'btn btn-small btn-danger',
                    'aria-label': `${t('list.member.remove')}: ${who}`,
                    onclick: () => confirmRemove(m),
                  },
                  t('list.member.remove'),
                ),
          ),
        );
      }),
    );
  const apply = async (username, role) => {
    try {
      await changeMember(incident.id, username, role);
      say(t('list.member.saved'), false);
      members = await loadMembers(incident.id).catch(() => members);
      draw();
      return true;
    } catch (error) {
      say(error.code === 'not_found' ? t('list.member.not_found').replace('{name}', username) : errorText(error), true);
      return false;
    }
  };
  const confirmRemove = async (member) => {
    const who = member.name || member.username;
    const answer = await openDialog({
      title: t('list.member.remove_confirm').replace('{name}', who),
      className: 'dialog-remove-member',
      body: h('p', {}, t('list.member.remove_text')),
      actions: [
        { label: t('feed.cancel'), value: 'cancel', primary: true },
        { label: t('list.member.remove'), value: 'remove' },
      ],
    });
    if (answer) await apply(member.username, null);
  };
  draw();
  const listId = `members-${Math.random().toString(36).slice(2)}`;
  const options = h('datalist', { id: listId });
  const username = h('input', {
    name: 'username',
    type: 'text',
    autocomplete: 'off',
    list: listId,
    placeholder: t('list.member.type'),
  });
  let typing = null;
  username.addEventListener('input', () => {
    say('', false);
    clearTimeout(typing);
    const q = username.value.trim();
    if (q.length < 2) return;
    typing = setTimeout(async () => {
      let found = [];
      try {
        found = await suggestUsers(q);
      } catch {
        return; // no suggestions: the name can still be typed whole
      }
      if (username.value.trim() !== q) return; // typed on meanwhile: a later answer comes
      const known = new Set(members.map((m) => m.username));
      options.replaceChildren(
        ...found
          .filter((u) => !known.has(u.username))
          .map((u) => h('option', { value: u.username, label: `${u.name} — ${u.organisation} (${t(`disc.${u.discipline}`)})` })),
      );
    }, SUGGEST_DELAY_MS);
  });
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
    body: h('div', {}, table, field(t('list.member.username'), username), options, field(t('list.member.role'), role), add, message),
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
