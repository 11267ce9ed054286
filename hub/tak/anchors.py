"""An anchor (as the wire carries it, AnchorPublic) as the CoT items a TAK client draws.

Polygons and lines become drawing shapes, a point with `radius_m` a circle (as the convoy
rules read it: hub/convoys/geo.py), any other point a marker; a multi-geometry becomes one item
per part. Each item's uid is derived from the anchor's id, so a change re-sends the same uids
(TAK replaces the item) and a deletion names them.
"""

from __future__ import annotations

import math
from typing import Any

from hub.tak.limits import MAX_PARTS_SENT
from hub.tak.shapes import Circle, Delete, Drawing, Marker, Shape, Style
from models.anchor import AnchorKind
from models.events import AnchorPublic

UID_PREFIX = "crisishub.anchor."


def argb(red: int, green: int, blue: int, alpha: int = 255) -> int:
    """ATAK's colour: ARGB as a signed 32-bit integer."""
    value = (alpha << 24) | (red << 16) | (green << 8) | blue
    return value - (1 << 32) if value >= 1 << 31 else value


# (red, green, blue) per kind: perimeters from red (exclusion) to yellow (dissuasion), posts in
# the colours crisis maps use (command blue, medical green).
COLOURS: dict[str, tuple[int, int, int]] = {
    AnchorKind.INCIDENT_SITE: (255, 0, 0),
    AnchorKind.EXCLUSION_ZONE: (230, 0, 0),
    AnchorKind.ISOLATION_ZONE: (255, 140, 0),
    AnchorKind.DISSUASION_ZONE: (255, 215, 0),
    AnchorKind.COMMAND_POST: (0, 90, 255),
    AnchorKind.COORDINATION_COMMITTEE: (130, 0, 200),
    AnchorKind.ADVANCED_MEDICAL_POST: (0, 170, 0),
    AnchorKind.VICTIM_RECEPTION: (0, 160, 160),
    AnchorKind.STAGING_AREA: (90, 110, 255),
    AnchorKind.ROAD_CLOSURE: (170, 0, 0),
    AnchorKind.HELIPAD: (0, 200, 255),
    AnchorKind.PRESS_POINT: (200, 0, 200),
    AnchorKind.WEATHER: (150, 150, 150),
}
DEFAULT_COLOUR = (255, 255, 255)
FILL_ALPHA = 64  # a quarter opaque: the map stays readable under a perimeter


def style_of(kind: str) -> Style:
    red, green, blue = COLOURS.get(kind, DEFAULT_COLOUR)
    return Style(stroke=argb(red, green, blue), fill=argb(red, green, blue, FILL_ALPHA))


def shapes_of(anchor: AnchorPublic) -> list[Shape]:
    """The items drawing this anchor (none for a geometry TAK cannot show)."""
    base = UID_PREFIX + anchor["id"]
    kind, label = anchor["kind"], anchor["label"]
    remarks = f"{kind.replace('_', ' ')} (CrisisHub)"
    style = style_of(kind)
    geometry: dict[str, Any] = anchor["geometry"]
    parts = _parts(geometry)
    shapes: list[Shape] = []
    for number, (part_type, coordinates) in enumerate(parts[:MAX_PARTS_SENT]):
        uid = base if number == 0 else f"{base}.{number}"
        if part_type == "Point":
            lon, lat = coordinates[0], coordinates[1]
            radius = _radius(anchor["properties"])
            if radius is not None:
                shapes.append(Circle(uid, label, remarks, lat, lon, radius, style))
            else:
                shapes.append(Marker(uid, label, remarks, lat, lon, style.stroke))
        elif part_type == "LineString":
            vertices = tuple((p[1], p[0]) for p in coordinates)
            shapes.append(Drawing(uid, label, remarks, vertices, False, style))
        else:  # Polygon: its outer ring (TAK's drawing shapes have no holes)
            vertices = tuple((p[1], p[0]) for p in coordinates[0])
            shapes.append(Drawing(uid, label, remarks, vertices, True, style))
    return shapes


def deletes_of(shapes: list[Shape]) -> list[Shape]:
    return [Delete(shape.uid, _type(shape)) for shape in shapes if not isinstance(shape, Delete)]


def _type(shape: Shape) -> str:
    if isinstance(shape, Drawing):
        return "u-d-f"
    if isinstance(shape, Circle):
        return "u-d-c-c"
    return "b-m-p-s-m"


def _parts(geometry: dict[str, Any]) -> list[tuple[str, Any]]:
    kind, coordinates = geometry.get("type"), geometry.get("coordinates")
    if kind in ("Point", "LineString", "Polygon"):
        return [(str(kind), coordinates)]
    if kind in ("MultiPoint", "MultiLineString", "MultiPolygon") and isinstance(coordinates, list):
        return [(str(kind)[5:], part) for part in coordinates]
    return []


def _radius(properties: dict[str, Any]) -> float | None:
    value = properties.get("radius_m")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) and value > 0 else None
