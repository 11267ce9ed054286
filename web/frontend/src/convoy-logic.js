// The Convoys tab's pure part: how old a fix is and how that reads, the speed, when a tracker
// is silent, and the vehicle alerts grouped per convoy. No DOM: unit-tested.

/** Alerts of one convoy, kind and perimeter within this many seconds are one event for a
 * monitor: a motorcade crossing a zone line raises one alert per vehicle, seconds apart. */
export const GROUP_WINDOW_S = 120;

/** Alerts whose ETA means something: entering a perimeter, leaving the route. Having left a
 * zone or stopped, the time to the destination says nothing of the alert. */
const WITH_ETA = new Set(['enter', 'off_route']);

/** Seconds from the fix's device time to `now` (ms), never below 0 (a clock a little ahead). */
export function fixAge(ts, now) {
  const at = Date.parse(ts || '');
  if (Number.isNaN(at)) return null;
  return Math.max(0, Math.floor((now - at) / 1000));
}

/** "just now", "12 s ago", "3 min 5 s ago", "2 h 10 min ago" in the page's language. */
export function ageText(seconds, t) {
  if (seconds == null) return '—';
  if (seconds < 2) return t('convoys.age.now');
  let span;
  if (seconds < 60) span = `${seconds} s`;
  else if (seconds < 3600) span = `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
  else span = `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min`;
  return t('convoys.age.ago').replace('{age}', span);
}

/** km/h from the fix's m/s, or null when the tracker sent none. */
export function speedKmh(speed) {
  return typeof speed === 'number' && Number.isFinite(speed) ? Math.round(speed * 3.6) : null;
}

/** A tracker is silent once its last fix is older than the hub's `silent_after_s`. */
export function isSilent(seconds, silentAfterS) {
  return seconds != null && seconds >= silentAfterS;
}

export function showsEta(alert) {
  return WITH_ETA.has(alert.alert) && alert.eta_s != null;
}

function alertSeconds(alert) {
  const at = Date.parse(alert.ts || alert.at || '');
  return Number.isNaN(at) ? 0 : at / 1000;
}

/**
 * Alerts (any order) as groups, newest first: `{key, alert, convoy_id, anchor_id, alerts}`,
 * the alerts of a group oldest first. An alert joins the open group of its convoy, kind and
 * perimeter unless that group already has its vehicle or began GROUP_WINDOW_S before it.
 */
export function groupAlerts(alerts, windowS = GROUP_WINDOW_S) {
  const ordered = [...alerts].sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0));
  const open = new Map();
  const groups = [];
  for (const alert of ordered) {
    const key = `${alert.convoy_id ?? ''}|${alert.alert}|${alert.anchor_id ?? ''}`;
    const group = open.get(key);
    const at = alertSeconds(alert);
    const joins =
      group &&
      at - group.start <= windowS &&
      !group.alerts.some((a) => String(a.vehicle_id) === String(alert.vehicle_id));
    if (joins) {
      group.alerts.push(alert);
      continue;
    }
    const made = { key: `${key}|${alert.seq ?? groups.length}`, alert: alert.alert, convoy_id: alert.convoy_id, anchor_id: alert.anchor_id, start: at, alerts: [alert] };
    open.set(key, made);
    groups.push(made);
  }
  return groups.reverse();
}

/** Merge alerts read from the log into those held, by seq, newest first, at most `max`. */
export function mergeAlerts(held, loaded, max) {
  const bySeq = new Map();
  for (const alert of [...held, ...loaded]) {
    const key = alert.seq != null ? `s${alert.seq}` : `x${bySeq.size}`;
    if (!bySeq.has(key)) bySeq.set(key, alert);
  }
  return [...bySeq.values()].sort((a, b) => (b.seq ?? 0) - (a.seq ?? 0)).slice(0, max);
}
