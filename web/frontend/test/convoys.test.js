import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ageText, fixAge, groupAlerts, isSilent, mergeAlerts, showsEta, speedKmh } from '../src/convoy-logic.js';
import { IncidentStore } from '../src/store.js';
import { DICTIONARIES } from '../src/i18n.js';

const en = (key) => DICTIONARIES.en[key] || key;
const at = (s) => new Date(Date.UTC(2026, 4, 1, 8, 0, s)).toISOString();
const alert = (seq, vehicle, kind, s, extra = {}) => ({ seq, vehicle_id: vehicle, convoy_id: 'c1', alert: kind, ts: at(s), at: at(s), ...extra });

test('the age of a fix counts from its device time, never below zero', () => {
  const now = Date.parse(at(30));
  assert.equal(fixAge(at(0), now), 30);
  assert.equal(fixAge(at(45), now), 0);
  assert.equal(fixAge(null, now), null);
});

test('ages read as a monitor says them', () => {
  assert.equal(ageText(0, en), 'just now');
  assert.equal(ageText(12, en), '12 s ago');
  assert.equal(ageText(185, en), '3 min 5 s ago');
  assert.equal(ageText(7800, en), '2 h 10 min ago');
  assert.equal(ageText(null, en), '—');
  assert.equal(ageText(12, (k) => DICTIONARIES.fr[k]), 'il y a 12 s');
  assert.equal(ageText(12, (k) => DICTIONARIES.nl[k]), '12 s geleden');
});

test('speed in km/h, silence from the threshold on', () => {
  assert.equal(speedKmh(16), 58);
  assert.equal(speedKmh(null), null);
  assert.equal(isSilent(59, 60), false);
  assert.equal(isSilent(60, 60), true);
  assert.equal(isSilent(null, 60), false);
});

test('a zone crossed by a motorcade is one group; another zone or kind is another', () => {
  const alerts = [
    alert(1, 'v1', 'enter', 0, { anchor_id: 'red' }),
    alert(2, 'v2', 'enter', 3, { anchor_id: 'red' }),
    alert(3, 'v1', 'enter', 5, { anchor_id: 'orange' }),
    alert(4, 'v3', 'enter', 6, { anchor_id: 'red' }),
    alert(5, 'v3', 'off_route', 7),
  ];
  const groups = groupAlerts(alerts);
  assert.deepEqual(
    groups.map((g) => [g.alert, g.anchor_id, g.alerts.map((a) => a.vehicle_id)]),
    [
      ['off_route', undefined, ['v3']],
      ['enter', 'orange', ['v1']],
      ['enter', 'red', ['v1', 'v2', 'v3']],
    ],
  );
});

test('the same vehicle again, or a crossing later, starts a new group', () => {
  const groups = groupAlerts([
    alert(1, 'v1', 'enter', 0, { anchor_id: 'red' }),
    alert(2, 'v1', 'enter', 30, { anchor_id: 'red' }),
    alert(3, 'v2', 'enter', 200, { anchor_id: 'red' }),
  ]);
  assert.deepEqual(groups.map((g) => g.alerts.map((a) => a.seq)), [[3], [2], [1]]);
});

test('an ETA is shown for entering and leaving the route only', () => {
  assert.equal(showsEta({ alert: 'enter', eta_s: 60 }), true);
  assert.equal(showsEta({ alert: 'off_route', eta_s: 60 }), true);
  assert.equal(showsEta({ alert: 'exit', eta_s: 60 }), false);
  assert.equal(showsEta({ alert: 'stopped', eta_s: 60 }), false);
  assert.equal(showsEta({ alert: 'enter', eta_s: null }), false);
});

test('alerts from the log merge with live ones by seq, newest first, bounded', () => {
  const merged = mergeAlerts([alert(5, 'v1', 'exit', 9)], [alert(4, 'v1', 'enter', 8), alert(5, 'v1', 'exit', 9)], 200);
  assert.deepEqual(merged.map((a) => a.seq), [5, 4]);
  assert.equal(mergeAlerts([], [alert(1, 'v', 'enter', 0), alert(2, 'v', 'exit', 1)], 1)[0].seq, 2);
});

test('the store loads alerts from convoy.alert events and keeps them across a reset', () => {
  const store = new IncidentStore();
  const seen = [];
  store.subscribe((change) => seen.push(change.type));
  store.apply({ type: 'convoy.alert', seq: 9, at: at(9), data: alert(9, 'v1', 'stopped', 9) });
  store.loadAlerts([
    { type: 'convoy.alert', seq: 3, at: at(3), data: { alert: 'enter', vehicle_id: 'v1' } },
    { type: 'convoy.alert', seq: 9, at: at(9), data: { alert: 'stopped', vehicle_id: 'v1' } },
  ]);
  assert.deepEqual(store.alerts.map((a) => [a.seq, a.alert]), [[9, 'stopped'], [3, 'enter']]);
  assert.deepEqual(seen, ['alert', 'alerts']);
  store.reset({ anchors: { features: [] }, feed: [], convoys: [] }, null);
  assert.equal(store.alerts.length, 2);
});
