import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IncidentStore, filterEntries, normalizeAnchor, routeGeometries } from '../src/store.js';

const point = (lon, lat) => ({ type: 'Point', coordinates: [lon, lat] });
const anchor = (id, version, extra = {}) => ({ id, incident_id: 'i', kind: 'command_post', label: 'CP', geometry: point(4.35, 50.85), properties: {}, version, ...extra });

const snapshot = () => ({
  anchors: {
    type: 'FeatureCollection',
    features: [{ type: 'Feature', id: 'a1', geometry: point(4.4, 50.8), properties: { kind: 'exclusion_zone', label: 'Zone', version: 2, colour: 'x' } }],
  },
  feed: [
    { id: 'e1', seq: 1, kind: 'info', priority: 'normal', text: 'one', author: { discipline: 'D1' } },
    { id: 'e2', seq: 2, kind: 'decision', priority: 'flash', text: 'two', author: { discipline: 'D3' } },
  ],
  convoys: [{ id: 'c1', name: 'Motorcade', route: { type: 'LineString', coordinates: [[4, 50], [5, 51]] }, vehicles: [{ id: 'v1', label: 'V1', last_position: { lat: 50.1, lon: 4.1, ts: '2024-01-01T10:00:00Z' } }] }],
  online: [{ user_id: 'u1', name: 'Ann', organisation: 'Fire' }],
});

test('a Feature becomes an anchor with its own properties apart', () => {
  const a = normalizeAnchor(snapshot().anchors.features[0]);
  assert.equal(a.id, 'a1');
  assert.equal(a.kind, 'exclusion_zone');
  assert.equal(a.version, 2);
  assert.deepEqual(a.properties, { colour: 'x' });
});

test('reset loads a snapshot', () => {
  const s = new IncidentStore();
  s.reset(snapshot(), { id: 'i', kind: 'exercise' });
  assert.equal(s.anchors.size, 1);
  assert.equal(s.entries.size, 2);
  assert.equal(s.vehicles.get('v1').trail.length, 1);
  assert.equal(s.online.length, 1);
  assert.equal(s.incident.kind, 'exercise');
});

test('anchor versions only move forward; a deletion sticks', () => {
  const s = new IncidentStore();
  assert.equal(s.upsertAnchor(anchor('a', 3)), true);
  assert.equal(s.upsertAnchor(anchor('a', 2, { label: 'old' })), false);
  assert.equal(s.anchors.get('a').label, 'CP');
  s.apply({ seq: 9, type: 'anchor.deleted', data: anchor('a', 4, { deleted: true }) });
  assert.equal(s.anchors.has('a'), false);
  assert.equal(s.upsertAnchor(anchor('a', 3)), false, 'a late event does not bring it back');
});

test('corrections mark the original, and feed filters work', () => {
  const s = new IncidentStore();
  s.reset(snapshot(), null);
  s.apply({ seq: 3, type: 'feed.corrected', data: { id: 'e3', seq: 3, kind: 'info', priority: 'normal', text: 'uno', corrects: 'e1', author: { discipline: 'D1' } } });
  assert.equal(s.correctedIds().get('e1').id, 'e3');
  assert.deepEqual(s.feed().map((e) => e.id), ['e3', 'e2', 'e1']);
  assert.deepEqual(s.feed({ priority: 'flash' }).map((e) => e.id), ['e2']);
  assert.deepEqual(s.feed({ discipline: 'D1' }).map((e) => e.id), ['e3', 'e1']);
  assert.deepEqual(filterEntries([{ id: 'x' }], { kind: 'info', priority: 'normal' }).length, 1, 'defaults');
});

test('positions move vehicles, extend trails, skip older fixes and report unknown vehicles', () => {
  const s = new IncidentStore();
  s.reset(snapshot(), null);
  const unknown = s.applyPositions([
    { vehicle_id: 'v1', convoy_id: 'c1', lat: 50.2, lon: 4.2, ts: '2024-01-01T10:00:05Z' },
    { vehicle_id: 'v9', convoy_id: 'c1', lat: 50.3, lon: 4.3, ts: '2024-01-01T10:00:05Z' },
  ]);
  assert.deepEqual(unknown, ['v9']);
  s.applyPositions([{ vehicle_id: 'v1', lat: 49, lon: 3, ts: '2024-01-01T09:00:00Z' }]);
  const v1 = s.vehicles.get('v1');
  assert.equal(v1.position.lat, 50.2);
  assert.deepEqual(v1.trail, [[50.1, 4.1], [50.2, 4.2]]);
});

test('a stored track replaces the trail, convoy refresh keeps trails', () => {
  const s = new IncidentStore();
  s.reset(snapshot(), null);
  s.setTrack('v1', { type: 'Feature', geometry: { type: 'LineString', coordinates: [[4.0, 50.0], [4.1, 50.1]] }, properties: {} });
  assert.deepEqual(s.vehicles.get('v1').trail, [[50.0, 4.0], [50.1, 4.1]]);
  s.setConvoys(snapshot().convoys);
  assert.equal(s.vehicles.get('v1').trail.length, 2);
});

test('alerts are kept once each, newest first', () => {
  const s = new IncidentStore();
  const alert = (seq) => ({ seq, type: 'convoy.alert', at: 't', data: { alert: 'enter', vehicle_id: 'v1', lat: 50, lon: 4, ts: 't' } });
  s.apply(alert(5));
  s.apply(alert(6));
  s.addAlert({ ...alert(6).data, seq: 6 });
  assert.deepEqual(s.alerts.map((a) => a.seq), [6, 5]);
});

test('routes may be geometries, Features or FeatureCollections', () => {
  const line = { type: 'LineString', coordinates: [] };
  assert.deepEqual(routeGeometries(line), [line]);
  assert.deepEqual(routeGeometries({ type: 'Feature', geometry: line }), [line]);
  assert.deepEqual(routeGeometries({ type: 'FeatureCollection', features: [{ type: 'Feature', geometry: line }] }), [line]);
  assert.deepEqual(routeGeometries(null), []);
});
