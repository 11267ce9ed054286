// The public page of an alert (web/templates/public_alert.html): the map of its area on the
// offline base layer (or the configured tile server). The text is in the page already; this
// only draws the map, without the drawing tools or the socket of the professional app.

import L from 'leaflet';
import './public-alert.css';

const AREA_STYLE = { color: '#b71c1c', weight: 3, fillColor: '#e53935', fillOpacity: 0.25 };
const BELGIUM_CENTER = [50.6, 4.6];

function readConfig() {
  const element = document.getElementById('config');
  return element ? JSON.parse(element.textContent) : {};
}

async function addBasemap(map, url) {
  let data;
  try {
    data = await (await fetch(url, { credentials: 'same-origin' })).json();
  } catch {
    return; // the area is still drawn without it
  }
  map.createPane('basemap').style.zIndex = 200;
  L.geoJSON(data, {
    pane: 'basemap',
    attribution: 'Natural Earth',
    interactive: false,
    style: (f) => {
      const role = f.properties.role;
      if (role === 'neighbour') return { color: '#9e9e9e', weight: 1, fillColor: '#e6e6e6', fillOpacity: 1 };
      if (role === 'country') return { color: '#37474f', weight: 2.5, fillColor: '#fbfbf8', fillOpacity: 1 };
      return { color: '#78909c', weight: 1.2, dashArray: '4 3', fill: false };
    },
  }).addTo(map);
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
    addBasemap(map, config.basemap_url || '/static/dist/basemap.geojson');
  }
  const area = areaLayers(config.area || {}).addTo(map);
  const bounds = area.getBounds();
  if (bounds.isValid()) map.fitBounds(bounds, { maxZoom: 15, padding: [24, 24] });
}

start();
