import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  Latest,
  ProgressSamples,
  deliveryView,
  formatDuration,
  allowedActions,
  areaNames,
  areaPayload,
  changedFields,
  completeInfo,
  draftPayload,
  fromLocalInput,
  hasPublicPage,
  isPerimeter,
  markerWord,
  perimeters,
  splitMarker,
  toLocalInput,
} from '../src/alert-logic.js';
import { IncidentStore } from '../src/store.js';
import { DICTIONARIES, LANGS } from '../src/i18n.js';
import {
  ALERT_CHANNELS,
  ALERT_LANGUAGES,
  ALERT_STATES,
  CAP_CATEGORIES,
  CAP_STATUSES,
  CERTAINTIES,
  MSG_TYPES,
  SEVERITIES,
  URGENCIES,
} from '../src/enums.js';

const square = { type: 'Polygon', coordinates: [[[4, 50], [4.1, 50], [4.1, 50.1], [4, 50.1], [4, 50]]] };
const zone = (id, kind, label, geometry = square, properties = {}) => ({ id, kind, label, geometry, properties });

test('perimeters are zones drawn as polygons or circles, in order of severity then label', () => {
  const anchors = [
    zone('1', 'dissuasion_zone', 'Outer'),
    zone('2', 'command_post', 'CP', { type: 'Point', coordinates: [4, 50] }),
    zone('3', 'exclusion_zone', 'B site'),
    zone('4', 'isolation_zone', 'Ring', { type: 'Point', coordinates: [4, 50] }, { radius_m: 500 }),
    zone('5', 'exclusion_zone', 'A site'),
    zone('6', 'isolation_zone', 'No radius', { type: 'Point', coordinates: [4, 50] }),
    zone('7', 'exclusion_zone', 'Road', { type: 'LineString', coordinates: [[4, 50], [4.1, 50]] }),
  ];
  assert.deepEqual(perimeters(anchors).map((a) => a.id), ['5', '3', '4', '1']);
  assert.equal(isPerimeter(anchors[1]), false);
  assert.equal(isPerimeter(null), false);
});

test('an area is named by its perimeters, or as drawn', () => {
  const anchors = new Map([['5', zone('5', 'exclusion_zone', 'Seveso site')], ['6', zone('6', 'isolation_zone', '')]]);
  const names = { drawn: 'Drawn area', unnamed: '—' };
  assert.deepEqual(areaNames({ anchor_ids: ['5', '6', '9'] }, anchors, names), ['Seveso site', '—', '#9']);
  assert.deepEqual(areaNames({ anchor_ids: [], geometry: square }, anchors, names), ['Drawn area']);
  assert.deepEqual(areaPayload({ anchorIds: ['5'], geometry: square }), { anchor_ids: ['5'] });
  assert.deepEqual(areaPayload({ anchorIds: [], geometry: square }), { geometry: square });
  assert.equal(areaPayload({ anchorIds: [], geometry: null }), null);
});

test('exercise and test texts start with their marker, and the page can show it apart', () => {
  assert.equal(markerWord('Exercise', 'fr'), 'EXERCICE');
  assert.equal(markerWord('Exercise', 'nl'), 'OEFENING');
  assert.equal(markerWord('Exercise', 'de'), 'ÜBUNG');
  assert.equal(markerWord('Exercise', 'en'), 'EXERCISE');
  assert.equal(markerWord('Test', 'de'), 'TEST');
  assert.equal(markerWord('Actual', 'fr'), '');
  assert.deepEqual(splitMarker('EXERCICE - Fuite de gaz', 'Exercise', 'fr'), { marker: 'EXERCICE', rest: ' - Fuite de gaz' });
  assert.deepEqual(splitMarker('Fuite de gaz', 'Actual', 'fr'), { marker: '', rest: 'Fuite de gaz' });
  assert.deepEqual(splitMarker('Fuite', 'Exercise', 'fr'), { marker: '', rest: 'Fuite' });
});

test('only languages with all three texts are previewed or sent, trimmed, in the hub order', () => {
  const info = {
    en: { headline: ' Gas leak ', description: 'A leak', instruction: 'Stay inside' },
    fr: { headline: 'Fuite', description: 'Une fuite', instruction: 'Restez à l’intérieur' },
    nl: { headline: 'Gaslek', description: '', instruction: 'Blijf binnen' },
  };
  const complete = completeInfo(info);
  assert.deepEqual(Object.keys(complete), ['fr', 'en']);
  assert.equal(complete.en.headline, 'Gas leak');
});

