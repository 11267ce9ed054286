// What the map's labels and legend show (issue 19, item 4), as pure functions over plain
// values so that `node --test` checks them: which labels fit without overlapping, where one
// at the map's edge goes, and which kinds the legend names.

import { ZONE_COLOURS } from './symbols.js';

// Zone names from this zoom on (a district and closer), the points' from the next levels:
// further out they would pile up over the site in one spot.
export const ZONE_LABEL_MIN_ZOOM = 13;
export const POINT_LABEL_MIN_ZOOM = 15;
// Labels closer than this (px) count as overlapping: touching labels read as one ("Le… Vi…").
export const LABEL_GAP_PX = 3;

// Which label wins a place: the vehicle followed or pointed at, the site, the perimeters
// from the innermost, the other vehicles, then the points.
export const PRIORITY = {
  focused: 100,
  incident_site: 90,
  exclusion_zone: 85,
  isolation_zone: 80,
  dissuasion_zone: 75,
  vehicle: 60,
  zone: 55,
  point: 50,
};

const overlaps = (a, b, gap) => a.left < b.right + gap && b.left < a.right + gap && a.top < b.bottom + gap && b.top < a.bottom + gap;

// Below this priority a label gives way to the map's symbols as well: a point's or a vehicle's
// name never covers another point's or vehicle's symbol (the perimeters' and the site's names,
// placed on their edges, keep their place).
export const YIELDS_TO_SYMBOLS = 70;

/**
 * The labels to show: the highest priority first, each kept only if it overlaps none kept
 * before it (ties: the order given), and, below YIELDS_TO_SYMBOLS, none of the `symbols`
 * (the markers' boxes, touching allowed: a label sits beside its own). `items`: [{id,
 * priority, rect: {left, top, right, bottom}}] in the map's pixels. Returns the set of ids kept.
 */
export function declutter(items, gap = LABEL_GAP_PX, symbols = []) {
  const order = items.map((item, index) => ({ item, index })).sort((a, b) => b.item.priority - a.item.priority || a.index - b.index);
  const kept = [];
  const shown = new Set();
  for (const { item } of order) {
    if (kept.some((rect) => overlaps(rect, item.rect, gap))) continue;
    if (item.priority < YIELDS_TO_SYMBOLS && symbols.some((rect) => overlaps(rect, item.rect, -1))) continue;
    kept.push(item.rect);
    shown.add(item.id);
  }
  return shown;
}

/**
 * How far (px, along x) to move a label so that it stays inside a map `width` wide, and
 * whether a label set beside its marker goes to the other side instead (a vehicle at the
 * phone's right edge: its name to the left of it). `rect` is where it is drawn now;
 * `side`: 'right' for a label beside a marker (placed `offset` px from its centre), else
 * 'centre' (centred on its point, moved along only).
 */
export function fitInside(rect, width, { side = 'centre', offset = 14 } = {}) {
  const labelWidth = rect.right - rect.left;
  if (side === 'right' && rect.right > width) {
    const flipped = rect.left - 2 * offset - labelWidth;
    if (flipped >= 0 || flipped > width - rect.right) return { flip: true, shift: -(2 * offset + labelWidth) };
  }
  if (rect.right > width) return { flip: false, shift: Math.max(width - rect.right, -rect.left) };
  if (rect.left < 0) return { flip: false, shift: Math.min(-rect.left, width - rect.right) };
  return { flip: false, shift: 0 };
}

/** Whether an anchor's name is shown at `zoom`: zones sooner than points. */
export function labelShownAt(kind, isPoint, zoom) {
  return zoom >= (isPoint ? POINT_LABEL_MIN_ZOOM : ZONE_LABEL_MIN_ZOOM);
}

/**
 * What the legend lists: the kinds of anchor on the map (the perimeters first, innermost
 * first, then the others in `kinds` order) and, when there are vehicles or routes, their
 * symbols. Each row: {key, kind?, swatch}, where swatch is 'zone' (a coloured area), 'line',
 * 'symbol', 'unit' (an APP-6 symbol, its `sidc`), 'vehicle' (an arrow: its heading),
 * 'vehicle-still' (no heading known), 'route'
 * (planned, dashed) or 'trail' (driven).
 *
 * @param {{kind: string, geometry?: object, properties?: object}[]} anchors
 * @param {{heading?: number|null, sidc?: string|null}[]} vehicles  each with its last position's
 *   heading and its APP-6 symbol code, if any
 * @param {boolean} routes  some convoy has a planned route
 * @param {string[]} kinds  every anchor kind, in the order the hub lists them
 */
export function legendRows(anchors, vehicles, routes, kinds) {
  const present = new Map();
  for (const anchor of anchors) {
    const shape = anchorShape(anchor);
    const seen = present.get(anchor.kind) || new Set();
    seen.add(shape);
    present.set(anchor.kind, seen);
  }
  const zones = Object.keys(ZONE_COLOURS);
  const ordered = [...zones, ...kinds.filter((k) => !zones.includes(k))];
  const rows = [];
  for (const kind of ordered) {
    const shapes = present.get(kind);
    if (!shapes) continue;
    // An area kind drawn as an area shows its colour; drawn as a point, its symbol.
    if (shapes.has('area')) rows.push({ key: `anchor.${kind}`, kind, swatch: 'zone' });
    if (shapes.has('line')) rows.push({ key: `anchor.${kind}`, kind, swatch: 'line' });
    if (shapes.has('point')) rows.push({ key: `anchor.${kind}`, kind, swatch: 'symbol' });
  }
  // A vehicle with its APP-6 symbol (sidc) is drawn with it; the others with the arrow.
  const unit = vehicles.find((v) => v.sidc);
  if (unit) rows.push({ key: 'legend.unit', swatch: 'unit', sidc: unit.sidc });
  const arrows = vehicles.filter((v) => !v.sidc);
  if (arrows.some((v) => Number.isFinite(v.heading))) rows.push({ key: 'legend.vehicle', swatch: 'vehicle' });
  if (arrows.some((v) => !Number.isFinite(v.heading))) rows.push({ key: 'legend.vehicle_still', swatch: 'vehicle-still' });
  if (routes) rows.push({ key: 'legend.route', swatch: 'route' });
  if (vehicles.length) rows.push({ key: 'legend.trail', swatch: 'trail' });
  return rows;
}

/** 'area' (a polygon or a circular perimeter), 'line' or 'point'. */
export function anchorShape(anchor) {
  const type = anchor.geometry && anchor.geometry.type;
  if (type === 'Point' || type === 'MultiPoint') return anchor.properties && Number(anchor.properties.radius_m) > 0 ? 'area' : 'point';
  if (type === 'LineString' || type === 'MultiLineString') return 'line';
  return 'area';
}
