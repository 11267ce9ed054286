// Units and vehicles whose SIDC is set (issue 16) are drawn with their APP-6 / MIL-STD-2525
// symbol by milsymbol (npm, bundled: no CDN), instead of the default arrow. Its own module so
// that only the pages with a convoy map carry milsymbol.

import ms from 'milsymbol';

const SIZE = 22; // milsymbol's size: the frame's height in pixels, about the arrow's 32 px box
const made = new Map(); // sidc|heading -> icon options: a vehicle moves often, its symbol rarely

/**
 * The icon of a vehicle with a SIDC: {html, iconSize, iconAnchor}, the heading drawn as
 * milsymbol's direction arrow; null when the SIDC is not one milsymbol can draw (the map then
 * keeps the default arrow rather than a question mark).
 */
export function unitIcon(sidc, heading) {
  if (typeof sidc !== 'string' || !/^[A-Z0-9*-]{15,30}$/.test(sidc)) return null; // as the hub checks it
  const turn = Number.isFinite(heading) ? Math.round(heading) : null;
  const key = `${sidc}|${turn}`;
  if (made.has(key)) return made.get(key);
  const options = { size: SIZE };
  if (turn !== null) options.direction = turn;
  const symbol = new ms.Symbol(sidc, options);
  let icon = null;
  if (symbol.isValid()) {
    const { width, height } = symbol.getSize();
    const anchor = symbol.getAnchor();
    icon = {
      html: `<span class="milsymbol" data-sidc="${sidc}">${symbol.asSVG()}</span>`,
      iconSize: [Math.ceil(width), Math.ceil(height)],
      iconAnchor: [Math.round(anchor.x), Math.round(anchor.y)],
    };
  }
  if (made.size > 500) made.clear();
  made.set(key, icon);
  return icon;
}
