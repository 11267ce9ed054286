"""A small PMTiles base map of the summit's streets, made here rather than downloaded: the demo
serves it as its BASEMAP_PMTILES so a newcomer sees streets around the Europa building, and the
tests serve it to prove the base map is drawn (a real extract cannot be fetched there).

The tiles follow the Protomaps basemap layers (`earth`, `landuse`, `roads`, `buildings`,
`places`, with `kind` and `name`, `name:fr`, `name:nl`, `name:en`), the schema of a Protomaps
extract of Belgium, so the map draws this file and an operator's extract with the same style.
Coordinates are approximate: it is a demonstration map, not a survey.
"""

from __future__ import annotations

import gzip
import math
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import mapbox_vector_tile
import numpy as np
import shapely
from numpy.typing import NDArray
from pmtiles.tile import Compression, TileType, zxy_to_tileid
from pmtiles.writer import Writer
from shapely.geometry import LineString, Point, box, mapping
from shapely.geometry.base import BaseGeometry

EXTENT = 4096  # MVT units per tile side
BUFFER = 64  # units of geometry kept past each tile edge, so strokes meet across tiles
MIN_ZOOM = 0
MAX_ZOOM = 15  # Protomaps extracts stop at 15; the renderer draws deeper zooms from it
# west, south, east, north of the area drawn: the European quarter around Schuman.
BOUNDS = (4.3600, 50.8330, 4.4000, 50.8530)

Names = dict[str, str]


def _names(fr: str, nl: str, en: str) -> Names:
    # Brussels signs are bilingual: OpenStreetMap's `name` is "fr - nl" there.
    return {"name": f"{fr} - {nl}", "name:fr": fr, "name:nl": nl, "name:en": en}


# kind, names, (lon, lat) points
STREETS: list[tuple[str, Names, list[tuple[float, float]]]] = [
    (
        "major_road",
        _names("Rue de la Loi", "Wetstraat", "Law Street"),
        [(4.3650, 50.8468), (4.3740, 50.8448), (4.3806, 50.8431), (4.3870, 50.8414)],
    ),
    (
        "major_road",
        _names("Rue Belliard", "Belliardstraat", "Belliard Street"),
        [(4.3660, 50.8437), (4.3750, 50.8417), (4.3812, 50.8401), (4.3880, 50.8386)],
    ),
    (
        "major_road",
        _names("Boulevard Charlemagne", "Karel de Grotelaan", "Charlemagne Boulevard"),
        [(4.3806, 50.8431), (4.3772, 50.8458), (4.3740, 50.8484)],
    ),
    (
        "major_road",
        _names("Avenue de Cortenbergh", "Kortenberglaan", "Cortenbergh Avenue"),
        [(4.3806, 50.8431), (4.3852, 50.8452), (4.3910, 50.8476)],
    ),
    (
        "minor_road",
        _names("Rue Froissart", "Froissartstraat", "Froissart Street"),
        [(4.3798, 50.8426), (4.3783, 50.8398), (4.3772, 50.8372)],
    ),
    (
        "minor_road",
        _names("Rue Juste Lipse", "Justus Lipsiusstraat", "Justus Lipsius Street"),
        [(4.3762, 50.8443), (4.3768, 50.8414)],
    ),
    (
        "minor_road",
        _names("Rue Archimède", "Archimedesstraat", "Archimedes Street"),
        [(4.3832, 50.8424), (4.3842, 50.8466)],
    ),
    (
        "minor_road",
        _names("Chaussée d'Etterbeek", "Etterbeeksesteenweg", "Etterbeek Road"),
        [(4.3745, 50.8490), (4.3752, 50.8440), (4.3760, 50.8380), (4.3768, 50.8340)],
    ),
]

# names, (west, south, east, north)
BUILDINGS: list[tuple[Names, tuple[float, float, float, float]]] = [
    (
        _names("Bâtiment Europa", "Europagebouw", "Europa building"),
        (4.3798, 50.8412, 4.3816, 50.8424),
    ),
    (
        _names("Justus Lipsius", "Justus Lipsius", "Justus Lipsius building"),
        (4.3770, 50.8410, 4.3794, 50.8425),
    ),
    (_names("Berlaymont", "Berlaymont", "Berlaymont"), (4.3816, 50.8436, 4.3840, 50.8452)),
    (
        _names("Résidence Palace", "Residence Palace", "Residence Palace"),
        (4.3783, 50.8403, 4.3798, 50.8410),
    ),
    (
        _names("Bâtiment Charlemagne", "Karel de Grotegebouw", "Charlemagne building"),
        (4.3768, 50.8448, 4.3784, 50.8460),
    ),
]

PARKS: list[tuple[Names, tuple[float, float, float, float]]] = [
    (
        _names("Parc du Cinquantenaire", "Jubelpark", "Cinquantenaire Park"),
        (4.3885, 50.8385, 4.3965, 50.8425),
    ),
    (_names("Parc Léopold", "Leopoldpark", "Leopold Park"), (4.3765, 50.8360, 4.3805, 50.8386)),
]

PLACES: list[tuple[Names, tuple[float, float]]] = [
    (_names("Quartier européen", "Europese wijk", "European Quarter"), (4.3830, 50.8470)),
]


