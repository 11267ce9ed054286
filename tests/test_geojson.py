"""RFC 7946 geometry validation (a pure unit: no I/O)."""

from __future__ import annotations

from typing import Any

import pytest

from models.geojson import GeometryError, validate_geometry

RING = [[4.0, 50.0], [4.1, 50.0], [4.1, 50.1], [4.0, 50.1], [4.0, 50.0]]


@pytest.mark.parametrize(
    "geometry",
    [
        {"type": "Point", "coordinates": [4.35, 50.85]},
        {"type": "Point", "coordinates": [4.35, 50.85, 120.0]},
        {"type": "MultiPoint", "coordinates": [[4, 50], [5, 51]]},
        {"type": "LineString", "coordinates": [[4, 50], [5, 51]]},
        {"type": "MultiLineString", "coordinates": [[[4, 50], [5, 51]]]},
        {"type": "Polygon", "coordinates": [RING]},
        {"type": "MultiPolygon", "coordinates": [[RING]]},
        {"type": "Point", "coordinates": [-180, -90]},
    ],
)
def test_valid_geometries_pass(geometry: dict[str, Any]) -> None:
    assert validate_geometry(geometry)["type"] == geometry["type"]


@pytest.mark.parametrize(
    ("geometry", "message", "too_large"),
    [
        ("POINT(4 50)", "GeoJSON object", False),
        ({"type": "Circle", "coordinates": [4, 50]}, "geometry type", False),
        ({"type": "Point", "coordinates": [50]}, "[longitude, latitude]", False),
        ({"type": "Point", "coordinates": [180.5, 50]}, "longitude", False),
        ({"type": "Point", "coordinates": [4, -91]}, "latitude", False),
        ({"type": "Point", "coordinates": [True, 50]}, "numbers", False),
        ({"type": "Point", "coordinates": [float("inf"), 50]}, "finite", False),
        ({"type": "LineString", "coordinates": [[4, 50]]}, "at least 2", False),
        ({"type": "Polygon", "coordinates": [RING[:-1]]}, "closed", False),
        ({"type": "Polygon", "coordinates": [RING[:3]]}, "at least 4", False),
        (
            {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]},
            "not valid",
            False,
        ),
        ({"type": "LineString", "coordinates": [[4, 50]] * 10_001}, "vertices", True),
        (
            {"type": "MultiPoint", "coordinates": [[4, 50]] * 6_000 + [[5, 50]] * 6_000},
            "vertices",
            True,
        ),
    ],
)
def test_invalid_geometries_say_why(geometry: object, message: str, too_large: bool) -> None:
    with pytest.raises(GeometryError) as error:
        validate_geometry(geometry)
    assert message in str(error.value)
    assert error.value.too_large is too_large
