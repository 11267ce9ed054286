// The incident's "Contacts and plans" panel: the contacts listed in the incident with one-tap
// call and mail links (their methods come with the incident, read without a log), and, for
// contributors and managers, adding one found by search. The plans half fills
// <section id="incident-plans"> below with its own module (plans-panel.js).

import './contacts.css';
import { onLangChange, t } from './i18n.js';
import { api, errorText, h, toast } from './util.js';
import { mergeListed, methodHref, searchQuery } from './contacts-logic.js';
import { PlansPanel } from './plans-panel.js';

const enc = encodeURIComponent;

/** One contact's methods as a list of links (tel:, mailto:) or text (radio). */
export function methodList(methods) {
  return h(
    'ul',
    { class: 'contact-methods' },
    methods.map((method) => {
      const href = methodHref(method);
      const text = method.value;
      return h(
        'li',
        {},
        h('span', { class: 'muted' }, `${t(`contacts.method.${method.type}`)}${method.label ? ` (${method.label})` : ''}: `),
        href ? h('a', { href, class: `method-${method.type}` }, text) : h('span', {}, text),
        method.h24 ? h('span', { class: 'badge-h24' }, ' 24/7') : null,
      );
    }),
  );
}

export class ContactsPanel {
  constructor(root, store, { incidentId, role }) {
    this.root = root;
    this.incidentId = incidentId;
    this.canAdd = role === 'contributor' || role === 'manager';
    this.listed = [];
    this.plans = h('section', { id: 'incident-plans' });
    new PlansPanel(this.plans, store, { incidentId, role });
    store.subscribe((change) => this._changed(change));
    onLangChange(() => this.build());
    this.build();
  }

  _changed(change) {
    if (change.type === 'reset') this.load();
    else if (change.type === 'event' && change.event.type === 'contact.listed') {
      this.listed = mergeListed(this.listed, change.event.data);
      this.render();
    }
  }

  async load() {
    try {
      const answer = await api('GET', `/api/incidents/${enc(this.incidentId)}/contacts`);
      this.listed = answer.contacts;
      this.render();
    } catch (error) {
      toast(errorText(error), 'error');
    }
  }

  build() {
    this.list = h('ol', { class: 'contact-results', id: 'incident-contacts', 'aria-live': 'polite' });
    const parts = [h('h3', {}, t('contacts.listed')), this.list];
    if (this.canAdd) {
      this.query = h('input', { id: 'incident-contact-search', type: 'search', maxlength: 200, autocomplete: 'off' });
      this.found = h('ul', { class: 'contact-results', id: 'incident-contact-found' });
      this.query.addEventListener('input', () => this.search());
      parts.push(h('label', { for: 'incident-contact-search' }, t('contacts.add')), this.query, this.found);
    }
    // The plans' section is kept as it is: its module fills it.
    this.root.replaceChildren(...parts, this.plans);
    this.render();
  }

  async search() {
    const q = this.query.value;
    if (!q.trim()) {
      this.found.replaceChildren();
      return;
    }
    try {
      const answer = await api('GET', `/api/contacts?${searchQuery({ q, limit: 8 })}`);
      if (q !== this.query.value) return; // a later keystroke's answer will come
      this.found.replaceChildren(
        ...answer.contacts.map((contact) =>
          h(
            'li',
            {},
            h('span', { class: 'contact-name' }, contact.name),
            h('span', { class: 'muted' }, [contact.function, contact.organisation.name].filter(Boolean).join(' · ')),
            h('button', { type: 'button', class: 'btn btn-small', onclick: () => this.add(contact.id) }, t('contacts.list')),
          ),
        ),
      );
    } catch (error) {
      toast(errorText(error), 'error');
    }
  }

  async add(contactId) {
    try {
      const answer = await api('POST', `/api/incidents/${enc(this.incidentId)}/contacts`, { contact_id: contactId });
      this.listed = mergeListed(this.listed, answer.listed);
      this.query.value = '';
      this.found.replaceChildren();
      this.render();
    } catch (error) {
      toast(errorText(error), 'error');
    }
  }

  render() {
    if (!this.list) return;
    if (!this.listed.length) {
      this.list.replaceChildren(h('li', { class: 'muted' }, t('contacts.none')));
      return;
    }
    this.list.replaceChildren(
      ...this.listed.map(({ contact }) =>
        h(
          'li',
          { dataset: { contactId: contact.id } },
          h('div', {}, h('span', { class: 'contact-name' }, contact.name), ' ', h('span', { class: 'muted' }, [contact.function, contact.organisation.name].filter(Boolean).join(' · '))),
          methodList(contact.methods),
        ),
      ),
    );
  }
}
