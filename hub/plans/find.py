"""Where a plan applies and how its title is found. The plan library is hundreds of rows (867
in ICMS), not the directory's tens of thousands: a title is searched by its normalised words
with LIKE, and a point is tested against the candidates whose bounding box holds it."""

from __future__ import annotations

from typing import Any

from shapely import Point
from shapely.geometry import shape
from sqlalchemy import ColumnElement, and_, true
from sqlmodel import col

from hub.directory.search import MAX_QUERY_WORDS, words
from models import Plan


def title_words(title: str) -> str:
    """The title as searched: its words accents and case dropped, between spaces."""
    return " " + " ".join(words(title)) + " "


def title_matches(text: str) -> ColumnElement[bool]:
    """Every word of `text` starts a word of the title; the last one may be half typed.
    Words are [a-z0-9] only (search.words), so nothing in them needs escaping in LIKE."""
    found = words(text)[:MAX_QUERY_WORDS]
    if not found:
        return true()
    *whole, last = found
    conditions = [col(Plan.title_words).like(f"% {word} %") for word in whole]
    conditions.append(col(Plan.title_words).like(f"% {last}%"))
    return and_(*conditions)


def bounds(area: dict[str, Any] | None) -> tuple[float, float, float, float] | None:
    if area is None:
        return None
    min_lon, min_lat, max_lon, max_lat = shape(area).bounds
    return min_lon, min_lat, max_lon, max_lat


def box_holds(lat: float, lon: float) -> ColumnElement[bool]:
    return and_(
        col(Plan.min_lat) <= lat,
        col(Plan.max_lat) >= lat,
        col(Plan.min_lon) <= lon,
        col(Plan.max_lon) >= lon,
    )


def area_holds(area: dict[str, Any], lat: float, lon: float) -> bool:
    # covers, not contains: a site on the area's edge is in the plan's area
    return bool(shape(area).covers(Point(lon, lat)))
