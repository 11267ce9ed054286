// The Leaflet map: the offline base layer (or a tile server), anchors with geoman editing,
// convoys (routes, trails, vehicle markers) and the feed's location picker.

import L from './leaflet-global.js';
import '@geoman-io/leaflet-geoman-free';
import { loadBasemap } from './basemap.js';
import { addBaseMaps, tileServerLayer } from './basemaps.js';
import { t } from './i18n.js';
import { anchorStyle, anchorSymbol, vehicleSymbol } from './symbols.js';
import { unitIcon } from './unit-symbol.js';
import { WindOverlay, windPopupLines } from './wind-layer.js';
import { routeGeometries } from './store.js';
import { POINT_LABEL_MIN_ZOOM, ZONE_LABEL_MIN_ZOOM } from './label-logic.js';
import { h, formatTime } from './util.js';

const BELGIUM_CENTER = [50.6, 4.6];
const EDIT_DEBOUNCE_MS = 250;

/** The map on `element`: with the hub's PMTiles base map (`pmtilesUrl`, the page's
 * config.basemap_pmtiles) a switcher between it, `tileUrl` and the offline layer (basemaps.js,
 * kept on `map.layerSwitcher` for overlays); without it, as before: `tileUrl` or offline. */
export function createMap(element, { tileUrl, pmtilesUrl, basemapUrl = '/static/dist/basemap.geojson' }) {
  L.PM.setOptIn(true); // only anchors (pmIgnore: false) are editable, never the base layer
  const map = L.map(element, { center: BELGIUM_CENTER, zoom: 8, keyboard: true, pmIgnore: false });
  L.control.scale({ imperial: false }).addTo(map);
  if (pmtilesUrl) {
    map.layerSwitcher = addBaseMaps(map, { pmtilesUrl, tileUrl, offlineUrl: basemapUrl });
  } else if (tileUrl) {
    tileServerLayer(tileUrl).addTo(map);
  } else {
    element.classList.add('map-offline');
    loadBasemap(map, basemapUrl, { labels: true });
  }
  return map;
}

/** Pan or zoom to a GeoJSON geometry. */
export function showGeometry(map, geometry, zoom = 15) {
  if (!geometry) return;
  if (geometry.type === 'Point') {
    const [lon, lat] = geometry.coordinates;
    map.flyTo([lat, lon], Math.max(map.getZoom(), zoom));
  } else {
    const bounds = L.geoJSON(geometry).getBounds();
    if (bounds.isValid()) map.flyToBounds(bounds, { maxZoom: 16, padding: [40, 40] });
  }
}

/**
 * Resolve with the next picked point as GeoJSON, or null when `cancel()` (or Escape) ends it.
 * Picking wins over the anchors: while it lasts they let clicks through to the map (app.css,
 * `.map-picking`), so a click inside a perimeter picks that place rather than opening its
 * popup. By keyboard, the focused map picks its centre (marked by a cross) with Enter or
 * Space; the arrow keys pan it there.
 */
export function pickPoint(map) {
  let cancel;
  const promise = new Promise((resolve) => {
    const container = map.getContainer();
    container.classList.add('map-picking');
    const cross = L.DomUtil.create('div', 'map-crosshair', container);
    cross.setAttribute('aria-hidden', 'true');
    map.closePopup();
    const done = (value) => {
      container.classList.remove('map-picking');
      cross.remove();
      map.off('click', onClick);
      container.removeEventListener('keydown', onKey);
      resolve(value);
    };
    const toPoint = (latlng) => ({ type: 'Point', coordinates: [round(latlng.lng), round(latlng.lat)] });
    const onClick = (e) => done(toPoint(e.latlng));
    const onKey = (e) => {
      if (e.target !== container) return; // a control inside the map has the focus
      if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        done(toPoint(map.getCenter()));
      } else if (e.key === 'Escape') {
        done(null);
      }
    };
    map.on('click', onClick);
    container.addEventListener('keydown', onKey);
    cancel = () => done(null);
  });
  return { promise, cancel };
}

const round = (x) => Math.round(x * 1e6) / 1e6;

/**
 * Anchors on the map. `actions` carries the writes: create(geometry), update(anchor, changes),
 * remove(anchor), edit(anchor) (label/kind dialog). Only contributors get drawing tools.
 */
