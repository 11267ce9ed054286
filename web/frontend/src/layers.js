// Reference layers on the incident map (issue 16): every layer the hub holds (GET /api/layers)
// is an overlay of the layer switcher, fetched when first shown and kept for the page's life;
// the browser caches it too (ETag: a reload asks with If-None-Match and gets 304). Points
// are drawn with the layer's symbol and colour and clustered (leaflet.markercluster), so
// thousands stay fast; lines and polygons in its colour. The anchors' popups say what lies
// inside their area (GET …/anchors/{id}/inside), asked again when the anchor changes.

import L from './leaflet-global.js';
import 'leaflet.markercluster';
import 'leaflet.markercluster/dist/MarkerCluster.css';
import 'leaflet.markercluster/dist/MarkerCluster.Default.css';
import './layers.css';
import { t } from './i18n.js';
import { insideText, symbolSvg } from './layers-logic.js';
import { h } from './util.js';

const SHOWN_KEY = 'crisishub.layers.shown';

async function getJson(url) {
  const response = await fetch(url, { credentials: 'same-origin', headers: { accept: 'application/json' } });
  const body = await response.json().catch(() => null);
  if (!response.ok) throw new Error((body && body.error && body.error.message) || `HTTP ${response.status}`);
  return body;
}

function shownIds() {
  try {
    return new Set(JSON.parse(globalThis.localStorage.getItem(SHOWN_KEY) || '[]'));
  } catch {
    return new Set();
  }
}

function keepShown(ids) {
  try {
    globalThis.localStorage.setItem(SHOWN_KEY, JSON.stringify([...ids]));
  } catch {
    // storage refused (a private mode): the choice lasts for this page only
  }
}

/** One reference layer as a Leaflet layer: empty until first added to the map. */
function overlayOf(layer, onError) {
  const colour = layer.colour;
  const icon = L.divIcon({ html: symbolSvg(layer.symbol, colour), className: 'ref-layer-icon', iconSize: [20, 20], iconAnchor: [10, 10] });
  const clusters = L.markerClusterGroup({
    chunkedLoading: true,
    showCoverageOnHover: false,
    maxClusterRadius: 50,
    iconCreateFunction: (cluster) => {
      // An element, not HTML text: the page's CSP refuses style attributes, not CSSOM.
      const count = document.createElement('span');
      count.style.backgroundColor = colour;
      count.textContent = String(cluster.getChildCount());
      return L.divIcon({ html: count, className: 'ref-layer-cluster', iconSize: [34, 34] });
    },
  });
  const shapes = L.geoJSON(null, {
    style: () => ({ color: colour, weight: 2, fillOpacity: 0.15 }),
    onEachFeature: (feature, drawn) => drawn.bindPopup(() => featurePopup(layer, feature)),
  });
  const group = L.featureGroup([clusters, shapes]);
  group.refLayerId = layer.id;
  group.clusters = clusters;
  let loaded = null;
  group.on('add', () => {
    loaded =
      loaded ||
      getJson(`/api/layers/${encodeURIComponent(layer.id)}`)
        .then((collection) => {
          const markers = [];
          for (const feature of collection.features) {
            const g = feature.geometry;
            if (g.type === 'Point' || g.type === 'MultiPoint') {
              const points = g.type === 'Point' ? [g.coordinates] : g.coordinates;
              for (const [lon, lat] of points) {
                const marker = L.marker([lat, lon], { icon, title: feature.name || layer.name, alt: feature.name || layer.name, keyboard: false });
                marker.bindPopup(() => featurePopup(layer, feature));
                markers.push(marker);
              }
            } else {
              shapes.addData(feature);
            }
          }
          clusters.addLayers(markers);
          group.fire('refloaded', { count: collection.features.length });
        })
        .catch((error) => {
          loaded = null;
          onError(layer, error);
        });
  });
  return group;
}

function featurePopup(layer, feature) {
  const rows = Object.entries(feature.properties || {})
    .filter(([, value]) => value !== null && value !== '' && typeof value !== 'object')
    .slice(0, 12)
    .map(([key, value]) => h('tr', {}, h('th', { scope: 'row' }, key), h('td', {}, String(value))));
  return h(
    'div',
    { class: 'ref-feature-popup' },
    h('strong', {}, feature.name || layer.name),
    h('div', { class: 'muted' }, layer.name),
    rows.length ? h('table', { class: 'ref-feature-props' }, h('tbody', {}, ...rows)) : null,
  );
}

