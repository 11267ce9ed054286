"""What lies inside an area (pure, but for the one read): the candidates are read by their
boxes from layer_feature (an index range on (layer_id, min_lon, min_lat)), then tested
exactly with shapely; points, most of any layer, in one vectorised call. A feature that
touches the area counts: a school whose grounds reach into the zone is in it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
import shapely.geometry
from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.layer import MAX_INSIDE_FEATURES, InsideFeature, InsideLayer, Layer, LayerFeature


@dataclass(frozen=True, slots=True)
class Box:
    west: float
    south: float
    east: float
    north: float

    @classmethod
    def of(cls, area: Any) -> Box:
        west, south, east, north = shapely.bounds(area).tolist()
        return cls(west, south, east, north)


def candidates(layer: Layer, box: Box) -> ColumnElement[bool]:
    """The features of `layer` whose box meets `box`. A feature's box starts at most the
    layer's widest feature (span_lon) west of the area's west edge, so min_lon is read as a
    range of the index rather than every feature west of the east edge."""
    return and_(
        col(LayerFeature.layer_id) == layer.id,
        col(LayerFeature.min_lon) >= box.west - layer.span_lon,
        col(LayerFeature.min_lon) <= box.east,
        col(LayerFeature.min_lat) >= box.south - layer.span_lat,
        col(LayerFeature.min_lat) <= box.north,
        col(LayerFeature.max_lon) >= box.west,
        col(LayerFeature.max_lat) >= box.south,
    )


async def inside_layers(
    session: AsyncSession, layers: Sequence[Layer], area: Any
) -> list[InsideLayer]:
    """Each layer's features inside `area` (a prepared shapely geometry): all counted, the
    first MAX_INSIDE_FEATURES (in the file's order) listed with a point of each."""
    box = Box.of(area)
    found: list[InsideLayer] = []
    for layer in layers:
        rows = (
            await session.execute(
                select(
                    col(LayerFeature.id),
                    col(LayerFeature.name),
                    col(LayerFeature.geometry),
                    col(LayerFeature.min_lon),
                    col(LayerFeature.min_lat),
                    col(LayerFeature.max_lon),
                    col(LayerFeature.max_lat),
                )
                .where(candidates(layer, box))
                .order_by(col(LayerFeature.id))
            )
        ).all()
        hits = _inside(area, rows)
        found.append(
            {
                "layer_id": layer.id,
                "name": layer.name,
                "category": layer.category,
                "count": len(hits),
                "features": [_listed(rows[i]) for i in hits[:MAX_INSIDE_FEATURES]],
            }
        )
    return found


def _inside(area: Any, rows: Sequence[Any]) -> list[int]:
    """The indexes of the rows inside (or touching) the area, in order."""
    if not rows:
        return []
    is_point = np.array([row[2]["type"] == "Point" for row in rows], dtype=bool)
    inside = np.zeros(len(rows), dtype=bool)
    if is_point.any():
        lons = np.array([row[3] for row in rows], dtype=np.float64)
        lats = np.array([row[4] for row in rows], dtype=np.float64)
        # covers (boundary included), as the registrations' count
        inside[is_point] = shapely.intersects_xy(area, lons[is_point], lats[is_point])
    others = np.flatnonzero(~is_point)
    if others.size:
        shapes = [shapely.geometry.shape(rows[i][2]) for i in others.tolist()]
        inside[others] = shapely.intersects(area, shapes)
    return np.flatnonzero(inside).tolist()


def _listed(row: Any) -> InsideFeature:
    geometry = row[2]
    if geometry["type"] == "Point":
        lon, lat = geometry["coordinates"][:2]
    else:
        point = shapely.geometry.shape(geometry).representative_point()
        lon, lat = point.x, point.y
    return {"id": row[0], "name": row[1], "lon": float(lon), "lat": float(lat)}
