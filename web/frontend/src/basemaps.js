// The map's choice of base maps when the hub serves a PMTiles base map (BASEMAP_PMTILES, at
// config.basemap_pmtiles): its streets and buildings as vector tiles, drawn on canvas by
// protomaps-leaflet in the light style with labels in the page's language; a configured tile
// server (TILE_URL: XYZ, WMTS REST or WMS); the bundled offline layer. A Leaflet layer
// switcher offers them all.
// The archive is read by HTTP Range requests to the hub itself: nothing leaves it.

import L from './leaflet-global.js';
import { namedFlavor } from '@protomaps/basemaps';
import { PMTiles } from 'pmtiles';
import { labelRules, leafletLayer } from 'protomaps-leaflet';
import { offlineLayer } from './basemap.js';
import { getLang, onLangChange, t } from './i18n.js';
import { wmsSource } from './tile-source.js';

const FLAVOR = 'light';

/** The vector base map of the archive at `url`, its labels in `lang` (the tiles' `name:fr`,
 * `name:nl`, `name:en`…, else their `name`). */
export function streetsLayer(url, lang) {
  const archive = new PMTiles(url);
  // Its attribution is the archive's own (metadata), not one assumed for every extract.
  const layer = leafletLayer({ url: archive, flavor: FLAVOR, lang, attribution: '' });
  archive
    .getMetadata()
    .then((metadata) => {
      const text = metadata && typeof metadata.attribution === 'string' ? metadata.attribution : '';
      if (!text) return;
      layer.options.attribution = escapeHtml(text);
      if (layer._map && layer._map.attributionControl) layer._map.attributionControl.addAttribution(layer.options.attribution);
    })
    .catch(() => {}); // no metadata: no attribution line, the tiles still draw
  return layer;
}

/** The configured tile server (TILE_URL): an XYZ/WMTS template, or a WMS endpoint. */
export function tileServerLayer(url) {
  const wms = wmsSource(url);
  if (wms) return L.tileLayer.wms(wms.base, { ...wms.options, maxZoom: 19 });
  return L.tileLayer(url, { maxZoom: 19 });
}

/** Draw the labels again in `lang`. */
export function setStreetsLang(layer, lang) {
  layer.lang = lang;
  layer.labelRules = labelRules(namedFlavor(FLAVOR), lang);
  layer.clearLayout();
  layer.rerenderTiles();
}

/** Add every configured base map to `map`, the PMTiles one shown, and the switcher. */
export function addBaseMaps(map, { pmtilesUrl, tileUrl, offlineUrl }) {
  const streets = streetsLayer(pmtilesUrl, getLang());
  const offline = offlineLayer(map, offlineUrl, { labels: true });
  const choices = [['map.base.streets', streets]];
  if (tileUrl) choices.push(['map.base.tiles', tileServerLayer(tileUrl)]);
  choices.push(['map.base.offline', offline]);

  const switcher = L.control.layers(undefined, undefined, { position: 'topright' });
  const name = () => {
    for (const [key, layer] of choices) {
      switcher.removeLayer(layer);
      switcher.addBaseLayer(layer, t(key));
    }
  };
  name();
  switcher.addTo(map);
  streets.addTo(map);
  // The offline layer's sea-coloured background, only while it is the one shown.
  map.on('baselayerchange', (e) => map.getContainer().classList.toggle('map-offline', e.layer === offline));
  onLangChange((lang) => {
    if (!document.body.contains(map.getContainer())) return; // a map since removed
    setStreetsLang(streets, lang);
    name();
  });
  return switcher;
}

function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
