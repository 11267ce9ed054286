// The public page of an alert (web/templates/public_alert.html): the map of its area on the
// offline base layer (or the configured tile server). The text is in the page already; this
// only draws the map, without the drawing tools or the socket of the professional app.

import L from 'leaflet';
import { loadBasemap } from './basemap.js';
import './public-alert.css';

const AREA_STYLE = { color: '#b71c1c', weight: 3, fillColor: '#e53935', fillOpacity: 0.25 };
const BELGIUM_CENTER = [50.6, 4.6];

function readConfig() {
  const element = document.getElementById('config');
  return element ? JSON.parse(element.textContent) : {};
}

/** The area's layers: its polygons (or, without them, the whole geometry) and its circles. */
export function areaLayers(area) {
  const group = L.featureGroup();
  const circles = area.circles || [];
  const shapes = area.polygons || (circles.length ? null : area.geometry);
  if (shapes) L.geoJSON(shapes, { style: AREA_STYLE, interactive: false }).addTo(group);
  for (const circle of circles) {
    L.circle([circle.lat, circle.lon], { ...AREA_STYLE, radius: circle.radius_m, interactive: false }).addTo(group);
  }
  return group;
}

function start() {
  const element = document.getElementById('alert-map');
  if (!element) return;
  const config = readConfig();
  const map = L.map(element, { center: BELGIUM_CENTER, zoom: 8, keyboard: true });
  L.control.scale({ imperial: false }).addTo(map);
  if (config.tile_url) {
    L.tileLayer(config.tile_url, { maxZoom: 19 }).addTo(map);
  } else {
    element.classList.add('map-offline');
    loadBasemap(map, config.basemap_url || '/static/dist/basemap.geojson');
  }
  const area = areaLayers(config.area || {}).addTo(map);
  const bounds = area.getBounds();
  if (bounds.isValid()) map.fitBounds(bounds, { maxZoom: 15, padding: [24, 24] });
}

start();
