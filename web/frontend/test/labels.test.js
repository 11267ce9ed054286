import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PRIORITY, YIELDS_TO_SYMBOLS, declutter, fitInside, labelShownAt, legendRows } from '../src/label-logic.js';
import { ANCHOR_KINDS } from '../src/symbols.js';

const box = (left, top, width = 60, height = 16) => ({ left, top, right: left + width, bottom: top + height });

test('bunched labels: the one that matters most is kept, the ones it would cover are hidden', () => {
  // Three vehicles a few pixels apart ("Le… Vi… Es…"), one followed.
  const items = [
    { id: 'lead', priority: PRIORITY.vehicle, rect: box(100, 100) },
    { id: 'vip', priority: PRIORITY.focused, rect: box(110, 104) },
    { id: 'escort', priority: PRIORITY.vehicle, rect: box(120, 108) },
    { id: 'far', priority: PRIORITY.vehicle, rect: box(300, 100) },
  ];
  assert.deepEqual([...declutter(items)].sort(), ['far', 'vip']);
  // None followed: the first given wins among equals.
  assert.deepEqual([...declutter(items.map((i) => ({ ...i, priority: PRIORITY.vehicle })))].sort(), ['far', 'lead']);
});

test('labels that only touch count as overlapping; apart by more than the gap they both show', () => {
  assert.equal(declutter([{ id: 'a', priority: 1, rect: box(0, 0) }, { id: 'b', priority: 1, rect: box(61, 0) }]).size, 1);
  assert.equal(declutter([{ id: 'a', priority: 1, rect: box(0, 0) }, { id: 'b', priority: 1, rect: box(64, 0) }]).size, 2);
  assert.equal(declutter([{ id: 'a', priority: 1, rect: box(0, 0) }, { id: 'b', priority: 1, rect: box(0, 20) }]).size, 2);
});

test('the innermost perimeter keeps its name over the outer ones, and over points', () => {
  const items = [
    { id: 'yellow', priority: PRIORITY.dissuasion_zone, rect: box(100, 100) },
    { id: 'cp', priority: PRIORITY.point, rect: box(105, 100) },
    { id: 'red', priority: PRIORITY.exclusion_zone, rect: box(110, 100) },
  ];
  assert.deepEqual([...declutter(items)], ['red']);
});

test("a vehicle's label past the map's right edge goes to its left; others are moved inside", () => {
  // A 360 px phone: the label 320..400 of a marker at 306 flips to the left of it.
  assert.deepEqual(fitInside({ left: 320, top: 0, right: 400, bottom: 16 }, 360, { side: 'right', offset: 14 }), { flip: true, shift: -108 });
  // Inside: left alone.
  assert.deepEqual(fitInside({ left: 20, top: 0, right: 100, bottom: 16 }, 360, { side: 'right' }), { flip: false, shift: 0 });
  // A zone's centred name past either edge slides in.
  assert.deepEqual(fitInside({ left: 330, top: 0, right: 400, bottom: 16 }, 360), { flip: false, shift: -40 });
  assert.deepEqual(fitInside({ left: -25, top: 0, right: 45, bottom: 16 }, 360), { flip: false, shift: 25 });
  // Wider than the map: its start stays in view.
  assert.deepEqual(fitInside({ left: -10, top: 0, right: 400, bottom: 16 }, 360), { flip: false, shift: 10 });
});

test('zone names from zoom 13, point names from 15', () => {
  assert.equal(labelShownAt('exclusion_zone', false, 12), false);
  assert.equal(labelShownAt('exclusion_zone', false, 13), true);
  assert.equal(labelShownAt('command_post', true, 14), false);
  assert.equal(labelShownAt('command_post', true, 15), true);
});

test('the legend lists the kinds on the map, perimeters first, and the vehicle symbols', () => {
  const square = { type: 'Polygon', coordinates: [[[4, 50], [4.1, 50], [4.1, 50.1], [4, 50]]] };
  const anchors = [
    { kind: 'command_post', geometry: { type: 'Point', coordinates: [4, 50] } },
    { kind: 'dissuasion_zone', geometry: square },
    { kind: 'exclusion_zone', geometry: { type: 'Point', coordinates: [4, 50] }, properties: { radius_m: 200 } },
    { kind: 'exclusion_zone', geometry: square },
    { kind: 'road_closure', geometry: { type: 'LineString', coordinates: [[4, 50], [4.1, 50]] } },
  ];
  const rows = legendRows(anchors, [{ heading: 90 }, { heading: null }], true, ANCHOR_KINDS);
  assert.deepEqual(
    rows.map((r) => `${r.key}:${r.swatch}`),
    [
      'anchor.exclusion_zone:zone',
      'anchor.dissuasion_zone:zone',
      'anchor.command_post:symbol',
      'anchor.road_closure:line',
      'legend.vehicle:vehicle',
      'legend.vehicle_still:vehicle-still',
      'legend.route:route',
      'legend.trail:trail',
    ],
  );
  assert.deepEqual(legendRows([], [], false, ANCHOR_KINDS), []);
  // A vehicle drawn with its APP-6 symbol has its own row; arrows only for the others.
  const units = legendRows([], [{ heading: 90, sidc: 'SFGPUCI----D---' }], false, ANCHOR_KINDS);
  assert.deepEqual(units.map((r) => `${r.key}:${r.swatch}:${r.sidc || ''}`), ['legend.unit:unit:SFGPUCI----D---', 'legend.trail:trail:']);
});

test("a point's or vehicle's name gives way to another's symbol; a perimeter's does not", () => {
  const staging = box(100, 120, 24, 24); // a symbol just under the reception centre's name
  const items = [
    { id: 'reception', priority: PRIORITY.point, rect: box(80, 110) },
    { id: 'lead', priority: PRIORITY.vehicle, rect: box(200, 100) },
    { id: 'red', priority: PRIORITY.exclusion_zone, rect: box(100, 130) }, // on the symbol, clear of the reception's name
  ];
  assert.ok(PRIORITY.point < YIELDS_TO_SYMBOLS && PRIORITY.vehicle < YIELDS_TO_SYMBOLS);
  assert.ok(PRIORITY.exclusion_zone >= YIELDS_TO_SYMBOLS);
  assert.deepEqual([...declutter(items, undefined, [staging])].sort(), ['lead', 'red']);
  // Touching its own symbol (a name set just beside it) is not covering it.
  const own = box(140, 60, 24, 24);
  assert.deepEqual([...declutter([{ id: 'cp', priority: PRIORITY.point, rect: box(164, 64) }], undefined, [own])], ['cp']);
});