test('the form becomes the body the hub takes; expires goes out in UTC', () => {
  const local = toLocalInput('2030-05-01T10:30:00Z');
  assert.match(local, /^2030-05-0\dT\d\d:30$/);
  assert.equal(fromLocalInput(local), '2030-05-01T10:30:00.000Z');
  assert.equal(fromLocalInput(''), null);
  const values = {
    anchorIds: ['5'],
    geometry: null,
    info: { fr: { headline: 'Fuite', description: 'Une fuite', instruction: 'Restez' } },
    event: ' Gas leak ',
    category: 'CBRNE',
    urgency: 'Immediate',
    severity: 'Severe',
    certainty: 'Likely',
    expires: local,
    channels: ['sms', 'email'],
    capStatus: 'Test',
  };
  assert.deepEqual(draftPayload(values), {
    area: { anchor_ids: ['5'] },
    info: values.info,
    event: 'Gas leak',
    category: 'CBRNE',
    urgency: 'Immediate',
    severity: 'Severe',
    certainty: 'Likely',
    expires: '2030-05-01T10:30:00.000Z',
    channels: ['sms', 'email'],
    cap_status: 'Test',
  });
});

test('an update carries only what changed', () => {
  const sent = {
    area: { anchor_ids: ['5', '6'], geometry: square },
    info: { fr: { headline: 'Fuite', description: 'Une fuite', instruction: 'Restez' } },
    event: 'Gas leak',
    category: 'CBRNE',
    urgency: 'Immediate',
    severity: 'Severe',
    certainty: 'Likely',
    expires: '2030-05-01T10:30:00Z',
    channels: ['sms', 'email'],
  };
  const same = {
    ...sent,
    area: { anchor_ids: ['6', '5'] },
    info: { fr: { instruction: 'Restez', headline: 'Fuite', description: 'Une fuite' } },
    expires: '2030-05-01T10:30:00.000Z',
    channels: ['email', 'sms'],
  };
  assert.deepEqual(changedFields(sent, same), {});
  const changed = { ...same, severity: 'Extreme', area: { geometry: square } };
  assert.deepEqual(changedFields(sent, changed), { area: { geometry: square }, severity: 'Extreme' });
  const drawn = { ...sent, area: { anchor_ids: [], geometry: square } };
  assert.deepEqual(changedFields(drawn, { ...same, area: { geometry: square } }), {});
});

test('each role sees what it may do with an alert in its state', () => {
  const draft = { state: 'draft', cap_status: 'Actual' };
  const sent = { state: 'sent', cap_status: 'Actual' };
  assert.deepEqual(allowedActions(draft, 'viewer'), { edit: false, send: false, update: false, cancel: false });
  assert.deepEqual(allowedActions(draft, 'contributor'), { edit: true, send: false, update: false, cancel: false });
  assert.deepEqual(allowedActions(draft, 'manager'), { edit: true, send: true, update: false, cancel: false });
  assert.deepEqual(allowedActions(sent, 'contributor'), { edit: false, send: false, update: false, cancel: false });
  assert.deepEqual(allowedActions(sent, 'manager'), { edit: false, send: false, update: true, cancel: true });
  assert.deepEqual(allowedActions({ state: 'cancelled' }, 'manager'), { edit: false, send: false, update: false, cancel: false });
  const closed = { closed: true };
  assert.deepEqual(allowedActions(draft, 'manager', closed), { edit: false, send: false, update: false, cancel: false });
  assert.deepEqual(allowedActions(sent, 'manager', closed), { edit: false, send: false, update: false, cancel: true });
  assert.equal(hasPublicPage(sent), true);
  assert.equal(hasPublicPage(draft), false);
  assert.equal(hasPublicPage({ state: 'sent', cap_status: 'Exercise' }), false);
});

/** Timers the test moves by hand. */
function fakeTimers() {
  const pending = new Map();
  let next = 1;
  return {
    setTimeout: (fn) => {
      pending.set(next, fn);
      return next++;
    },
    clearTimeout: (id) => pending.delete(id),
    fire() {
      const fns = [...pending.values()];
      pending.clear();
      for (const fn of fns) fn();
    },
    get size() {
      return pending.size;
    },
  };
}

test('Latest waits for quiet, and shows only the answer to the last call', async () => {
  const timers = fakeTimers();
  const seen = [];
  const latest = new Latest(400, (r) => seen.push(r), (e) => seen.push(`error ${e}`), timers);
  let release;
  latest.run(() => new Promise((resolve) => (release = resolve)));
  timers.fire();
  latest.run(async () => 'second'); // typed again while the first call was out
  release('first');
  await Promise.resolve();
  await Promise.resolve();
  assert.deepEqual(seen, []);
  latest.run(async () => 'third');
  assert.equal(timers.size, 1); // one timer at a time: the earlier run was superseded
  timers.fire();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(seen, ['third']);
  latest.run(async () => {
    throw 'invalid';
  });
  await latest.flush();
  assert.deepEqual(seen, ['third', 'error invalid']);
  latest.run(async () => 'cancelled');
  latest.cancel();
  timers.fire();
  await latest.flush();
  assert.deepEqual(seen, ['third', 'error invalid']);
});

