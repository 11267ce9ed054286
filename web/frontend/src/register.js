// The public registration page (/register): a small map to pick up to five places. The form
// works without it (latitude and longitude typed in); this only fills those fields. The base
// layer is the hub's offline one (basemap.geojson), or the configured tile server.
import L from 'leaflet';
import { loadBasemap } from './basemap.js';
import './register.css';

const BELGIUM = [50.6, 4.6];
const config = (() => {
  try {
    return JSON.parse(document.getElementById('config')?.textContent || '{}');
  } catch {
    return {};
  }
})();

const element = document.getElementById('place-map');
const rows = [...document.querySelectorAll('.place-row')];

function field(row, part) {
  return row.querySelector(`input[name$="-${part}"]`);
}

function number(input) {
  const value = Number.parseFloat(input.value.replace(',', '.'));
  return Number.isFinite(value) ? value : null;
}

async function baseLayer(map) {
  if (config.tile_url) {
    L.tileLayer(config.tile_url, { maxZoom: 19 }).addTo(map);
    return;
  }
  element.classList.add('map-offline');
  // the fields still work without a base layer
  await loadBasemap(map, config.basemap_url || '/static/dist/basemap.geojson');
}

if (element && rows.length) {
  element.hidden = false;
  document.getElementById('map-hint').hidden = false;
  const map = L.map(element, { center: BELGIUM, zoom: 7, keyboard: true });
  L.control.scale({ imperial: false }).addTo(map);
  baseLayer(map);
  const markers = new Map();

  const show = (row) => {
    const lat = number(field(row, 'lat'));
    const lon = number(field(row, 'lon'));
    const old = markers.get(row);
    if (old) old.remove();
    markers.delete(row);
    if (lat === null || lon === null) return;
    const marker = L.circleMarker([lat, lon], { radius: 8, color: '#0d47a1', weight: 3, fillOpacity: 0.4 })
      .bindTooltip(field(row, 'label').value || String(Number(row.dataset.index) + 1), { permanent: true, direction: 'right' })
      .addTo(map);
    markers.set(row, marker);
  };

  for (const row of rows) {
    for (const part of ['label', 'lat', 'lon']) field(row, part).addEventListener('change', () => show(row));
    show(row);
  }

  map.on('click', (event) => {
    const row = rows.find((r) => number(field(r, 'lat')) === null || number(field(r, 'lon')) === null);
    if (!row) return;
    field(row, 'lat').value = event.latlng.lat.toFixed(5);
    field(row, 'lon').value = event.latlng.lng.toFixed(5);
    if (!field(row, 'label').value) field(row, 'label').value = row === rows[0] && config.home ? config.home : '';
    show(row);
    (field(row, 'label').value ? field(row, 'lat') : field(row, 'label')).focus();
  });
}