export class AnchorLayer {
  constructor(map, store, { canEdit, actions }) {
    this.map = map;
    this.store = store;
    this.canEdit = canEdit;
    this.actions = actions;
    this.layers = new Map();
    this.group = L.featureGroup().addTo(map);
    this.wind = new WindOverlay(map); // weather anchors' arrow and downwind sector
    this.timers = new Map();
    if (canEdit) this._initDrawing();
    // Names without hovering, from a zoom where they no longer pile up (label-logic.js);
    // overlaps are the LabelDeclutter's (map-legend.js).
    map.on('zoomend', () => this._zoomLabels());
    this._zoomLabels();
  }

  _zoomLabels() {
    const zoom = this.map.getZoom();
    const container = this.map.getContainer();
    container.dataset.zoom = String(zoom); // what the labels are shown for (and tests wait on)
    container.classList.toggle('labels-areas-off', zoom < ZONE_LABEL_MIN_ZOOM);
    container.classList.toggle('labels-points-off', zoom < POINT_LABEL_MIN_ZOOM);
  }

  _initDrawing() {
    const map = this.map;
    map.pm.addControls({
      position: 'topleft',
      drawMarker: true,
      drawPolygon: true,
      drawRectangle: true,
      drawPolyline: true,
      drawCircle: true, // circular perimeters: a Point with properties.radius_m, as the hub has them
      drawCircleMarker: false,
      drawText: false,
      cutPolygon: false,
      rotateMode: false,
      editMode: true,
      dragMode: true,
      removalMode: true,
    });
    // One shape per use of a tool: geoman keeps the marker tool armed after a drop otherwise,
    // so the next click on the map (to read a popup) would make another anchor.
    map.pm.setGlobalOptions({ snappable: true, continueDrawing: false });
    this._labelToolbar();
    map.on('pm:create', ({ layer }) => {
      if (map.pmAlertArea) return; // an alert's area (alerts.js), not an anchor
      const geometry = layer.toGeoJSON().geometry;
      const properties = layer instanceof L.Circle ? { radius_m: Math.round(layer.getRadius() * 10) / 10 } : {};
      map.removeLayer(layer); // the anchor appears when the hub has stored it
      map.pm.disableDraw();
      this.actions.create(geometry, properties);
    });
    map.on('pm:remove', ({ layer }) => {
      const anchor = this._anchorOf(layer);
      if (!anchor) return;
      // Put it back: the eraser asks first, as the list's Delete does, and the confirmed
      // deletion stored by the hub removes it for good.
      this._drop(anchor.id);
      this.render(anchor.id);
      this.actions.confirmRemove(anchor);
    });
  }

  /** geoman titles its button containers only: name the buttons for screen readers too. */
  _labelToolbar() {
    for (const box of this.map.getContainer().querySelectorAll('.leaflet-pm-toolbar .button-container[title]')) {
      const button = box.querySelector('.leaflet-buttons-control-button');
      if (button) button.setAttribute('aria-label', box.title);
    }
  }

  setLang(lang) {
    if (this.canEdit) {
      this.map.pm.setLang(lang);
      this._labelToolbar();
    }
    for (const [id, layer] of this.layers) {
      const anchor = this.store.anchors.get(id);
      if (anchor) this._label(layer, anchor);
    }
    this.wind.redrawAll([...this.store.anchors.values()]);
  }

  _anchorOf(layer) {
    return layer && layer.anchorId ? this.store.anchors.get(layer.anchorId) : null;
  }

  renderAll() {
    for (const id of [...this.layers.keys()]) if (!this.store.anchors.has(id)) this._drop(id);
    for (const id of this.store.anchors.keys()) this.render(id, false);
    this._stack();
  }

  /**
   * Smaller shapes above larger ones, so that a zone inside another (red in orange in yellow)
   * still takes its own clicks, whatever order the anchors were drawn in.
   */
  _stack() {
    const shapes = [...this.layers.values()].filter((layer) => !(layer instanceof L.Marker) && layer.bringToFront && layer.getBounds);
    shapes.sort((a, b) => boundsArea(b) - boundsArea(a));
    for (const layer of shapes) layer.bringToFront();
  }

  fitAll() {
    const bounds = this.group.getBounds();
    if (bounds.isValid()) this.map.fitBounds(bounds, { maxZoom: 15, padding: [30, 30] });
  }

  _drop(id) {
    const layer = this.layers.get(id);
    if (layer) this.group.removeLayer(layer);
    this.layers.delete(id);
    this.wind.remove(id);
  }

