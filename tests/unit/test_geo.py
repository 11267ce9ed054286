"""hub/convoys/geo.py: geodesic distances, routes in metres and perimeter zones."""

from __future__ import annotations

from typing import Any

import pytest

from hub.convoys.geo import (
    ProjectedRoute,
    bearing_deg,
    distance_m,
    line_length_m,
    local_metric,
    move,
    point_along,
    zone_from_anchor,
)

# The Grand-Place, Brussels.
LON, LAT = 4.3522, 50.8467


def east(metres: float) -> tuple[float, float]:
    return move(LON, LAT, 90, metres)


def square(lon: float, lat: float, half_m: float) -> dict[str, Any]:
    """A GeoJSON polygon: a square of 2 * half_m around a point, corners by geodesic moves."""
    corners = [move(*move(lon, lat, ns, half_m), ew, half_m) for ns, ew in [(0, 90), (180, 90)]]
    corners += [move(*move(lon, lat, ns, half_m), ew, half_m) for ns, ew in [(180, 270), (0, 270)]]
    ring = [list(c) for c in corners] + [list(corners[0])]
    return {"type": "Polygon", "coordinates": [ring]}


# distances and bearings ----------------------------------------------------------------------


def test_distance_is_geodesic_on_the_ellipsoid() -> None:
    # One degree of latitude near 51° N is 111.25 km on WGS 84 (a sphere would say 111.19).
    assert distance_m(LON, LAT, LON, LAT + 1) == pytest.approx(111_255, abs=5)
    assert distance_m(LON, LAT, LON, LAT) == 0.0
    assert distance_m(LON, LAT, 4.4, 50.9) == pytest.approx(distance_m(4.4, 50.9, LON, LAT))


def test_move_goes_the_distance_in_the_direction_given() -> None:
    for azimuth in (0, 45, 90, 200, 315):
        lon, lat = move(LON, LAT, azimuth, 1_234.5)
        assert distance_m(LON, LAT, lon, lat) == pytest.approx(1_234.5, abs=1e-6)
        assert bearing_deg(LON, LAT, lon, lat) == pytest.approx(azimuth, abs=1e-6)


def test_bearings_are_between_0_and_360() -> None:
    assert bearing_deg(LON, LAT, *move(LON, LAT, 270, 500)) == pytest.approx(270)
    assert bearing_deg(LON, LAT, *move(LON, LAT, 180, 500)) == pytest.approx(180)


def test_the_local_plane_is_in_metres_around_its_centre() -> None:
    to_m, to_deg = local_metric(LON, LAT)
    assert to_m.transform(LON, LAT) == pytest.approx((0, 0), abs=1e-6)
    x, y = to_m.transform(*move(LON, LAT, 0, 1_000))
    assert (x, y) == pytest.approx((0, 1_000), abs=0.01)
    x, y = to_m.transform(*move(LON, LAT, 90, 50_000))
    assert (x**2 + y**2) ** 0.5 == pytest.approx(50_000, rel=1e-3)
    assert to_deg.transform(*to_m.transform(4.4, 50.9)) == pytest.approx((4.4, 50.9), abs=1e-9)


# routes --------------------------------------------------------------------------------------


def route_east(length_m: float = 2_000, destination: dict[str, Any] | None = None) -> Any:
    end = east(length_m)
    return ProjectedRoute(
        {"type": "LineString", "coordinates": [[LON, LAT], [*east(length_m / 2)], [*end]]},
        destination,
    )


def test_the_offset_is_the_distance_from_the_route_in_metres() -> None:
    route = route_east()
    assert route.offset_m(*east(700)) == pytest.approx(0, abs=0.5)
    assert route.offset_m(*move(*east(700), 0, 150)) == pytest.approx(150, abs=0.5)
    assert route.offset_m(*move(*east(700), 180, 40)) == pytest.approx(40, abs=0.5)
    # Past the end, the distance to the end point.
    assert route.offset_m(*east(2_300)) == pytest.approx(300, abs=0.5)


def test_the_remaining_distance_is_measured_along_the_route() -> None:
    route = route_east()
    assert route.remaining_m(LON, LAT) == pytest.approx(2_000, abs=1)
    assert route.remaining_m(*east(500)) == pytest.approx(1_500, abs=1)
    # Beside the route, what is left from the nearest point of it.
    assert route.remaining_m(*move(*east(500), 0, 80)) == pytest.approx(1_500, abs=1)
    assert route.remaining_m(*east(2_500)) == 0.0


