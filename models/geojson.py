"""RFC 7946 geometry validation: WGS 84 lon/lat ranges, closed rings, bounded size."""

from __future__ import annotations

import math
from typing import Any

import shapely.geometry
from shapely.validation import explain_validity

from models.limits import MAX_PARTS, MAX_VERTICES

GEOMETRY_TYPES = ("Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon")


class GeometryError(ValueError):
    def __init__(self, message: str, *, too_large: bool = False) -> None:
        super().__init__(message)
        self.too_large = too_large


def validate_geometry(value: Any) -> dict[str, Any]:
    """Return a clean copy of a GeoJSON geometry, or raise GeometryError saying what is wrong."""
    if not isinstance(value, dict):
        raise GeometryError("geometry must be a GeoJSON object")
    kind = value.get("type")
    if kind not in GEOMETRY_TYPES:
        raise GeometryError(f"geometry type must be one of {', '.join(GEOMETRY_TYPES)}")
    coordinates = value.get("coordinates")
    counter = [0]
    if kind == "Point":
        clean: Any = _position(coordinates, counter)
    elif kind == "MultiPoint":
        clean = [_position(p, counter) for p in _array(coordinates, "MultiPoint", 1)]
    elif kind == "LineString":
        clean = _line(coordinates, counter)
    elif kind == "MultiLineString":
        clean = [_line(line, counter) for line in _array(coordinates, "MultiLineString", 1)]
    elif kind == "Polygon":
        clean = _polygon(coordinates, counter)
    else:
        clean = [_polygon(p, counter) for p in _array(coordinates, "MultiPolygon", 1)]
    geometry = {"type": kind, "coordinates": clean}
    if kind in ("Polygon", "MultiPolygon"):
        shape = shapely.geometry.shape(geometry)
        if not shape.is_valid:
            raise GeometryError(f"polygon is not valid: {explain_validity(shape)}")
    return geometry


def _array(value: Any, what: str, minimum: int) -> list[Any]:
    if not isinstance(value, list):
        raise GeometryError(f"{what} coordinates must be an array")
    if len(value) < minimum:
        raise GeometryError(f"{what} needs at least {minimum} element(s)")
    if len(value) > MAX_VERTICES:
        raise GeometryError(f"geometry has more than {MAX_VERTICES} vertices", too_large=True)
    return value


def _position(value: Any, counter: list[int]) -> list[float]:
    counter[0] += 1
    if counter[0] > MAX_VERTICES:
        raise GeometryError(f"geometry has more than {MAX_VERTICES} vertices", too_large=True)
    if not isinstance(value, list) or len(value) not in (2, 3):
        raise GeometryError("a position is [longitude, latitude] or [lon, lat, altitude]")
    for number in value:
        if isinstance(number, bool) or not isinstance(number, int | float):
            raise GeometryError("coordinates must be numbers")
        if not math.isfinite(number):
            raise GeometryError("coordinates must be finite numbers")
    lon, lat = value[0], value[1]
    if not -180 <= lon <= 180:
        raise GeometryError(f"longitude {lon} is outside [-180, 180]")
    if not -90 <= lat <= 90:
        raise GeometryError(f"latitude {lat} is outside [-90, 90]")
    return [float(number) for number in value]


def _line(value: Any, counter: list[int]) -> list[list[float]]:
    return [_position(p, counter) for p in _array(value, "LineString", 2)]


def _polygon(value: Any, counter: list[int]) -> list[list[list[float]]]:
    rings = _array(value, "Polygon", 1)
    if len(rings) > MAX_PARTS:
        raise GeometryError(f"polygon has more than {MAX_PARTS} rings", too_large=True)
    clean = []
    for ring in rings:
        points = [_position(p, counter) for p in _array(ring, "linear ring", 4)]
        if points[0] != points[-1]:
            raise GeometryError("a polygon ring must be closed (first position == last)")
        clean.append(points)
    return clean
