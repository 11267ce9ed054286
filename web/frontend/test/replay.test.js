import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Latest, StateCache, lifeOf, neighbours, trackOf, trailUpTo } from '../src/replay-logic.js';

const track = trackOf({
  geometry: { coordinates: [[4.1, 50.1], [4.2, 50.2], [4.3, 50.3]] },
  properties: { times: ['2026-05-01T10:00:00Z', '2026-05-01T10:00:10Z', '2026-05-01T10:00:20Z'] },
});

test('a trail holds the fixes up to the moment, as [lat, lon]', () => {
  assert.deepEqual(trailUpTo(track, Date.parse('2026-05-01T09:59:59Z')), []);
  assert.deepEqual(trailUpTo(track, Date.parse('2026-05-01T10:00:10Z')), [[50.1, 4.1], [50.2, 4.2]]);
  assert.deepEqual(trailUpTo(track, Date.parse('2026-05-01T11:00:00Z')).length, 3);
  assert.deepEqual(trailUpTo(null, 0), []);
});

test('the previous and next events around a moment, each shown once its time has passed', () => {
  const events = [{ at: '2026-05-01T10:00:00.000500Z' }, { at: '2026-05-01T10:00:05Z' }, { at: '2026-05-01T10:00:09Z' }];
  const five = Date.parse('2026-05-01T10:00:05Z') + 1;
  assert.deepEqual(neighbours(events, five), { previous: Date.parse('2026-05-01T10:00:00Z') + 1, next: Date.parse('2026-05-01T10:00:09Z') + 1 });
  assert.deepEqual(neighbours(events, five + 1000), { previous: five, next: Date.parse('2026-05-01T10:00:09Z') + 1 });
  assert.deepEqual(neighbours([], five), { previous: null, next: null });
});

test('the cache forgets the least recently used', () => {
  const cache = new StateCache(2);
  cache.set(1, 'a');
  cache.set(2, 'b');
  cache.get(1);
  cache.set(3, 'c');
  assert.equal(cache.get(2), undefined);
  assert.equal(cache.get(1), 'a');
});

test('one request at a time, and only the latest wish once it is done', async () => {
  const asked = [];
  const shown = [];
  let release;
  const latest = new Latest(
    (key) => {
      asked.push(key);
      return new Promise((resolve) => {
        release = () => resolve(key);
      });
    },
    (key) => shown.push(key),
  );
  latest.want(1);
  latest.want(2);
  latest.want(3);
  release();
  await new Promise((r) => setTimeout(r, 0));
  release();
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(asked, [1, 3]);
  assert.deepEqual(shown, [1, 3]);
});

test('the life of an incident ends when it closed, or now', () => {
  const open = { created_at: '2026-05-01T10:00:00Z', closed_at: null };
  assert.deepEqual(lifeOf(open, Date.parse('2026-05-01T12:00:00Z')), { start: Date.parse('2026-05-01T10:00:00Z') + 1, end: Date.parse('2026-05-01T12:00:00Z') });
  const closed = { ...open, closed_at: '2026-05-01T11:00:00Z' };
  assert.equal(lifeOf(closed, Date.parse('2026-05-02T00:00:00Z')).end, Date.parse('2026-05-01T11:00:00Z'));
});