  /** Draw anchor `id` as the store has it (or remove it); `stack` orders the shapes after. */
  render(id, stack = true) {
    const anchor = this.store.anchors.get(id);
    const old = this.layers.get(id);
    if (!anchor) return this._drop(id);
    this.wind.draw(anchor); // its wind may change with the same shape
    if (old && old.anchorGeometry === shapeKey(anchor) && old.anchorKind === anchor.kind) {
      // Same shape (e.g. the echo of our own edit): keep the layer, so editing goes on.
      old.anchorVersion = anchor.version;
      if (old.anchorLabel !== anchor.label) this._label(old, anchor);
      return;
    }
    const layer = this._makeLayer(anchor);
    if (old) this.group.removeLayer(old);
    this.layers.set(id, layer);
    this.group.addLayer(layer);
    this._name(layer, anchor);
    this._placeLabel(layer, anchor);
    if (stack) this._stack();
  }

  _makeLayer(anchor) {
    const pmIgnore = !this.canEdit; // in opt-in mode, `pmIgnore: false` makes a layer editable
    const name = `${t(`anchor.${anchor.kind}`)}: ${anchor.label || ''}`;
    const radius = circleRadius(anchor);
    const layer = L.GeoJSON.geometryToLayer(
      { type: 'Feature', geometry: anchor.geometry, properties: {} },
      {
        pointToLayer: (_, latlng) =>
          radius
            ? L.circle(latlng, { radius, ...anchorStyle(anchor.kind), className: `anchor-shape anchor-shape-${anchor.kind}`, pmIgnore })
            : L.marker(latlng, {
            icon: L.divIcon({ html: anchorSymbol(anchor.kind), className: 'anchor-icon', iconSize: [32, 32], iconAnchor: [16, 16] }),
            title: name,
            alt: name,
            keyboard: true,
            pmIgnore,
          }),
        style: () => anchorStyle(anchor.kind),
        className: `anchor-shape anchor-shape-${anchor.kind}`,
        pmIgnore,
      },
    );
    if (layer.setStyle) layer.setStyle(anchorStyle(anchor.kind));
    layer.anchorId = anchor.id;
    layer.anchorVersion = anchor.version;
    layer.anchorKind = anchor.kind;
    layer.anchorGeometry = shapeKey(anchor);
    if (layer.options) layer.options.pmIgnore = pmIgnore;
    if (this.canEdit && L.PM.reInitLayer) L.PM.reInitLayer(layer);
    layer.bindPopup(() => this._popup(anchor.id));
    this._label(layer, anchor);
    if (this.canEdit) layer.on('pm:edit', () => this._edited(layer));
    return layer;
  }

  _label(layer, anchor) {
    layer.anchorLabel = anchor.label;
    layer.unbindTooltip();
    const point = layer instanceof L.Marker;
    if (anchor.label) {
      layer.bindTooltip(anchor.label, {
        permanent: true,
        interactive: false,
        direction: point ? 'bottom' : 'top',
        offset: point ? [0, 14] : [0, 0],
        className: `anchor-label map-label ${point ? 'label-point' : 'label-area'}`,
      });
    }
    this._name(layer, anchor);
    this._placeLabel(layer, anchor);
  }

  /**
   * A zone's name sits on its northern edge, not at its centre, where the names of nested
   * zones (red in orange in yellow) would fall on one another; the element says its kind to
   * the LabelDeclutter, which keeps the innermost's when they still meet.
   */
  _placeLabel(layer, anchor) {
    const tooltip = layer.getTooltip && layer.getTooltip();
    if (!tooltip || !layer._map) return;
    if (!(layer instanceof L.Marker) && layer.getBounds) {
      const bounds = layer.getBounds();
      if (bounds.isValid()) layer.openTooltip(L.latLng(bounds.getNorth(), bounds.getCenter().lng));
    }
    const el = tooltip.getElement();
    if (el) el.dataset.kind = anchor.kind;
    if (this.map.labels) this.map.labels.schedule();
  }

  /** Its name on the drawn element (there once the layer is on the map). */
  _name(layer, anchor) {
    const el = layer.getElement && layer.getElement();
    const name = `${t(`anchor.${anchor.kind}`)}: ${anchor.label || ''}`;
    if (el && layer instanceof L.Marker) el.title = name;
    else if (el) nameShape(layer, el, name);
  }