export class ReferenceLayers {
  /** The overlays go in `switcher` (the base maps' L.control.layers) when there is one,
   * else in a switcher of their own. */
  constructor(map, { switcher, onError }) {
    this.map = map;
    this.switcher = switcher || null;
    this.onError = onError || (() => {});
    this.overlays = new Map();
    this.shown = shownIds();
    // The clusters are computed per zoom level up to the map's last: the offline base layer
    // sets none, a tile server 19 (where a street's buildings are told apart).
    if (!Number.isFinite(map.getMaxZoom())) map.setMaxZoom(19);
  }

  async load() {
    let answer;
    try {
      answer = await getJson('/api/layers');
    } catch (error) {
      this.onError({ name: '' }, error);
      return;
    }
    if (!answer.layers.length) return;
    if (!this.switcher) this.switcher = L.control.layers(undefined, undefined, { position: 'topright' }).addTo(this.map);
    for (const layer of answer.layers) {
      const overlay = overlayOf(layer, this.onError);
      overlay.on('add', () => this._remember(layer.id, true));
      overlay.on('remove', () => this._remember(layer.id, false));
      this.overlays.set(layer.id, overlay);
      const label = `<span class="ref-layer-label">${symbolSvg(layer.symbol, layer.colour)} ${escapeHtml(layer.name)} <span class="muted">(${layer.count})</span></span>`;
      this.switcher.addOverlay(overlay, label);
      if (this.shown.has(layer.id)) overlay.addTo(this.map);
    }
  }

  _remember(id, on) {
    if (on) this.shown.add(id);
    else this.shown.delete(id);
    keepShown(this.shown);
  }
}

/**
 * The "Inside: …" line of the anchors' popups: AnchorLayer calls `fill(anchor, body)` as it
 * builds one (its `onPopup`); an anchor changed while its popup is open (anchor.updated, from
 * anyone) has its popup opened again, so the counts are asked again for its new area.
 */
export class InsideCounts {
  constructor(map, anchors, store, incidentId) {
    this.anchors = anchors;
    this.incidentId = incidentId;
    this.openId = null;
    this.popup = null;
    map.on('popupopen', (e) => {
      const source = e.popup._source;
      if (source && source.anchorId) {
        this.openId = source.anchorId;
        this.popup = e.popup;
      }
    });
    map.on('popupclose', (e) => {
      // After the redraw that may have closed it (the anchor's layer replaced): kept until
      // then, so that the store's change below still knows it was open.
      const closed = e.popup;
      setTimeout(() => {
        if (this.popup === closed) {
          this.openId = null;
          this.popup = null;
        }
      }, 0);
    });
    store.subscribe((change) => {
      if (change.type !== 'anchor' || change.id !== this.openId) return;
      // After every view has redrawn (the map's AnchorLayer subscribes after this).
      setTimeout(() => {
        const layer = anchors.layers.get(change.id);
        if (!layer || !store.anchors.has(change.id)) return;
        if (layer.isPopupOpen && layer.isPopupOpen()) layer.closePopup();
        layer.openPopup();
      }, 0);
    });
  }

  fill(anchor, body) {
    const geometry = anchor.geometry || {};
    const area = geometry.type === 'Polygon' || geometry.type === 'MultiPolygon' || (geometry.type === 'Point' && anchor.properties && anchor.properties.radius_m > 0);
    if (!area) return;
    const line = h('div', { class: 'anchor-inside', 'aria-live': 'polite' }, t('layers.inside_loading'));
    body.append(line);
    const url = `/api/incidents/${encodeURIComponent(this.incidentId)}/anchors/${encodeURIComponent(anchor.id)}/inside`;
    getJson(url)
      .then((inside) => {
        line.textContent = insideText(t, inside);
        line.dataset.version = String(inside.anchor_version);
      })
      .catch((error) => {
        line.textContent = t('layers.inside_failed', { error: error.message });
      });
  }
}

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}
