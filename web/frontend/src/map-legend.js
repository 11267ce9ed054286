// The map's legend and labels (issue 19, item 4): what each colour and symbol on the map
// means, in the page's language, folded away on a phone; zone and point names shown without
// hovering from a sensible zoom on; and no two labels drawn over each other or cut at the
// map's edge. The choices are label-logic.js's; this module measures and draws.

import L from './leaflet-global.js';
import { getLang, t } from './i18n.js';
import { ANCHOR_KINDS, ZONE_COLOURS, anchorStyle, anchorSymbol, vehicleSymbol } from './symbols.js';
import { routeGeometries } from './store.js';
import { unitIcon } from './unit-symbol.js';
import { PRIORITY, declutter, fitInside, legendRows } from './label-logic.js';
import { h } from './util.js';

// Narrower than this, the legend starts folded (a phone): the map is small enough already.
const PHONE_MAX_PX = 700;
// A vehicle's label starts this far right of its marker's centre (ConvoyLayer's tooltip offset).
const VEHICLE_LABEL_OFFSET = 14;

function swatch(row) {
  const box = h('span', { class: `legend-swatch legend-${row.swatch}`, 'aria-hidden': 'true' });
  if (row.swatch === 'zone') {
    const style = anchorStyle(row.kind);
    box.style.borderColor = style.color;
    box.style.background = `${ZONE_COLOURS[row.kind] || style.color}40`; // its fill, lighter
  } else if (row.swatch === 'line') {
    box.style.borderTopColor = anchorStyle(row.kind).color;
  } else if (row.swatch === 'symbol') {
    box.innerHTML = anchorSymbol(row.kind); // our own static SVG, never user data
  } else if (row.swatch === 'unit') {
    const icon = unitIcon(row.sidc, null);
    if (icon) box.innerHTML = icon.html; // milsymbol's SVG of a code the hub checked
  } else if (row.swatch === 'vehicle') {
    box.innerHTML = vehicleSymbol(45);
  } else if (row.swatch === 'vehicle-still') {
    box.innerHTML = vehicleSymbol(null);
  }
  return box;
}

/** A Leaflet control: a <details> whose summary is "Legend", its rows the kinds on the map. */
export class MapLegend {
  /** `sources()` gives what the map shows now (legendSources). */
  constructor(map, sources) {
    this.map = map;
    this.sources = sources;
    this.open = !(globalThis.matchMedia && globalThis.matchMedia(`(max-width: ${PHONE_MAX_PX}px)`).matches);
    const Legend = L.Control.extend({
      options: { position: 'bottomleft' },
      onAdd: () => {
        this.details = h('details', { class: 'map-legend leaflet-bar', id: 'map-legend' });
        this.details.open = this.open;
        this.details.addEventListener('toggle', () => (this.open = this.details.open));
        L.DomEvent.disableClickPropagation(this.details);
        L.DomEvent.disableScrollPropagation(this.details);
        return this.details;
      },
    });
    this.control = new Legend().addTo(map);
    this.render();
  }

  /** Draw the rows again: the kinds on the map changed, or the language. */
  render() {
    const { anchors, convoys } = this.sources();
    const rows = legendRows(anchors, convoys.vehicles, convoys.routes, ANCHOR_KINDS);
    const key = `${getLang()} ${JSON.stringify(rows)}`;
    if (key === this.drawn) return; // the same rows: keep them (and a focus inside)
    this.drawn = key;
    this.details.hidden = rows.length === 0;
    this.details.replaceChildren(
      h('summary', {}, t('legend.title')),
      h(
        'ul',
        { class: 'legend-rows' },
        rows.map((row) => h('li', { dataset: { key: row.key, swatch: row.swatch } }, swatch(row), h('span', { class: 'legend-text' }, t(row.key)))),
      ),
    );
  }
}

