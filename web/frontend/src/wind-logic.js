// The wind at a weather anchor (issue 16), as numbers and words: where it comes from, the
// downwind sector a toxic cloud would cover, and the compass words in French, Dutch and
// English. Pure (no DOM, no Leaflet), so node tests check the geometry (test/wind.test.js).
//
// Conventions, as the hub stores them (models/weather.py): wind_from_deg is where the wind
// comes FROM, degrees clockwise from north (meteorological, as METAR and Open-Meteo); speeds
// are m/s. The cloud goes the other way: downwind = wind_from_deg + 180.

// The sector drawn when the anchor names none (models/weather.py DEFAULT_PLUME_*): 3 km long,
// 40 degrees wide, what a first isolation decision is drawn against before a model is run.
export const DEFAULT_PLUME_M = 3000;
export const DEFAULT_PLUME_DEG = 40;
const EARTH_RADIUS_M = 6371008.8;
const ARC_STEPS = 16;

const POINTS = {
  en: [
    ['N', 'north'], ['NNE', 'north-northeast'], ['NE', 'northeast'], ['ENE', 'east-northeast'],
    ['E', 'east'], ['ESE', 'east-southeast'], ['SE', 'southeast'], ['SSE', 'south-southeast'],
    ['S', 'south'], ['SSW', 'south-southwest'], ['SW', 'southwest'], ['WSW', 'west-southwest'],
    ['W', 'west'], ['WNW', 'west-northwest'], ['NW', 'northwest'], ['NNW', 'north-northwest'],
  ],
  fr: [
    ['N', 'nord'], ['NNE', 'nord-nord-est'], ['NE', 'nord-est'], ['ENE', 'est-nord-est'],
    ['E', 'est'], ['ESE', 'est-sud-est'], ['SE', 'sud-est'], ['SSE', 'sud-sud-est'],
    ['S', 'sud'], ['SSO', 'sud-sud-ouest'], ['SO', 'sud-ouest'], ['OSO', 'ouest-sud-ouest'],
    ['O', 'ouest'], ['ONO', 'ouest-nord-ouest'], ['NO', 'nord-ouest'], ['NNO', 'nord-nord-ouest'],
  ],
  nl: [
    ['N', 'noord'], ['NNO', 'noordnoordoost'], ['NO', 'noordoost'], ['ONO', 'oostnoordoost'],
    ['O', 'oost'], ['OZO', 'oostzuidoost'], ['ZO', 'zuidoost'], ['ZZO', 'zuidzuidoost'],
    ['Z', 'zuid'], ['ZZW', 'zuidzuidwest'], ['ZW', 'zuidwest'], ['WZW', 'westzuidwest'],
    ['W', 'west'], ['WNW', 'westnoordwest'], ['NW', 'noordwest'], ['NNW', 'noordnoordwest'],
  ],
};

/** Degrees brought into [0, 360). */
export function normalise(deg) {
  return ((deg % 360) + 360) % 360;
}

/** The 16-point compass name of a direction: {abbr: 'SW', word: 'southwest'} (fr, nl, en). */
export function compass(deg, lang = 'en') {
  const points = POINTS[lang] || POINTS.en;
  const [abbr, word] = points[Math.round(normalise(deg) / 22.5) % 16];
  return { abbr, word };
}

/** Where the cloud goes: the bearing the wind blows towards. */
export function downwind(fromDeg) {
  return normalise(fromDeg + 180);
}

const finite = (value) => typeof value === 'number' && Number.isFinite(value);

/**
 * The wind a weather anchor carries, or null when it has no direction yet (nothing to draw):
 * {lon, lat, from, to, speed, gust, length, angle, observedAt, source}.
 */
