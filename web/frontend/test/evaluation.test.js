import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exportLinks, mayChange, mergePoint } from '../src/evaluation-logic.js';

const point = (id, version, created_at = '2026-05-01T08:00:00Z', author = 'u1') => ({ id, version, created_at, author: { id: author } });

test('a point is put in once, the higher version winning, oldest first', () => {
  let points = mergePoint([], point('b', 1, '2026-05-01T09:00:00Z'));
  points = mergePoint(points, point('a', 1));
  assert.deepEqual(points.map((p) => p.id), ['a', 'b']);
  points = mergePoint(points, point('a', 3));
  points = mergePoint(points, point('a', 2)); // the late event of an earlier version
  assert.equal(points.length, 2);
  assert.equal(points[0].version, 3);
});

test('a point is changed by its author or a manager, never by a viewer', () => {
  const mine = point('a', 1, undefined, 'u1');
  assert.equal(mayChange(mine, { role: 'contributor', userId: 'u1' }), true);
  assert.equal(mayChange(mine, { role: 'contributor', userId: 'u2' }), false);
  assert.equal(mayChange(mine, { role: 'manager', userId: 'u2' }), true);
  assert.equal(mayChange(mine, { role: 'viewer', userId: 'u1' }), false);
});

test('the logbook and the archive are asked for in the page language', () => {
  const links = Object.fromEntries(exportLinks('i/1', 'nl').map((l) => [l.key, l.href]));
  assert.equal(links.logbook, '/api/incidents/i%2F1/logbook.pdf?lang=nl');
  assert.equal(links.archive, '/api/incidents/i%2F1/archive.zip?lang=nl');
  assert.equal(links.feed, '/api/incidents/i%2F1/feed.csv');
  assert.deepEqual(Object.keys(links), ['logbook', 'feed', 'geojson', 'kml', 'archive']);
});
