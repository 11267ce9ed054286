// The plans half of the incident's "Contacts and plans" tab: the plans activated in the incident
// (the snapshot's `plans`, then `plan.activated` events) and those proposed for its incident
// site (GET /api/incidents/{id}/plans, asked again when an incident site changes or a plan is
// activated). A manager activates one after a confirmation that says what it will do; the
// anchors, contacts and decision then arrive as the incident's own events.

import './plans.css';
import { onLangChange, t } from './i18n.js';
import { openDialog } from './dialog.js';
import { api, errorText, formatTime, h, toast } from './util.js';
import { activationCounts, errorLine, mergeActivated, stillProposed } from './plans-logic.js';

const enc = encodeURIComponent;
const REFRESH_DEBOUNCE_MS = 300;

export class PlansPanel {
  constructor(root, store, { incidentId, role }) {
    this.root = root;
    this.store = store;
    this.incidentId = incidentId;
    this.pageRole = role;
    this.activated = [];
    this.proposed = [];
    this.sites = new Set(); // ids of the incident-site anchors, to see one removed
    this.status = '';
    this.timer = null;
    root.classList.add('plans-panel');
    store.subscribe((change) => this._changed(change));
    onLangChange(() => this.render());
    this.render();
  }

  /** The caller's role in the incident: the join answer's, else the page's. */
  get isManager() {
    return ((this.store.incident && this.store.incident.role) || this.pageRole) === 'manager';
  }

  _changed(change) {
    if (change.type === 'reset') {
      this.activated = [...this.store.plans];
      this.sites = new Set([...this.store.anchors.values()].filter((a) => a.kind === 'incident_site').map((a) => a.id));
      this.render();
      this.refresh();
    } else if (change.type === 'plan') {
      this.activated = mergeActivated(this.activated, change.activation);
      this.render();
      this.refresh();
    } else if (change.type === 'anchor') {
      const site = change.anchor && change.anchor.kind === 'incident_site';
      if (!site && !this.sites.has(change.id)) return;
      if (site) this.sites.add(change.id);
      else this.sites.delete(change.id);
      this.refresh();
    }
  }

  /** Ask the proposals again, once for a burst of changes. */
  refresh() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.load(), REFRESH_DEBOUNCE_MS);
  }

  async load() {
    try {
      const answer = await api('GET', `/api/incidents/${enc(this.incidentId)}/plans`);
      for (const activation of answer.activated) this.activated = mergeActivated(this.activated, activation);
      this.proposed = answer.proposed;
      this.render();
    } catch (error) {
      toast(errorText(error), 'error');
    }
  }

  async activate(summary) {
    let plan;
    try {
      plan = (await api('GET', `/api/plans/${enc(summary.id)}`)).plan;
    } catch (error) {
      toast(errorText(error), 'error');
      return;
    }
    const counts = activationCounts(plan);
    if (!counts) {
      toast(t('plans.no_approved'), 'error');
      return;
    }
    const answer = await openDialog({
      title: t('plans.activate_title', { title: plan.title }),
      className: 'dialog-activate-plan',
      body: h('p', { class: 'plan-activate-text' }, t('plans.activate_text', counts)),
      actions: [
        { label: t('plans.cancel'), value: 'cancel' },
        { label: t('plans.activate'), value: 'activate', primary: true },
      ],
    });
    if (!answer) return;
    try {
      const done = await api('POST', `/api/incidents/${enc(this.incidentId)}/plans`, { plan_id: plan.id });
      this.activated = mergeActivated(this.activated, done.activation);
      this.status = done.created ? t('plans.activated_ok') : t('plans.already');
      this.render();
      this.refresh();
    } catch (error) {
      toast(errorLine(error, errorText(error)), 'error');
    }
  }

  render() {
    const activated = this.activated.length
      ? h(
          'ol',
          { class: 'plan-results', id: 'incident-plans-activated' },
          this.activated.map((a) =>
            h(
              'li',
              { dataset: { planId: a.plan.id } },
              h('a', { class: 'plan-title', href: `/plans?plan=${enc(a.plan.id)}` }, a.plan.title),
              h(
                'span',
                { class: 'muted' },
                t('plans.activated_by', { version: a.version, name: a.activated_by ? a.activated_by.name : t('plans.someone'), at: formatTime(a.activated_at, true) }),
              ),
            ),
          ),
        )
      : h('p', { class: 'muted', id: 'incident-plans-activated' }, t('plans.none_activated'));
    const proposed = stillProposed(this.proposed, this.activated);
    const proposals = proposed.length
      ? h(
          'ul',
          { class: 'plan-results', id: 'incident-plans-proposed' },
          proposed.map((plan) =>
            h(
              'li',
              { dataset: { planId: plan.id } },
              h('span', { class: 'plan-title' }, plan.title),
              h('span', { class: 'muted' }, [t(`plans.kind.${plan.kind}`), t(`plans.level.${plan.level}`), plan.organisation.name, `v${plan.approved_version}`].join(' · ')),
              this.isManager ? h('button', { type: 'button', class: 'btn btn-small btn-primary plan-activate', onclick: () => this.activate(plan) }, t('plans.activate')) : null,
            ),
          ),
        )
      : h('p', { class: 'muted', id: 'incident-plans-proposed' }, t(this.activated.length ? 'plans.none_other' : 'plans.none_proposed'));
    const status = this.status ? h('p', { class: 'plan-status', id: 'incident-plans-status', role: 'status' }, this.status) : '';
    this.root.replaceChildren(h('h3', {}, t('plans.activated')), activated, status, h('h3', {}, t('plans.proposed')), proposals);
  }
}
