// The Convoys tab: each convoy's vehicles with the age of their last fix, kept live (a monitor
// must see at once when a tracker goes quiet), their speed and a flag on a silent tracker; and
// the vehicle alerts, read from the log on load and grouped per convoy.

import { t } from './i18n.js';
import { ageText, fixAge, groupAlerts, isSilent, showsEta, speedKmh } from './convoy-logic.js';
import { formatTime, h } from './util.js';
import './convoys.css';

const TICK_MS = 1000;

export class ConvoysPanel {
  /**
   * @param root the tab's element
   * @param options.silentAfterS the hub's `silent_after_s`: older fixes flag the tracker
   * @param options.show (lon, lat) => void: an alert clicked shows its place on the map
   * @param options.names () => ({ convoys, vehicles, anchors }): the live store's names
   */
  constructor(root, { silentAfterS = 60, show, names }) {
    this.root = root;
    this.silentAfterS = silentAfterS;
    this.show = show;
    this.names = names;
    this.live = true;
    this.timer = setInterval(() => this.tick(), TICK_MS);
  }

  /**
   * Draw the tab. `live` false (a replay): fix times instead of ages, which would be measured
   * from now rather than from the moment shown.
   */
  render({ convoys, vehicles, layer, alerts, live }) {
    this.live = live;
    const groups = [...convoys.values()].map((c) => ({ convoy: c, vehicles: [] }));
    const byId = new Map(groups.map((g) => [g.convoy.id, g]));
    const loose = { convoy: { id: '', name: '—' }, vehicles: [] };
    for (const v of vehicles.values()) (byId.get(v.convoy_id) || loose).vehicles.push(v);
    if (loose.vehicles.length) groups.push(loose);
    const alertGroups = groupAlerts(alerts);
    this.root.replaceChildren(
      groups.length
        ? h(
            'div',
            {},
            groups.map((g) =>
              h('section', { class: 'convoy' }, h('h3', {}, g.convoy.name || g.convoy.id), h('ul', { class: 'vehicles' }, g.vehicles.map((v) => this.vehicleRow(v, layer)))),
            ),
          )
        : h('p', { class: 'muted' }, t('convoys.none')),
      h('h3', {}, t('convoys.alerts')),
      alertGroups.length
        ? h('ol', { class: 'alerts', 'aria-live': 'polite' }, alertGroups.map((g) => this.alertRow(g)))
        : h('p', { class: 'muted' }, t('convoys.no_alerts')),
    );
    this.tick();
  }

  vehicleRow(v, layer) {
    const following = layer.following === v.id;
    const row = h(
      'li',
      { class: following ? 'vehicle followed' : 'vehicle', dataset: { vehicleId: v.id } },
      h('span', { class: 'vehicle-name' }, v.label),
      h('span', { class: 'vehicle-fix' }, h('span', { class: 'vehicle-age muted' }), h('span', { class: 'vehicle-speed muted' }), h('span', { class: 'badge vehicle-silent', hidden: true }, t('convoys.silent'))),
      h(
        'button',
        {
          type: 'button',
          class: 'btn btn-small',
          'aria-pressed': following ? 'true' : 'false',
          'aria-label': `${following ? t('convoys.unfollow') : t('convoys.follow')}: ${v.label}`,
          disabled: !v.position,
          onclick: () => layer.follow(following ? null : v.id),
        },
        following ? t('convoys.unfollow') : t('convoys.follow'),
      ),
    );
    this.fill(row, v.position);
    return row;
  }

  /** A new fix of a live vehicle: its row changes without the tab being drawn again. */
  updateVehicle(vehicle) {
    if (!this.live) return;
    const row = this.row(vehicle.id);
    if (!row) return;
    this.fill(row, vehicle.position);
    const button = row.querySelector('button');
    if (button && vehicle.position) button.disabled = false;
  }

  row(id) {
    return [...this.root.querySelectorAll('li.vehicle')].find((li) => li.dataset.vehicleId === String(id)) || null;
  }

  fill(row, position) {
    const age = row.querySelector('.vehicle-age');
    const speed = row.querySelector('.vehicle-speed');
    row.dataset.ts = (position && position.ts) || '';
    const kmh = position ? speedKmh(position.speed) : null;
    speed.textContent = kmh == null ? '' : `${kmh} ${t('convoys.speed')}`;
    age.title = position ? formatTime(position.ts, true) : '';
    if (!this.live) age.textContent = position ? formatTime(position.ts) : '—';
    this.age(row);
  }

  /** The age of one row's fix as of now, and the silent flag. */
  age(row) {
    if (!this.live) return;
    const seconds = row.dataset.ts ? fixAge(row.dataset.ts, Date.now()) : null;
    const silent = isSilent(seconds, this.silentAfterS);
    row.querySelector('.vehicle-age').textContent = ageText(seconds, t);
    row.querySelector('.vehicle-silent').hidden = !silent;
    row.classList.toggle('vehicle-is-silent', silent);
  }

  tick() {
    if (!this.live || this.root.hidden) return;
    for (const row of this.root.querySelectorAll('li.vehicle')) this.age(row);
  }

  /** What an alert group says: its vehicles, what they did, where; ETA only where it means something. */
  groupText(group) {
    const { convoys, vehicles, anchors } = this.names();
    const first = group.alerts[0];
    const labels = group.alerts.map((a) => {
      const v = vehicles.get(String(a.vehicle_id));
      return (v && v.label) || a.vehicle_label || a.vehicle_id;
    });
    const convoy = group.convoy_id != null ? convoys.get(String(group.convoy_id)) : null;
    const anchor = first.anchor_id != null ? anchors.get(String(first.anchor_id)) : null;
    const zone = anchor ? anchor.label || t(`anchor.${anchor.kind}`) : first.anchor_label || '';
    const verb = labels.length > 1 ? t(`alert.many.${first.alert}`) : t(`alert.${first.alert}`);
    const distance = first.alert === 'off_route' && first.distance_m != null ? ` (${Math.round(first.distance_m)} m)` : '';
    const eta = showsEta(first) ? ` (ETA ${Math.round(first.eta_s / 60)} min)` : '';
    const who = convoy && labels.length > 1 ? `${convoy.name}: ${labels.join(', ')}` : labels.join(', ');
    return `${who} ${verb}${zone ? ` ${zone}` : ''}${distance}${eta}`;
  }

  alertRow(group) {
    const first = group.alerts[0];
    return h(
      'li',
      { class: `alert alert-${group.alert}`, dataset: { count: String(group.alerts.length) } },
      h('time', { datetime: first.ts || first.at }, formatTime(first.ts || first.at)),
      ' ',
      h('button', { type: 'button', class: 'link', onclick: () => this.show(first.lon, first.lat) }, this.groupText(group)),
    );
  }

  /** A toast for a live alert when it starts a group; the rest of the group joins it silently. */
  toastText(alert, alerts) {
    const [latest] = groupAlerts(alerts).filter((g) => g.alerts.includes(alert));
    return latest && latest.alerts[0] === alert ? this.groupText(latest) : null;
  }
}
