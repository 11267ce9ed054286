"""Geometry for convoys: geodesic distances (pyproj), routes in metres, perimeter zones (shapely).

Distances come from pyproj, never from hand-written haversine: the ellipsoid matters at the
corridor widths (tens of metres) that motorcade monitors set.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np
import shapely
from pyproj import CRS, Geod, Transformer
from shapely.geometry import LineString, Point, Polygon, shape

# A stateless calculator on the WGS 84 ellipsoid (not configuration, so safe to share).
GEOD = Geod(ellps="WGS84")
WGS84 = CRS.from_epsg(4326)
CIRCLE_SIDES = 128


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    _, _, metres = GEOD.inv(lon1, lat1, lon2, lat2)
    return float(metres)


def bearing_deg(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    azimuth, _, _ = GEOD.inv(lon1, lat1, lon2, lat2)
    return float(azimuth) % 360.0


def move(lon: float, lat: float, azimuth: float, metres: float) -> tuple[float, float]:
    lon2, lat2, _ = GEOD.fwd(lon, lat, azimuth, metres)
    return float(lon2), float(lat2)


def local_metric(lon: float, lat: float) -> tuple[Transformer, Transformer]:
    """Forward and inverse transformers to an azimuthal equidistant plane centred here: metres,
    accurate to well under 0.1 % within 100 km, and valid anywhere (no UTM zone edges)."""
    local = CRS.from_proj4(f"+proj=aeqd +lat_0={lat} +lon_0={lon} +datum=WGS84 +units=m")
    return (
        Transformer.from_crs(WGS84, local, always_xy=True),
        Transformer.from_crs(local, WGS84, always_xy=True),
    )


class ProjectedRoute:
    """A planned route in metres: distance from it (the corridor) and distance left along it."""

    def __init__(self, route: dict[str, Any], destination: dict[str, Any] | None) -> None:
        coordinates = [(float(c[0]), float(c[1])) for c in route["coordinates"]]
        lons = [c[0] for c in coordinates]
        lats = [c[1] for c in coordinates]
        self._to_m, _ = local_metric(sum(lons) / len(lons), sum(lats) / len(lats))
        xs, ys = self._to_m.transform(lons, lats)
        self.line = LineString(list(zip(xs, ys, strict=True)))
        shapely.prepare(self.line)
        end_lon, end_lat = coordinates[-1]
        self.tail_m = 0.0
        if destination and destination.get("type") == "Point":
            dest_lon, dest_lat = destination["coordinates"][:2]
            self.tail_m = distance_m(end_lon, end_lat, dest_lon, dest_lat)

    def _point(self, lon: float, lat: float) -> Point:
        x, y = self._to_m.transform(lon, lat)
        return Point(x, y)

    def offset_m(self, lon: float, lat: float) -> float:
        return float(self.line.distance(self._point(lon, lat)))

    def remaining_m(self, lon: float, lat: float) -> float:
        along = float(self.line.project(self._point(lon, lat)))
        return max(0.0, float(self.line.length) - along) + self.tail_m


@dataclass(frozen=True)
class Zone:
    """A perimeter anchor, prepared for fast point-in-polygon tests."""

    anchor_id: str
    kind: str
    label: str
    geometry: Any  # a prepared shapely (Multi)Polygon in lon/lat

    def contains(self, lon: float, lat: float) -> bool:
        return bool(self.geometry.contains(Point(lon, lat)))


def zone_from_anchor(
    anchor_id: str, kind: str, label: str, geometry: dict[str, Any], properties: dict[str, Any]
) -> Zone | None:
    """Polygons as drawn; a Point with a `radius_m` property becomes a circle of that radius."""
    if geometry.get("type") in ("Polygon", "MultiPolygon"):
        area = shape(geometry)
    elif geometry.get("type") == "Point" and _positive(properties.get("radius_m")):
        lon, lat = geometry["coordinates"][:2]
        area = geodesic_circle(lon, lat, float(properties["radius_m"]))
    else:
        return None
    shapely.prepare(area)
    return Zone(anchor_id, kind, label, area)


def geodesic_circle(lon: float, lat: float, radius_m: float) -> Polygon:
    """The points `radius_m` away on the ellipsoid, every 2.8125 degrees (128 sides, as a
    buffer with quad_segs=32). Geod.fwd over the array costs tens of microseconds; building
    a local projection for each zone cost milliseconds, tens of them on a loaded machine,
    and every alert, inside query and convoy zone change builds one."""
    azimuths = np.arange(CIRCLE_SIDES) * (360.0 / CIRCLE_SIDES)
    lons, lats, _ = GEOD.fwd(
        np.full(CIRCLE_SIDES, lon),
        np.full(CIRCLE_SIDES, lat),
        azimuths,
        np.full(CIRCLE_SIDES, radius_m),
    )
    # Azimuths turn clockwise; the exterior ring goes anticlockwise (GeoJSON's right-hand rule).
    return Polygon(zip(lons.tolist()[::-1], lats.tolist()[::-1], strict=True))


def _positive(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 < value <= 100_000


def line_length_m(coordinates: list[list[float]]) -> float:
    return sum(distance_m(a[0], a[1], b[0], b[1]) for a, b in pairwise(coordinates))


def point_along(coordinates: list[list[float]], metres: float) -> tuple[float, float, float]:
    """(lon, lat, bearing) `metres` along a lon/lat polyline, following the geodesic legs."""
    remaining = max(0.0, metres)
    for a, b in pairwise(coordinates):
        leg = distance_m(a[0], a[1], b[0], b[1])
        azimuth = bearing_deg(a[0], a[1], b[0], b[1])
        if remaining <= leg:
            lon, lat = move(a[0], a[1], azimuth, remaining)
            return lon, lat, azimuth
        remaining -= leg
    a, b = coordinates[-2], coordinates[-1]
    return b[0], b[1], bearing_deg(a[0], a[1], b[0], b[1])