/**
 * The legend's view of the store `current()` gives (the live one, or the replay's): its
 * anchors, its vehicles' headings, whether any convoy has a route.
 */
export function legendSources(current) {
  return () => {
    const store = current();
    return {
      anchors: [...store.anchors.values()],
      convoys: {
        vehicles: [...store.vehicles.values()].filter((v) => v.position).map((v) => ({ heading: v.position.heading, sidc: v.sidc || null })),
        routes: [...store.convoys.values()].some((c) => routeGeometries(c.route).length > 0),
      },
    };
  };
}

/**
 * After every move, zoom or change: the labels drawn over one another are hidden but the one
 * that matters most (label-logic.js PRIORITY), and those at the map's edge are moved inside
 * (a vehicle's to the other side of it). A hidden vehicle label shows while its marker is
 * pointed at or followed; its full name is always the marker's title.
 */
export class LabelDeclutter {
  /** Kept on `map.labels`, where every AnchorLayer and ConvoyLayer of the map finds it. */
  constructor(map) {
    this.map = map;
    map.labels = this;
    this.focused = null;
    this.queued = false;
    map.on('zoomend moveend resize viewreset', () => this.schedule());
  }

  /** The vehicle whose label wins (pointed at or followed); null for none. */
  focus(id) {
    this.focused = id;
    this.schedule();
  }

  /** Run once at the next frame, however often asked before (positions come 4 times a second). */
  schedule() {
    if (this.queued) return;
    this.queued = true;
    const run = () => {
      this.queued = false;
      this.run();
    };
    if (globalThis.requestAnimationFrame) requestAnimationFrame(run);
    else setTimeout(run, 16);
  }

  run() {
    const container = this.map.getContainer();
    const box = container.getBoundingClientRect();
    const labels = [...container.querySelectorAll('.leaflet-tooltip-pane .map-label')];
    const items = [];
    for (const el of labels) {
      el.style.marginLeft = '';
      el.classList.remove('label-flipped', 'label-hidden');
      if (el.classList.contains('label-zoomed-out')) continue;
      const r = el.getBoundingClientRect();
      if (!r.width) continue;
      const rect = { left: r.left - box.left, top: r.top - box.top, right: r.right - box.left, bottom: r.bottom - box.top };
      const kind = el.dataset.kind;
      const priority = el.dataset.vehicle ? (el.dataset.vehicle === this.focused ? PRIORITY.focused : PRIORITY.vehicle) : PRIORITY[kind] || (el.dataset.point ? PRIORITY.point : PRIORITY.zone);
      if (rect.right < 0 || rect.left > box.width || rect.bottom < 0 || rect.top > box.height) continue; // off the map
      // Leaflet's own margin puts a side label 6 px further from its marker: a move adds to it.
      const margin = parseFloat(getComputedStyle(el).marginLeft) || 0;
      const fit = fitInside(rect, box.width, { side: el.dataset.vehicle ? 'right' : 'centre', offset: VEHICLE_LABEL_OFFSET + margin });
      const moved = { ...rect, left: rect.left + fit.shift, right: rect.right + fit.shift };
      items.push({ id: items.length, el, priority, rect: moved, fit, margin });
    }
    // The symbols a point's or vehicle's label must not cover (label-logic.js).
    const symbols = [...container.querySelectorAll('.leaflet-marker-pane .leaflet-marker-icon')]
      .map((el) => el.getBoundingClientRect())
      .filter((r) => r.width)
      .map((r) => ({ left: r.left - box.left, top: r.top - box.top, right: r.right - box.left, bottom: r.bottom - box.top }));
    const shown = declutter(items, undefined, symbols);
    for (const item of items) {
      if (!shown.has(item.id)) {
        item.el.classList.add('label-hidden');
        continue;
      }
      if (item.fit.shift) item.el.style.marginLeft = `${item.margin + item.fit.shift}px`;
      if (item.fit.flip) item.el.classList.add('label-flipped');
    }
  }
}