def _mercator(lon: float, lat: float, zoom: int) -> tuple[float, float]:
    """The position in tiles (x, y from the north-west corner) at `zoom`."""
    n = 1 << zoom
    x = (lon + 180.0) / 360.0 * n
    y = (1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n
    return x, y


def tile_at(lon: float, lat: float, zoom: int) -> tuple[int, int]:
    """The x, y of the tile holding (lon, lat) at `zoom`."""
    x, y = _mercator(lon, lat, zoom)
    return int(x), int(y)


def _features() -> dict[str, list[tuple[BaseGeometry, dict[str, Any]]]]:
    west, south, east, north = BOUNDS
    layers: dict[str, list[tuple[BaseGeometry, dict[str, Any]]]] = {
        "earth": [(box(west, south, east, north), {"kind": "earth"})],
        "landuse": [(box(*where), {"kind": "park", **names}) for names, where in PARKS],
        "buildings": [
            (box(*where), {"kind": "building", "height": 40, **names}) for names, where in BUILDINGS
        ],
        "roads": [
            (LineString(points), {"kind": kind, "kind_detail": "primary", **names})
            for kind, names, points in STREETS
        ],
        "places": [
            (Point(where), {"kind": "locality", "min_zoom": 12, "population_rank": 8, **names})
            for names, where in PLACES
        ],
    }
    return layers


def _project(geometry: BaseGeometry, zoom: int, x: int, y: int) -> BaseGeometry:
    """`geometry` (lon, lat) in the MVT units of tile z/x/y (y down), clipped to the tile."""
    n = 1 << zoom

    def to_tile(lonlat: NDArray[np.float64]) -> NDArray[np.float64]:
        lon, lat = lonlat[:, 0], lonlat[:, 1]
        px = (lon + 180.0) / 360.0 * n
        py = (1.0 - np.arcsinh(np.tan(np.radians(lat))) / math.pi) / 2.0 * n
        return np.column_stack(((px - x) * EXTENT, (py - y) * EXTENT))

    projected = shapely.transform(geometry, to_tile)
    return projected.intersection(box(-BUFFER, -BUFFER, EXTENT + BUFFER, EXTENT + BUFFER))


def _tiles() -> Iterator[tuple[int, int, int, bytes]]:
    west, south, east, north = BOUNDS
    layers = _features()
    for zoom in range(MIN_ZOOM, MAX_ZOOM + 1):
        x0, y0 = _mercator(west, north, zoom)
        x1, y1 = _mercator(east, south, zoom)
        for x in range(int(x0), int(x1) + 1):
            for y in range(int(y0), int(y1) + 1):
                encoded = []
                for name, features in layers.items():
                    kept = []
                    for geometry, properties in features:
                        clipped = _project(geometry, zoom, x, y)
                        if not clipped.is_empty:
                            kept.append({"geometry": mapping(clipped), "properties": properties})
                    if kept:
                        encoded.append({"name": name, "features": kept})
                if encoded:
                    data = mapbox_vector_tile.encode(
                        encoded, default_options={"y_coord_down": True, "extents": EXTENT}
                    )
                    yield zoom, x, y, gzip.compress(data, mtime=0)


def write_basemap(path: Path) -> Path:
    """Write the archive to `path` (whole or not at all: a reader never sees half a file)."""
    tiles = sorted(_tiles(), key=lambda tile: zxy_to_tileid(tile[0], tile[1], tile[2]))
    west, south, east, north = BOUNDS
    handle, partial = tempfile.mkstemp(dir=path.parent, prefix=".basemap-", suffix=".pmtiles")
    try:
        with os.fdopen(handle, "wb") as out:
            writer = Writer(out)  # type: ignore[no-untyped-call]  # pmtiles is untyped
            for zoom, x, y, data in tiles:
                writer.write_tile(zxy_to_tileid(zoom, x, y), data)  # type: ignore[no-untyped-call]
            center_lon, center_lat = 4.3806, 50.8421
            writer.finalize(  # type: ignore[no-untyped-call]
                {
                    "tile_type": TileType.MVT,
                    "tile_compression": Compression.GZIP,
                    "min_lon_e7": int(west * 1e7),
                    "min_lat_e7": int(south * 1e7),
                    "max_lon_e7": int(east * 1e7),
                    "max_lat_e7": int(north * 1e7),
                    "center_zoom": 15,
                    "center_lon_e7": int(center_lon * 1e7),
                    "center_lat_e7": int(center_lat * 1e7),
                },
                {
                    "name": "CrisisHub demo: European quarter, Brussels",
                    "attribution": "CrisisHub demo data",
                    "vector_layers": [
                        {"id": name, "fields": {}}
                        for name in _features()  # TileJSON's list
                    ],
                },
            )
        os.chmod(partial, 0o644)  # mkstemp's 0600 would hide it from a hub run as another user
        os.replace(partial, path)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
    return path


DEMO_FILE = "crisishub-demo.pmtiles"


def write_demo_basemap(directory: str | Path) -> Path:
    """The demo's BASEMAP_PMTILES, written afresh in `directory` (so it is never one an older
    version of this module made)."""
    return write_basemap(Path(directory) / DEMO_FILE)


if __name__ == "__main__":  # python -m hub.demo.basemap FILE
    import sys

    print(write_basemap(Path(sys.argv[1] if len(sys.argv) > 1 else "basemap.pmtiles")))
