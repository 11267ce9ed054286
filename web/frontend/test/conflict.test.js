import { test } from 'node:test';
import assert from 'node:assert/strict';
import { apart, centre, conflictRows } from '../src/conflict-logic.js';

const point = (lon, lat) => ({ type: 'Point', coordinates: [lon, lat] });
const square = (lon, lat, d) => ({
  type: 'Polygon',
  coordinates: [[[lon - d, lat - d], [lon + d, lat - d], [lon + d, lat + d], [lon - d, lat + d]]],
});

test('a shape is where the mean of its corners is', () => {
  assert.deepEqual(centre(square(4.35, 50.84, 0.01)).map((x) => x.toFixed(6)), ['4.350000', '50.840000']);
  assert.equal(centre({ type: 'Point' }), null);
});

test('moves are measured in metres', () => {
  // 0.001° of latitude is 111 m everywhere
  assert.equal(apart(point(4.35, 50.84), point(4.35, 50.841)), 111);
  assert.equal(apart(square(4.35, 50.84, 0.01), square(4.35, 50.84, 0.02)), 0);
});

test('the rows put their label and move beside mine', () => {
  const base = { label: 'CP', geometry: point(4.35, 50.84) };
  const current = { label: 'CP Monnaie', geometry: point(4.35, 50.841) };
  assert.deepEqual(conflictRows(current, base, { label: 'CP Nord' }), [
    { what: 'label', theirs: 'CP Monnaie', mine: 'CP Nord' },
    { what: 'place', theirs: 111, mine: null },
  ]);
  assert.deepEqual(conflictRows(current, base, { geometry: point(4.35, 50.843) }), [
    { what: 'label', theirs: 'CP Monnaie', mine: null },
    { what: 'place', theirs: 111, mine: 222 },
  ]);
  assert.deepEqual(conflictRows(current, base, null)[0], { what: 'label', theirs: 'CP Monnaie', mine: null });
});
