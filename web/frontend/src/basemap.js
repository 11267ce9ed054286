// The hub's offline base layer (basemap.geojson, served by the hub: no tile server needed),
// shared by the incident map, the public alert page and the registration page.
import L from 'leaflet';

/** How each kind of feature of basemap.geojson is drawn. */
export function basemapStyle(feature) {
  const role = feature.properties.role;
  if (role === 'neighbour') return { color: '#9e9e9e', weight: 1, fillColor: '#e6e6e6', fillOpacity: 1 };
  if (role === 'country') return { color: '#37474f', weight: 2.5, fillColor: '#fbfbf8', fillOpacity: 1 };
  return { color: '#78909c', weight: 1.2, dashArray: '4 3', fill: false };
}

function geojsonOptions(labels) {
  return {
    pane: 'basemap',
    attribution: 'Natural Earth',
    interactive: false,
    style: basemapStyle,
    onEachFeature: labels
      ? (f, layer) => {
          if (f.properties.role === 'province') {
            layer.bindTooltip(f.properties.name, { permanent: true, direction: 'center', className: 'province-label' });
          }
        }
      : undefined,
  };
}

function basemapPane(map) {
  if (!map.getPane('basemap')) map.createPane('basemap').style.zIndex = 200;
}

/** Adds the base layer under everything else; `labels` names the provinces. A map without
 * it still works (the caller's own layers are drawn), so a failed fetch is no error. */
export async function loadBasemap(map, url, { labels = false } = {}) {
  let data;
  try {
    data = await (await fetch(url, { credentials: 'same-origin' })).json();
  } catch {
    return;
  }
  basemapPane(map);
  L.geoJSON(data, geojsonOptions(labels)).addTo(map);
}

/** The same layer as one choice of a layer switcher (basemaps.js): fetched when first shown,
 * and again on a later showing if that fetch failed. */
export function offlineLayer(map, url, { labels = false } = {}) {
  basemapPane(map);
  const layer = L.geoJSON(null, geojsonOptions(labels));
  let loading = null;
  layer.on('add', () => {
    loading ??= fetch(url, { credentials: 'same-origin' })
      .then((response) => response.json())
      .then((data) => layer.addData(data))
      .catch(() => {
        loading = null;
      });
  });
  return layer;
}