test('the store keeps the newest version of each alert, from events, answers and lists', () => {
  const store = new IncidentStore();
  const changes = [];
  store.subscribe((c) => changes.push(c.type));
  const alert = { id: 'a1', version: 1, state: 'draft', created_at: '2030-01-01T10:00:00Z', progress: {} };
  store.apply({ type: 'alert.drafted', seq: 1, data: alert });
  store.apply({ type: 'alert.sent', seq: 2, data: { ...alert, version: 2, state: 'sent' } });
  assert.equal(store.populationAlerts.get('a1').state, 'sent');
  assert.equal(store.upsertPopulationAlert({ ...alert, version: 1 }), false); // a late ack
  store.setAlertProgress({ alert_id: 'a1', by_channel: { sms: { queued: 1, sent: 2, delivered: 0, failed: 0 } } });
  assert.equal(store.populationAlerts.get('a1').progress.sms.sent, 2);
  // The list fetched after a snapshot is older than what the events brought: the event wins.
  store.setPopulationAlerts([{ ...alert }, { id: 'a2', version: 1, state: 'draft', created_at: '2030-01-01T11:00:00Z' }]);
  assert.equal(store.populationAlerts.get('a1').state, 'sent');
  assert.deepEqual(store.populationAlertList().map((a) => a.id), ['a2', 'a1']);
  // A snapshot does not forget them; convoy alerts stay apart.
  store.reset({ anchors: { features: [] }, feed: [], convoys: [], online: [] }, { id: 'i', kind: 'exercise' });
  assert.equal(store.populationAlerts.size, 2);
  assert.equal(store.alerts.length, 0);
  assert.deepEqual(changes.slice(0, 4), ['population-alert', 'population-alert', 'population-alert', 'population-alerts']);
});

test('every string the Alerts panel shows exists in every language', () => {
  const source = readFileSync(new URL('../src/alerts.js', import.meta.url), 'utf8');
  const keys = new Set([...source.matchAll(/t\('(alerts\.[\w.]+)'/g)].map((m) => m[1]));
  const add = (prefix, values) => values.forEach((v) => keys.add(`alerts.${prefix}.${v}`));
  add('state', ALERT_STATES);
  add('status', CAP_STATUSES);
  add('msg', MSG_TYPES);
  add('channel', ALERT_CHANNELS);
  add('lang', ALERT_LANGUAGES);
  add('category', CAP_CATEGORIES);
  add('urgency', URGENCIES);
  add('severity', SEVERITIES);
  add('certainty', CERTAINTIES);
  for (const key of ['headline', 'description', 'instruction']) keys.add(`alerts.${key}`);
  for (const step of ['send', 'update', 'cancel']) {
    keys.add(`alerts.confirm_${step}.title`);
    keys.add(`alerts.confirm_${step}.button`);
  }
  keys.add('tab.alerts');
  assert.ok(keys.size > 100);
  for (const lang of LANGS) for (const key of keys) assert.ok(key in DICTIONARIES[lang], `${lang}: ${key}`);
});

test('a channel bar: handed over of all, the rate over recent samples, the time left', () => {
  const samples = new ProgressSamples(30_000);
  const key = 'a1:sms';
  assert.deepEqual(deliveryView({ queued: 900, sent: 100, delivered: 0, failed: 0 }, samples.add(key, 100, 0)), {
    done: 100,
    total: 1000,
    rate: null, // one sample: no rate yet
    left: null,
  });
  samples.add(key, 100, 500); // the same count within a second is not kept twice
  const view = deliveryView({ queued: 700, sent: 250, delivered: 40, failed: 10 }, samples.add(key, 300, 2000));
  assert.equal(view.done, 300);
  assert.equal(view.total, 1000);
  assert.equal(view.rate, 100); // 200 more in 2 s
  assert.equal(view.left, 7);
  // beyond the window the old samples go: the rate is the recent one
  const later = samples.add(key, 900, 40_000);
  assert.equal(later.length, 1);
  assert.deepEqual(deliveryView({ queued: 0, sent: 900, delivered: 0, failed: 100 }, later), {
    done: 1000,
    total: 1000,
    rate: null,
    left: 0, // nothing queued: done
  });
  assert.equal(formatDuration(45), '45 s');
  assert.equal(formatDuration(700), '12 min');
  assert.equal(formatDuration(3900), '1 h 05');
});
