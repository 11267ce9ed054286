// What an edit conflict shows: the anchor as it is now beside the change that was refused.
// Pure (no DOM), unit-tested.

/** The mean of a geometry's positions [lon, lat]: where a shape "is", to measure moves. */
export function centre(geometry) {
  const points = [];
  const walk = (c) => (typeof c[0] === 'number' ? points.push(c) : c.forEach(walk));
  if (geometry && geometry.coordinates) walk(geometry.coordinates);
  if (!points.length) return null;
  const sum = points.reduce((acc, [lon, lat]) => [acc[0] + lon, acc[1] + lat], [0, 0]);
  return [sum[0] / points.length, sum[1] / points.length];
}

/** Great-circle distance in metres between two [lon, lat] positions. */
export function distanceM(a, b) {
  const rad = Math.PI / 180;
  const dLat = (b[1] - a[1]) * rad;
  const dLon = (b[0] - a[0]) * rad;
  const s = Math.sin(dLat / 2) ** 2 + Math.cos(a[1] * rad) * Math.cos(b[1] * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371008.8 * Math.asin(Math.sqrt(s));
}

/** How far apart two geometries' centres are, rounded to the metre (null if unknown). */
export function apart(a, b) {
  const [ca, cb] = [centre(a), centre(b)];
  return ca && cb ? Math.round(distanceM(ca, cb)) : null;
}

/**
 * The rows of the conflict: for the label and the place, what the other made of it (`theirs`,
 * from the version I had: `base`) and what I asked for (`mine`, null where I changed nothing).
 * `changes` null is a deletion. Words are keys and values for the page to translate.
 */
export function conflictRows(current, base, changes) {
  const rows = [];
  const label = changes && 'label' in changes ? changes.label : null;
  rows.push({ what: 'label', theirs: current.label || '', mine: label });
  const theirMove = base && base.geometry ? apart(base.geometry, current.geometry) : null;
  const myMove = changes && changes.geometry ? apart(current.geometry, changes.geometry) : null;
  rows.push({ what: 'place', theirs: theirMove, mine: myMove });
  return rows;
}