export function readWind(anchor) {
  if (!anchor || anchor.kind !== 'weather' || !anchor.geometry || anchor.geometry.type !== 'Point') return null;
  const p = anchor.properties || {};
  if (!finite(p.wind_from_deg)) return null;
  const [lon, lat] = anchor.geometry.coordinates;
  return {
    lon,
    lat,
    from: normalise(p.wind_from_deg),
    to: downwind(p.wind_from_deg),
    speed: finite(p.wind_speed_ms) ? p.wind_speed_ms : null,
    gust: finite(p.wind_gust_ms) ? p.wind_gust_ms : null,
    length: finite(p.plume_length_m) ? p.plume_length_m : DEFAULT_PLUME_M,
    angle: finite(p.plume_angle_deg) ? p.plume_angle_deg : DEFAULT_PLUME_DEG,
    observedAt: typeof p.observed_at === 'string' ? p.observed_at : null,
    source: typeof p.source === 'string' ? p.source : null,
  };
}

/** The point `distance` metres from (lon, lat) on `bearing` degrees (great circle). */
export function destination(lon, lat, bearing, distance) {
  const rad = Math.PI / 180;
  const d = distance / EARTH_RADIUS_M;
  const b = bearing * rad;
  const p1 = lat * rad;
  const l1 = lon * rad;
  const p2 = Math.asin(Math.sin(p1) * Math.cos(d) + Math.cos(p1) * Math.sin(d) * Math.cos(b));
  const l2 = l1 + Math.atan2(Math.sin(b) * Math.sin(d) * Math.cos(p1), Math.cos(d) - Math.sin(p1) * Math.sin(p2));
  return [round6(normalise(l2 / rad + 180) - 180), round6(p2 / rad)];
}

/** Great-circle distance in metres between two [lon, lat]. */
export function distance([lon1, lat1], [lon2, lat2]) {
  const rad = Math.PI / 180;
  const a = Math.sin(((lat2 - lat1) * rad) / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(((lon2 - lon1) * rad) / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.sqrt(a));
}

/** Initial bearing in degrees from one [lon, lat] to another. */
export function bearing([lon1, lat1], [lon2, lat2]) {
  const rad = Math.PI / 180;
  const y = Math.sin((lon2 - lon1) * rad) * Math.cos(lat2 * rad);
  const x = Math.cos(lat1 * rad) * Math.sin(lat2 * rad) - Math.sin(lat1 * rad) * Math.cos(lat2 * rad) * Math.cos((lon2 - lon1) * rad);
  return normalise(Math.atan2(y, x) / rad);
}

/**
 * The downwind sector as a GeoJSON Polygon: from the anchor, a cone `angle` degrees wide
 * centred on the downwind bearing, closed by an arc `length` metres away.
 */
export function downwindSector(wind) {
  const apex = [round6(wind.lon), round6(wind.lat)];
  const ring = [apex];
  for (let i = 0; i <= ARC_STEPS; i += 1) {
    const b = wind.to - wind.angle / 2 + (wind.angle * i) / ARC_STEPS;
    ring.push(destination(wind.lon, wind.lat, b, wind.length));
  }
  ring.push(apex);
  return { type: 'Polygon', coordinates: [ring] };
}

/** The SVG rotation of an arrow drawn pointing north that must point downwind. */
export function arrowRotation(wind) {
  return Math.round(wind.to * 10) / 10;
}

/** m/s as km/h, one decimal. */
export function kmh(ms) {
  return Math.round(ms * 36) / 10;
}

/** km/h as m/s, one decimal (what the hub stores). */
export function metresPerSecond(kmhValue) {
  return Math.round((kmhValue / 3.6) * 10) / 10;
}

/** "SW (225°)": the short form the popup and the arrow's name use. */
export function directionText(wind, lang) {
  const point = compass(wind.from, lang);
  return `${point.word} (${point.abbr}, ${Math.round(wind.from)}°)`;
}

/** "18 km/h (5 m/s)", or null without a speed. */
export function speedText(ms) {
  if (!finite(ms)) return null;
  return `${kmh(ms)} km/h (${Math.round(ms * 10) / 10} m/s)`;
}

function round6(x) {
  return Math.round(x * 1e6) / 1e6;
}
