// How each anchor kind looks: Belgian perimeter colours for the zones, a small SVG symbol for
// the points. Pure strings, so the map module and the tests share them.

export { ANCHOR_KINDS } from './enums.js';

export const ZONE_COLOURS = {
  exclusion_zone: '#d7191c', // red
  isolation_zone: '#f57c00', // orange
  dissuasion_zone: '#fdd835', // yellow
};

/** Leaflet path style for a line or polygon anchor. */
export function anchorStyle(kind) {
  const zone = ZONE_COLOURS[kind];
  if (zone) return { color: zone, weight: 3, fillColor: zone, fillOpacity: 0.18, opacity: 0.95 };
  if (kind === 'road_closure') return { color: '#b71c1c', weight: 6, dashArray: '8 6', fillOpacity: 0.1 };
  if (kind === 'incident_site') return { color: '#6a1b9a', weight: 3, fillOpacity: 0.15 };
  return { color: '#1565c0', weight: 3, fillOpacity: 0.12 };
}

const svg = (body) =>
  `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32" width="32" height="32" aria-hidden="true">${body}</svg>`;
const text = (s, size = 11, fill = '#fff', y = 16) =>
  `<text x="16" y="${y}" dy="0.36em" text-anchor="middle" font-family="system-ui,sans-serif" font-weight="700" font-size="${size}" fill="${fill}">${s}</text>`;
const OUTLINE = 'stroke="#fff" stroke-width="2"';

const SYMBOLS = {
  incident_site: svg(`<polygon points="16,2 30,28 2,28" fill="#6a1b9a" ${OUTLINE}/>${text('!', 16, '#fff', 20)}`),
  exclusion_zone: svg(`<circle cx="16" cy="16" r="13" fill="${ZONE_COLOURS.exclusion_zone}" ${OUTLINE}/>${text('EX', 10)}`),
  isolation_zone: svg(`<circle cx="16" cy="16" r="13" fill="${ZONE_COLOURS.isolation_zone}" ${OUTLINE}/>${text('IS', 10)}`),
  dissuasion_zone: svg(`<circle cx="16" cy="16" r="13" fill="${ZONE_COLOURS.dissuasion_zone}" ${OUTLINE}/>${text('DI', 10, '#333')}`),
  command_post: svg(`<rect x="2" y="6" width="28" height="20" rx="3" fill="#0d47a1" ${OUTLINE}/>${text('CP', 11)}`),
  coordination_committee: svg(`<rect x="2" y="6" width="28" height="20" rx="3" fill="#263238" ${OUTLINE}/>${text('CC', 11)}`),
  advanced_medical_post: svg(
    `<rect x="3" y="3" width="26" height="26" rx="4" fill="#fff" stroke="#c62828" stroke-width="2"/><path d="M13 7h6v6h6v6h-6v6h-6v-6H7v-6h6z" fill="#c62828"/>`,
  ),
  victim_reception: svg(
    `<rect x="3" y="3" width="26" height="26" rx="4" fill="#2e7d32" ${OUTLINE}/><circle cx="11" cy="12" r="3" fill="#fff"/><circle cx="21" cy="12" r="3" fill="#fff"/><path d="M6 24c0-5 10-5 10 0M16 24c0-5 10-5 10 0" fill="#fff"/>`,
  ),
  staging_area: svg(`<rect x="3" y="3" width="26" height="26" rx="4" fill="#455a64" ${OUTLINE}/>${text('P', 16)}`),
  road_closure: svg(`<circle cx="16" cy="16" r="13" fill="#c62828" ${OUTLINE}/><rect x="8" y="13" width="16" height="6" fill="#fff"/>`),
  helipad: svg(`<circle cx="16" cy="16" r="13" fill="#1b5e20" ${OUTLINE}/>${text('H', 16)}`),
  press_point: svg(`<rect x="3" y="3" width="26" height="26" rx="13" fill="#ef6c00" ${OUTLINE}/>${text('PR', 11)}`),
  weather: svg(
    `<circle cx="16" cy="16" r="13" fill="#0288d1" ${OUTLINE}/><path d="M9 20a4 4 0 0 1 1-8 6 6 0 0 1 11 1 3.5 3.5 0 0 1 1 7z" fill="#fff"/>`,
  ),
  other: svg(`<circle cx="16" cy="16" r="10" fill="#616161" ${OUTLINE}/>`),
};

/** The SVG markup for a point anchor of `kind` (unknown kinds draw as `other`). */
export function anchorSymbol(kind) {
  return SYMBOLS[kind] || SYMBOLS.other;
}

/** A vehicle marker: an arrow turned to its heading, when known. */
export function vehicleSymbol(heading) {
  const turn = Number.isFinite(heading) ? heading : 0;
  const shape = Number.isFinite(heading)
    ? `<path d="M16 3 L26 27 L16 21 L6 27 Z" fill="#00838f" ${OUTLINE} transform="rotate(${turn} 16 16)"/>`
    : `<circle cx="16" cy="16" r="10" fill="#00838f" ${OUTLINE}/>`;
  return svg(shape);
}
