// How a TILE_URL is read (pure, node-tested): an XYZ template (`…/{z}/{x}/{y}.png`, which is
// also a WMTS in its REST form) or a WMS GetMap endpoint, recognised by its SERVICE=WMS
// parameter (`https://wms.example/service?SERVICE=WMS&LAYERS=topo&FORMAT=image/png`), whose
// map requests Leaflet then makes itself, one 256-pixel tile at a time in EPSG:3857.

// Parameters that Leaflet's WMS layer writes on every request: not the base URL's to keep.
const PER_REQUEST = new Set(['service', 'request', 'bbox', 'width', 'height', 'srs', 'crs']);
// Parameters that Leaflet's WMS layer takes as options.
const OPTIONS = { layers: 'layers', styles: 'styles', format: 'format', transparent: 'transparent', version: 'version' };

/** `{base, options}` for L.tileLayer.wms when `url` is a WMS endpoint, else null. */
export function wmsSource(url) {
  let parsed;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  const params = [...parsed.searchParams.entries()];
  if (!params.some(([key, value]) => key.toLowerCase() === 'service' && value.toUpperCase() === 'WMS')) return null;
  const options = { layers: '', format: 'image/png', transparent: false };
  const kept = new URLSearchParams();
  for (const [key, value] of params) {
    const name = key.toLowerCase();
    if (name in OPTIONS) options[OPTIONS[name]] = name === 'transparent' ? value.toLowerCase() === 'true' : value;
    else if (!PER_REQUEST.has(name)) kept.append(key, value);
  }
  parsed.search = kept.toString();
  return { base: parsed.toString(), options };
}