def test_a_destination_past_the_end_of_the_route_adds_the_last_stretch() -> None:
    end = east(2_000)
    destination = {"type": "Point", "coordinates": [*move(*end, 0, 300)]}
    route = route_east(destination=destination)
    assert route.tail_m == pytest.approx(300, abs=1e-6)
    assert route.remaining_m(*east(500)) == pytest.approx(1_800, abs=1)
    assert route.remaining_m(*east(2_500)) == pytest.approx(300, abs=1e-6)
    # Only a Point is a destination.
    assert route_east(destination={"type": "Polygon", "coordinates": []}).tail_m == 0.0


# zones ---------------------------------------------------------------------------------------


def test_a_polygon_zone_contains_what_is_inside_it() -> None:
    zone = zone_from_anchor("a1", "exclusion_zone", "Red zone", square(LON, LAT, 100), {})
    assert zone is not None
    assert (zone.anchor_id, zone.kind, zone.label) == ("a1", "exclusion_zone", "Red zone")
    assert zone.contains(LON, LAT)
    assert zone.contains(*move(LON, LAT, 0, 90))
    assert not zone.contains(*move(LON, LAT, 0, 110))


def test_a_multipolygon_zone_contains_what_is_inside_any_part() -> None:
    far = move(LON, LAT, 90, 1_000)
    parts = [square(LON, LAT, 50)["coordinates"], square(*far, 50)["coordinates"]]
    zone = zone_from_anchor(
        "a1", "isolation_zone", "", {"type": "MultiPolygon", "coordinates": parts}, {}
    )
    assert zone is not None
    assert zone.contains(LON, LAT) and zone.contains(*far)
    assert not zone.contains(*move(LON, LAT, 90, 500))


@pytest.mark.parametrize("azimuth", [0, 45, 100, 180, 250, 333])
def test_a_point_with_a_radius_is_a_circle_of_that_radius_in_metres(azimuth: float) -> None:
    point = {"type": "Point", "coordinates": [LON, LAT]}
    zone = zone_from_anchor("a1", "dissuasion_zone", "", point, {"radius_m": 250})
    assert zone is not None
    assert zone.contains(*move(LON, LAT, azimuth, 245))
    assert not zone.contains(*move(LON, LAT, azimuth, 255))


@pytest.mark.parametrize("radius", [0.5, 100_000])
def test_radii_up_to_100_km_make_a_zone(radius: float) -> None:
    point = {"type": "Point", "coordinates": [LON, LAT]}
    assert zone_from_anchor("a1", "k", "", point, {"radius_m": radius}) is not None


@pytest.mark.parametrize(
    "properties",
    [
        {},
        {"radius_m": None},
        {"radius_m": 0},
        {"radius_m": -10},
        {"radius_m": 100_001},
        {"radius_m": True},
        {"radius_m": "250"},
        {"radius_m": float("nan")},
        {"radius_m": float("inf")},
    ],
)
def test_a_point_without_a_usable_radius_is_no_zone(properties: dict[str, Any]) -> None:
    point = {"type": "Point", "coordinates": [LON, LAT]}
    assert zone_from_anchor("a1", "k", "", point, properties) is None


def test_lines_are_no_zones() -> None:
    line = {"type": "LineString", "coordinates": [[LON, LAT], [*east(100)]]}
    assert zone_from_anchor("a1", "k", "", line, {"radius_m": 50}) is None


# polylines -----------------------------------------------------------------------------------


def test_a_polyline_is_as_long_as_its_geodesic_legs() -> None:
    a, b = [LON, LAT], list(east(1_000))
    c = list(move(*east(1_000), 0, 500))
    assert line_length_m([a, b, c]) == pytest.approx(1_500, abs=1e-6)
    assert line_length_m([a]) == 0.0


def test_a_point_along_a_polyline_follows_its_legs() -> None:
    a, b = [LON, LAT], list(east(1_000))
    c = list(move(*east(1_000), 0, 500))
    lon, lat, bearing = point_along([a, b, c], 0)
    assert (lon, lat) == pytest.approx((LON, LAT)) and bearing == pytest.approx(90)
    lon, lat, bearing = point_along([a, b, c], 1_200)  # 200 m into the second leg
    assert distance_m(b[0], b[1], lon, lat) == pytest.approx(200, abs=1e-6)
    assert bearing == pytest.approx(0, abs=1e-6)
    # Before the start is the start; past the end is the end, heading as the last leg.
    lon, lat, _ = point_along([a, b, c], -50)
    assert (lon, lat) == pytest.approx((LON, LAT))
    lon, lat, bearing = point_along([a, b, c], 10_000)
    assert (lon, lat) == (c[0], c[1]) and bearing == pytest.approx(0, abs=1e-6)
