// Leaflet's and geoman's own words in the page's language: Leaflet speaks English ("Zoom in",
// "Close popup") and geoman's French is a GIS tool's ("Supprimer des calques"), not a crisis
// cell's. Their controls are labelled here; nothing of how the map draws or edits changes.

import { DICTIONARIES, getLang, t } from './i18n.js';

// geoman's buttonTitles keys → ours (map.tool.*).
const TOOLS = {
  drawMarkerButton: 'marker',
  drawPolyButton: 'polygon',
  drawLineButton: 'line',
  drawCircleButton: 'circle',
  drawRectButton: 'rectangle',
  editButton: 'edit',
  dragButton: 'drag',
  deleteButton: 'delete',
};

/** geoman's button titles in our words, for every language of the page (before any setLang). */
export function registerDrawingWords(map) {
  for (const [lang, words] of Object.entries(DICTIONARIES)) {
    const buttonTitles = Object.fromEntries(Object.entries(TOOLS).map(([key, ours]) => [key, words[`map.tool.${ours}`]]));
    map.pm.setLang(lang, { buttonTitles }, lang);
  }
  map.pm.setLang(getLang());
}

function label(element, text) {
  if (!element) return;
  element.title = text;
  element.setAttribute('aria-label', text);
}

/** The zoom buttons and every popup's close button, now and after each language change. */
export function translateMap(map) {
  const box = map.zoomControl && map.zoomControl.getContainer();
  if (box) {
    label(box.querySelector('.leaflet-control-zoom-in'), t('map.zoom_in'));
    label(box.querySelector('.leaflet-control-zoom-out'), t('map.zoom_out'));
  }
  if (!map.__wordsBound) {
    map.__wordsBound = true;
    map.on('popupopen', (e) => {
      const element = e.popup.getElement();
      label(element && element.querySelector('.leaflet-popup-close-button'), t('map.close_popup'));
    });
  }
}
