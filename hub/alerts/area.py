"""An alert's area from perimeter anchors or a drawn shape (pure): the union the recipients
are selected by, and the parts CAP carries (polygons, and circles as circles)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import shapely
import shapely.geometry

from hub.convoys.geo import zone_from_anchor
from models.anchor import PERIMETER_KINDS
from models.events import AlertArea, AnchorPublic, CircleArea
from models.limits import MAX_VERTICES


class AreaError(ValueError):
    """An area that cannot be drawn from what was named: the message says which anchor."""


def from_geometry(geometry: dict[str, Any]) -> AlertArea:
    """A drawn area: already validated (closed rings, bounds) by the input shape."""
    area = shapely.geometry.shape(geometry)
    if area.is_empty or area.area == 0:
        raise AreaError("the drawn area is empty")
    return {
        "anchor_ids": [],
        "labels": [],
        "geometry": geometry,
        "polygons": geometry,
        "circles": [],
    }


def from_anchors(anchor_ids: list[str], anchors: Iterable[AnchorPublic]) -> AlertArea:
    """The union of the named perimeter anchors (exclusion, isolation, dissuasion zones):
    polygons as drawn, circles (a Point with `radius_m`) as 64-sided polygons for the
    selection and as circles for CAP."""
    by_id = {anchor["id"]: anchor for anchor in anchors}
    polygons: list[Any] = []
    everything: list[Any] = []
    circles: list[CircleArea] = []
    for anchor_id in anchor_ids:
        anchor = by_id.get(anchor_id)
        if anchor is None:
            raise AreaError(f"anchor {anchor_id} is not a live anchor of this incident")
        if anchor["kind"] not in PERIMETER_KINDS:
            raise AreaError(
                f"anchor {anchor['label']!r} is a {anchor['kind']}, not a perimeter "
                "(exclusion, isolation or dissuasion zone)"
            )
        zone = zone_from_anchor(
            anchor_id, anchor["kind"], anchor["label"], anchor["geometry"], anchor["properties"]
        )
        if zone is None:
            raise AreaError(
                f"anchor {anchor['label']!r} is neither a polygon nor a point with radius_m"
            )
        everything.append(zone.geometry)
        if anchor["geometry"]["type"] == "Point":
            lon, lat = anchor["geometry"]["coordinates"][:2]
            radius = float(anchor["properties"]["radius_m"])
            circles.append({"lat": float(lat), "lon": float(lon), "radius_m": radius})
        else:
            polygons.append(zone.geometry)
    union = shapely.union_all(everything)
    if shapely.get_num_coordinates(union) > MAX_VERTICES:
        raise AreaError(f"the area has more than {MAX_VERTICES} vertices: choose fewer anchors")
    return {
        "anchor_ids": list(anchor_ids),
        "labels": [by_id[anchor_id]["label"] for anchor_id in anchor_ids],
        "geometry": _geojson(union),
        "polygons": _geojson(shapely.union_all(polygons)) if polygons else None,
        "circles": circles,
    }


def _geojson(geometry: Any) -> dict[str, Any]:
    # Lists, not shapely's tuples: the value is stored, sent and compared as JSON.
    value: dict[str, Any] = json.loads(shapely.to_geojson(geometry))
    return value
