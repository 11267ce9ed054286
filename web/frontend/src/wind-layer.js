// The wind of weather anchors on the map (issue 16): an arrow at the anchor pointing where the
// wind blows, and the downwind sector a toxic cloud would cover, dashed purple so that it
// reads as guidance under the perimeters the fire officer draws over it. Neither takes clicks:
// the anchor's own marker (drawn by AnchorLayer) keeps its popup, editing and dragging.
// The numbers and words are wind-logic.js's.

import L from './leaflet-global.js';
import { getLang, t } from './i18n.js';
import { arrowRotation, compass, directionText, downwindSector, readWind, speedText } from './wind-logic.js';
import { h, formatTime } from './util.js';

export const SECTOR_STYLE = { color: '#6a1b9a', weight: 2, dashArray: '6 5', fillColor: '#ab47bc', fillOpacity: 0.12, opacity: 0.9 };

const ARROW = (turn) =>
  `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 40" width="40" height="40" aria-hidden="true"><g transform="rotate(${turn} 20 20)"><path d="M20 2 L29 16 L23 16 L23 38 L17 38 L17 16 L11 16 Z" fill="#6a1b9a" stroke="#fff" stroke-width="2"/></g></svg>`;

export class WindOverlay {
  constructor(map) {
    this.map = map;
    this.group = L.layerGroup().addTo(map);
    this.drawn = new Map(); // anchor id -> {sector, arrow, key}
  }

  /** Draw (or redraw, or remove) the wind of `anchor`; anything but a weather anchor with a
   * direction draws nothing. */
  draw(anchor) {
    const wind = readWind(anchor);
    if (!wind) return this.remove(anchor && anchor.id);
    const key = JSON.stringify([wind.lon, wind.lat, wind.from, wind.length, wind.angle, wind.speed]);
    const old = this.drawn.get(anchor.id);
    if (old && old.key === key) return;
    this.remove(anchor.id);
    const [ring] = downwindSector(wind).coordinates;
    const sector = L.polygon(
      ring.map(([lon, lat]) => [lat, lon]),
      { ...SECTOR_STYLE, className: 'wind-sector', interactive: false, pmIgnore: true },
    );
    const point = compass(wind.from, getLang());
    const name = `${t('wind.arrow')}: ${point.word}${wind.speed != null ? `, ${speedText(wind.speed)}` : ''}`;
    const arrow = L.marker([wind.lat, wind.lon], {
      icon: L.divIcon({ html: ARROW(arrowRotation(wind)), className: 'wind-arrow', iconSize: [40, 40], iconAnchor: [20, 20] }),
      interactive: false,
      keyboard: false,
      pmIgnore: true,
      zIndexOffset: -100, // under the anchor's own marker, which takes the clicks
    });
    this.group.addLayer(sector);
    this.group.addLayer(arrow);
    const el = arrow.getElement();
    if (el) {
      el.dataset.windFrom = String(wind.from);
      el.dataset.windTo = String(wind.to);
      el.setAttribute('title', name);
    }
    const path = sector.getElement();
    if (path) path.dataset.windTo = String(wind.to);
    this.drawn.set(anchor.id, { sector, arrow, key });
  }

  remove(id) {
    const old = id != null && this.drawn.get(id);
    if (!old) return;
    this.group.removeLayer(old.sector);
    this.group.removeLayer(old.arrow);
    this.drawn.delete(id);
  }

  /** After a language change: the arrows' names. */
  redrawAll(anchors) {
    for (const id of [...this.drawn.keys()]) this.remove(id);
    for (const anchor of anchors) this.draw(anchor);
  }
}

/** The lines a weather anchor's popup adds: direction in words, speed, gusts, the sector, when
 * and by whom it was observed; "no wind yet" before any. */
export function windPopupLines(anchor) {
  const wind = readWind(anchor);
  if (!wind) return [h('div', { class: 'wind-line muted' }, t('wind.none'))];
  const lang = getLang();
  const lines = [
    h('div', { class: 'wind-line wind-direction' }, `${t('wind.from')} ${directionText(wind, lang)}`),
  ];
  if (wind.speed != null) lines.push(h('div', { class: 'wind-line wind-speed' }, `${t('wind.speed')} ${speedText(wind.speed)}`));
  if (wind.gust != null) lines.push(h('div', { class: 'wind-line wind-gust' }, `${t('wind.gust')} ${speedText(wind.gust)}`));
  lines.push(
    h(
      'div',
      { class: 'wind-line wind-sector-text muted' },
      t('wind.sector', { km: Math.round(wind.length / 100) / 10, angle: Math.round(wind.angle), to: compass(wind.to, lang).word }),
    ),
  );
  if (wind.observedAt || wind.source) {
    const when = wind.observedAt ? formatTime(wind.observedAt, true) : '';
    lines.push(h('div', { class: 'wind-line muted' }, [t('wind.observed'), when, wind.source ? `· ${wind.source}` : ''].filter(Boolean).join(' ')));
  }
  return lines;
}
