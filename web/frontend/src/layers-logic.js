// Reference layers, the pure part (node tests: test/layers.test.js): the anchor popup's
// "Inside: 3 schools, 1 retirement home, 2 registered addresses" from GET …/inside, and the
// SVG symbol a layer's points are drawn with.

import { LAYER_CATEGORIES, LAYER_SYMBOLS } from './enums.js';

// The hub's own lists (models/layer.py, through the generated enums.js).
export const CATEGORIES = LAYER_CATEGORIES;
export const SYMBOLS = LAYER_SYMBOLS;

/** "{n} schools" in the page's language: `t` is i18n.js's; `other` layers by their name. */
export function countText(t, category, n, name) {
  if (category === 'other' || !CATEGORIES.includes(category)) return t('layers.count_named', { name, n });
  return t(`layers.cat.${category}.${n === 1 ? 'one' : 'other'}`, { n });
}

/** The popup's line for an answer of GET …/anchors/{id}/inside: the layers with something
 * inside, the most first, then the registered addresses (when any). */
export function insideText(t, inside) {
  const found = inside.layers.filter((layer) => layer.count > 0);
  found.sort((a, b) => b.count - a.count || a.name.localeCompare(b.name));
  const parts = found.map((layer) => countText(t, layer.category, layer.count, layer.name));
  if (inside.registrations > 0) parts.push(t(`layers.registrations.${inside.registrations === 1 ? 'one' : 'other'}`, { n: inside.registrations }));
  return parts.length ? t('layers.inside', { list: parts.join(', ') }) : t('layers.inside_nothing');
}

const PATHS = {
  circle: '<circle cx="10" cy="10" r="7"/>',
  square: '<rect x="3.5" y="3.5" width="13" height="13"/>',
  triangle: '<path d="M10 2.5 18 17H2z"/>',
  diamond: '<path d="M10 1.5 18.5 10 10 18.5 1.5 10z"/>',
  cross: '<path d="M7 2.5h6v4.5h4.5v6H13v4.5H7V13H2.5V7H7z"/>',
  star: '<path d="m10 1.8 2.5 5.3 5.8.7-4.3 4 1.1 5.7L10 14.7l-5.1 2.8 1.1-5.7-4.3-4 5.8-.7z"/>',
};

/** A layer's point symbol: its shape in its colour, outlined in white to stand out on any map. */
export function symbolSvg(symbol, colour) {
  const shape = PATHS[symbol] || PATHS.circle;
  const fill = /^#[0-9a-f]{6}$/i.test(colour) ? colour : '#1f6feb';
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 20 20" width="20" height="20" aria-hidden="true"><g fill="${fill}" stroke="#fff" stroke-width="1.5">${shape}</g></svg>`;
}