  /** Geometry edits arrive in bursts (each vertex, each drag step): send the last one. */
  _edited(layer) {
    clearTimeout(this.timers.get(layer.anchorId));
    this.timers.set(
      layer.anchorId,
      setTimeout(() => {
        const anchor = this._anchorOf(layer);
        if (!anchor) return;
        const geometry = layer.toGeoJSON().geometry;
        const changes = { geometry };
        if (layer instanceof L.Circle) changes.properties = { ...anchor.properties, radius_m: Math.round(layer.getRadius() * 10) / 10 };
        layer.anchorGeometry = shapeKey({ geometry, properties: changes.properties || anchor.properties });
        this.actions.update(anchor, changes);
      }, EDIT_DEBOUNCE_MS),
    );
  }

  _popup(id) {
    const anchor = this.store.anchors.get(id);
    if (!anchor) return '';
    const body = h(
      'div',
      { class: 'anchor-popup' },
      h('strong', {}, anchor.label || t(`anchor.${anchor.kind}`)),
      h('div', {}, t(`anchor.${anchor.kind}`)),
      h('div', { class: 'muted' }, `${t('anchor.version')} ${anchor.version} · ${formatTime(anchor.updated_at, true)}`),
    );
    if (anchor.kind === 'weather') body.append(...windPopupLines(anchor));
    if (this.onPopup) this.onPopup(anchor, body); // what lies inside its area (layers.js)
    if (this.canEdit) {
      body.append(
        h(
          'div',
          { class: 'popup-actions' },
          h('button', { type: 'button', class: 'btn btn-small', 'aria-label': anchorAction('anchor.edit', anchor), onclick: () => this.actions.edit(anchor) }, t('anchor.edit')),
          h(
            'button',
            { type: 'button', class: 'btn btn-small btn-danger', 'aria-label': anchorAction('anchor.delete', anchor), onclick: () => this.actions.confirmRemove(anchor) },
            t('anchor.delete'),
          ),
          anchor.kind === 'weather' && this.actions.observe
            ? h('button', { type: 'button', class: 'btn btn-small wind-observe', onclick: () => this.actions.observe(anchor) }, t('wind.observe'))
            : null,
        ),
      );
    }
    return body;
  }

  /** Fly to an anchor and open its popup (from the anchor list, keyboard friendly). */
  focus(id) {
    const layer = this.layers.get(id);
    const anchor = this.store.anchors.get(id);
    if (!layer || !anchor) return;
    showGeometry(this.map, anchor.geometry);
    layer.openPopup();
  }
}

/** A shape's bounding box in square degrees of latitude: enough to order nested shapes. */
function boundsArea(layer) {
  if (layer instanceof L.Circle) return Math.PI * (layer.getRadius() / 111320) ** 2; // off the map too
  const bounds = layer.getBounds();
  if (!bounds.isValid()) return 0;
  const scale = Math.cos((bounds.getCenter().lat * Math.PI) / 180);
  return (bounds.getNorth() - bounds.getSouth()) * (bounds.getEast() - bounds.getWest()) * scale;
}

/** "Edit CP Monnaie": an anchor's button, named with the anchor it acts on. */
export function anchorAction(key, anchor) {
  return `${t(key)}: ${anchor.label || t(`anchor.${anchor.kind}`)}`;
}

/**
 * The browser makes a zone's SVG shape a tab stop: name it, and let Enter or Space open its
 * popup as a click does, so that it is a stop worth making.
 */
function nameShape(layer, el, name) {
  el.setAttribute('aria-label', name);
  el.setAttribute('role', 'button');
  el.setAttribute('tabindex', '0');
  if (el.dataset.keyed) return;
  el.dataset.keyed = 'true';
  el.addEventListener('keydown', (e) => {
    if (e.key !== 'Enter' && e.key !== ' ') return;
    e.preventDefault();
    e.stopPropagation(); // the map's own Enter (picking a place) is not this
    layer.openPopup();
  });
}

/** A circular perimeter's radius in metres (a Point with properties.radius_m), else 0. */
function circleRadius(anchor) {
  const radius = anchor.geometry && anchor.geometry.type === 'Point' && anchor.properties && Number(anchor.properties.radius_m);
  return radius > 0 ? radius : 0;
}

/** What a layer draws of an anchor: its geometry, and a circle's radius. */
function shapeKey(anchor) {
  return JSON.stringify([anchor.geometry, circleRadius(anchor)]);
}

/** Convoys: planned routes, vehicle markers and their trails; optionally follows one vehicle. */
export class ConvoyLayer {
  constructor(map, store) {
    this.map = map;
    this.store = store;
    this.routes = L.layerGroup().addTo(map);
    this.trails = L.layerGroup().addTo(map);
    this.markers = L.layerGroup().addTo(map);
    this.vehicleLayers = new Map();
    this.following = null;
  }

  renderAll() {
    this.routes.clearLayers();
    for (const convoy of this.store.convoys.values()) {
      for (const geometry of routeGeometries(convoy.route)) {
        L.geoJSON(geometry, { style: { color: '#5c6bc0', weight: 4, opacity: 0.6, dashArray: '10 8' }, interactive: false }).addTo(this.routes);
      }
    }
    for (const id of [...this.vehicleLayers.keys()]) if (!this.store.vehicles.has(id)) this._drop(id);
    for (const vehicle of this.store.vehicles.values()) this.renderVehicle(vehicle);
  }

  _drop(id) {
    const v = this.vehicleLayers.get(id);
    if (!v) return;
    this.markers.removeLayer(v.marker);
    this.trails.removeLayer(v.trail);
    this.vehicleLayers.delete(id);
  }

  renderVehicle(vehicle) {
    if (!vehicle.position) return;
    const latlng = [vehicle.position.lat, vehicle.position.lon];
    let v = this.vehicleLayers.get(vehicle.id);
    const icon = () => {
      // A unit or vehicle whose SIDC is set shows its APP-6 symbol (unit-symbol.js).
      const unit = unitIcon(vehicle.sidc, vehicle.position.heading);
      if (unit) return L.divIcon({ ...unit, className: 'vehicle-icon vehicle-icon-sidc' });
      return L.divIcon({
        html: vehicleSymbol(vehicle.position.heading),
        className: 'vehicle-icon',
        iconSize: [32, 32],
        iconAnchor: [16, 16],
      });
    };
    if (!v) {
      v = {
        marker: L.marker(latlng, { icon: icon(), title: vehicle.label, alt: vehicle.label, keyboard: true, zIndexOffset: 1000 }),
        trail: L.polyline(vehicle.trail, { color: '#00838f', weight: 3, opacity: 0.7, interactive: false }),
        heading: vehicle.position.heading,
        sidc: vehicle.sidc,
      };
      v.marker.bindTooltip(vehicle.label, { permanent: true, interactive: false, direction: 'right', offset: [14, 0], className: 'vehicle-tooltip map-label' });
      v.marker.on('click', () => this.follow(this.following === vehicle.id ? null : vehicle.id));
      // Bunched vehicles keep one label each only where they do not meet (map-legend.js):
      // the one pointed at shows its own meanwhile.
      v.marker.on('mouseover focus', () => this.map.labels && this.map.labels.focus(vehicle.id));
      v.marker.on('mouseout blur', () => this.map.labels && this.map.labels.focus(this.following));
      this.vehicleLayers.set(vehicle.id, v);
      this.trails.addLayer(v.trail);
      this.markers.addLayer(v.marker);
      const label = v.marker.getTooltip().getElement();
      if (label) label.dataset.vehicle = vehicle.id;
    } else {
      v.marker.setLatLng(latlng);
      if (v.heading !== vehicle.position.heading || v.sidc !== vehicle.sidc) {
        v.heading = vehicle.position.heading;
        v.sidc = vehicle.sidc;
        v.marker.setIcon(icon());
      }
      v.trail.setLatLngs(vehicle.trail);
    }
    if (this.following === vehicle.id) this.map.panTo(latlng, { animate: true, duration: 0.5 });
    if (this.map.labels) this.map.labels.schedule();
  }

  /** Keep vehicle `id` in view as it moves; null stops following. */
  follow(id) {
    this.following = id;
    if (this.map.labels) this.map.labels.focus(id);
    for (const [vid, v] of this.vehicleLayers) {
      const el = v.marker.getElement();
      if (el) el.classList.toggle('vehicle-followed', vid === id);
    }
    const vehicle = id && this.store.vehicles.get(id);
    if (vehicle && vehicle.position) this.map.setView([vehicle.position.lat, vehicle.position.lon], Math.max(this.map.getZoom(), 14));
    if (this.onFollow) this.onFollow(id);
  }
}
