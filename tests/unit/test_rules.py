"""hub/convoys/rules.py: the alerts a vehicle's newest fix raises, from its remembered state.

Every scenario is a run of fixes through `evaluate`, each fed the state the previous one
returned, as the pipeline does with the vehicle row's alert_state.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hub.convoys.geo import ProjectedRoute, Zone, distance_m, move, zone_from_anchor
from hub.convoys.rules import FixPoint, alert_data, eta_seconds, evaluate
from hub.settings import Settings
from models.events import ConvoyAlertData

LON, LAT = 4.3522, 50.8467  # the Grand-Place, Brussels
T0 = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)

# The defaults, spelled out so that the environment of the run cannot change them.
SETTINGS = Settings(
    environment="test",
    off_route_corridor_m=100.0,
    stopped_after_s=120.0,
    stop_radius_m=25.0,
    eta_fallback_speed_mps=12.0,
)


@dataclass
class Vehicle:
    id: str = "v1"
    label: str = "Lead car"
    convoy_id: str = "c1"


VEHICLE = Vehicle()


def at(metres_east: float, metres_north: float = 0.0) -> tuple[float, float]:
    """(lon, lat) so many metres east then north of the Grand-Place."""
    lon, lat = move(LON, LAT, 90, metres_east) if metres_east else (LON, LAT)
    return move(lon, lat, 0, metres_north) if metres_north else (lon, lat)


def fix(where: tuple[float, float], seconds: float = 0, speed: float | None = None) -> FixPoint:
    lon, lat = where
    return FixPoint(lat=lat, lon=lon, ts=T0 + timedelta(seconds=seconds), speed=speed)


def route(length_m: float = 2_000) -> ProjectedRoute:
    """A planned route due east from the Grand-Place."""
    coordinates = [list(at(0)), list(at(length_m / 2)), list(at(length_m))]
    return ProjectedRoute({"type": "LineString", "coordinates": coordinates}, None)


def circle(anchor_id: str, centre: tuple[float, float], radius_m: float) -> Zone:
    geometry = {"type": "Point", "coordinates": list(centre)}
    zone = zone_from_anchor(
        anchor_id, "exclusion_zone", f"zone {anchor_id}", geometry, {"radius_m": radius_m}
    )
    assert zone is not None
    return zone


def square(anchor_id: str, west_m: float, east_m: float, half_height_m: float) -> Zone:
    corners = [
        at(west_m, -half_height_m),
        at(east_m, -half_height_m),
        at(east_m, half_height_m),
        at(west_m, half_height_m),
    ]
    ring = [list(c) for c in [*corners, corners[0]]]
    geometry = {"type": "Polygon", "coordinates": [ring]}
    zone = zone_from_anchor(anchor_id, "isolation_zone", f"zone {anchor_id}", geometry, {})
    assert zone is not None
    return zone


class Run:
    """A vehicle's fixes through the rules, the state carried from one to the next."""

    def __init__(
        self, zones: list[Zone] | None = None, planned: ProjectedRoute | None = None
    ) -> None:
        self.zones = zones or []
        self.route = planned
        self.state: dict[str, Any] = {}

    def __call__(self, point: FixPoint) -> list[ConvoyAlertData]:
        self.state, raised = evaluate(self.state, VEHICLE, point, self.zones, self.route, SETTINGS)
        return raised


def kinds(raised: list[ConvoyAlertData]) -> list[str]:
    return [alert["alert"] for alert in raised]


# perimeters ----------------------------------------------------------------------------------


def test_entering_and_leaving_a_perimeter_raise_one_alert_each() -> None:
    zone = circle("z1", at(500), 100)
    run = Run([zone])
    assert run(fix(at(0), 0)) == []
    [entered] = run(fix(at(450), 30))
    assert entered == {
        "alert": "enter",
        "vehicle_id": "v1",
        "vehicle_label": "Lead car",
        "convoy_id": "c1",
        "lat": at(450)[1],
        "lon": at(450)[0],
        "ts": "2024-05-01T10:00:30Z",
        "eta_s": None,  # no planned route: no ETA
        "anchor_id": "z1",
        "anchor_kind": "exclusion_zone",
        "anchor_label": "zone z1",
    }
    assert run.state["inside"] == ["z1"]
    assert run(fix(at(520), 40)) == []  # still inside: nothing new
    [left] = run(fix(at(650), 50))
    assert left["alert"] == "exit" and left["anchor_id"] == "z1"
    assert run.state["inside"] == []
    assert run(fix(at(700), 60)) == []


def test_a_circle_is_measured_in_metres_from_its_centre() -> None:
    run = Run([circle("z1", at(0), 100)])
    assert run(fix(at(0, 105))) == []
    assert kinds(run(fix(at(0, 95), 10))) == ["enter"]
    assert kinds(run(fix(at(0, -105), 20))) == ["exit"]


def test_entering_two_overlapping_perimeters_at_once_raises_both() -> None:
    outer, inner = square("outer", 0, 1_000, 200), circle("inner", at(500), 50)
    run = Run([outer, inner])
    assert kinds(run(fix(at(-100)))) == []
    raised = run(fix(at(100), 10))
    assert [(a["alert"], a["anchor_id"]) for a in raised] == [("enter", "outer")]
    raised = run(fix(at(500), 20))
    assert [(a["alert"], a["anchor_id"]) for a in raised] == [("enter", "inner")]
    assert run.state["inside"] == ["inner", "outer"]
    raised = run(fix(at(1_200), 30))  # out of both in one jump
    assert [(a["alert"], a["anchor_id"]) for a in raised] == [("exit", "inner"), ("exit", "outer")]


def test_the_first_fix_inside_a_perimeter_is_an_entry() -> None:
    run = Run([circle("z1", at(0), 100)])
    assert kinds(run(fix(at(0)))) == ["enter"]


def test_a_deleted_perimeter_is_not_left() -> None:
    zone = circle("z1", at(0), 100)
    run = Run([zone])
    run(fix(at(0)))
    run.zones = []  # the anchor was deleted while the vehicle was in it
    assert run(fix(at(0), 10)) == []
    assert run.state["inside"] == []
    run.zones = [zone]  # drawn again: the vehicle is inside a perimeter it had not entered
    assert kinds(run(fix(at(0), 20))) == ["enter"]


# the corridor --------------------------------------------------------------------------------


def test_leaving_the_corridor_raises_off_route_once_with_the_distance() -> None:
    run = Run(planned=route())
    assert run(fix(at(100, 40))) == []
    [alert] = run(fix(at(300, 150), 10))
    assert alert["alert"] == "off_route"
    assert alert["distance_m"] == pytest.approx(150, abs=0.5)
    assert run.state["off_route"] is True
    assert run(fix(at(400, 300), 20)) == []  # still off: no second alert


def test_the_corridor_has_hysteresis_so_driving_along_its_edge_is_one_alert() -> None:
    run = Run(planned=route())
    assert kinds(run(fix(at(100, 110)))) == ["off_route"]
    # Back within the corridor but above 80 % of it: still counted as off the route.
    assert run(fix(at(200, 90), 10)) == []
    assert run.state["off_route"] is True
    assert run(fix(at(300, 110), 20)) == []
    # Well inside (below 80 m): back on the route, and a new departure is a new alert.
    assert run(fix(at(400, 70), 30)) == []
    assert run.state["off_route"] is False
    assert kinds(run(fix(at(500, 120), 40))) == ["off_route"]


def test_without_a_route_there_is_no_corridor() -> None:
    run = Run()
    assert run(fix(at(0, 5_000))) == []
    assert "off_route" not in run.state


# stops ---------------------------------------------------------------------------------------


def test_staying_within_the_stop_radius_for_the_stop_time_raises_stopped_once() -> None:
    run = Run()
    assert run(fix(at(0), 0)) == []
    assert run(fix(at(10), 60)) == []
    assert run(fix(at(0, 15), 119)) == []
    [alert] = run(fix(at(5, -5), 120))  # at exactly stopped_after_s
    assert alert["alert"] == "stopped" and alert["stopped_s"] == 120.0
    assert alert["ts"] == "2024-05-01T10:02:00Z"
    assert run(fix(at(0), 300)) == []  # still stopped: no repeat
    assert run.state["stopped"] is True


def test_moving_out_of_the_stop_radius_starts_a_new_stop() -> None:
    run = Run()
    run(fix(at(0), 0))
    assert kinds(run(fix(at(0), 150))) == ["stopped"]
    assert run(fix(at(30), 160)) == []  # 30 m > 25 m: moving again
    assert run.state["stopped"] is False
    assert run.state["still"][2] == "2024-05-01T10:02:40Z"
    assert run(fix(at(35), 279)) == []  # 119 s into the new stop
    assert kinds(run(fix(at(40), 280))) == ["stopped"]


def test_the_stop_radius_is_around_where_the_stop_began_not_the_last_fix() -> None:
    """Creeping forward 20 m at a time is driving, however slowly."""
    run = Run()
    run(fix(at(0), 0))
    assert run(fix(at(20), 60)) == []
    assert run(fix(at(40), 120)) == []  # 20 m from the last fix, 40 m from the first
    assert run.state["still"][:2] == pytest.approx(list(at(40)))


def test_stops_are_timed_by_the_device_clock() -> None:
    """A tracker catching up sends old fixes quickly: their timestamps, not their arrival,
    say how long it stood still."""
    run = Run()
    run(fix(at(0), 0))
    assert kinds(run(fix(at(0), 600))) == ["stopped"]  # evaluated at once, 10 min of device time
    assert run.state["stopped"] is True


# silence -------------------------------------------------------------------------------------


def test_a_fix_ends_silence_without_an_alert() -> None:
    """`silent` is raised by the silence watch (hub/convoys/ingest.py); the rules only note
    that a fix arrived, so that the next silence is reported again."""
    run = Run()
    run.state = {"silent": True}
    assert run(fix(at(0))) == []
    assert run.state["silent"] is False


# ETA -----------------------------------------------------------------------------------------


def test_alerts_carry_the_eta_along_the_route_at_the_reported_speed() -> None:
    run = Run([circle("z1", at(500), 100)], planned=route())
    [alert] = run(fix(at(450), 10, speed=10.0))
    assert alert["eta_s"] == pytest.approx(155.0, abs=0.1)  # 1,550 m left at 10 m/s


@pytest.mark.parametrize("speed", [None, 0.0, 1.0])
def test_a_vehicle_standing_still_or_without_speed_gets_the_town_pace_eta(
    speed: float | None,
) -> None:
    eta = eta_seconds(route(), fix(at(800), speed=speed), SETTINGS)
    assert eta == pytest.approx(1_200 / 12.0, abs=0.1)


def test_eta_is_rounded_to_a_tenth_and_none_without_a_route() -> None:
    assert eta_seconds(route(), fix(at(0), speed=7.0), SETTINGS) == 285.7  # 2,000 m at 7 m/s
    assert eta_seconds(None, fix(at(0), speed=7.0), SETTINGS) is None


def test_the_eta_is_computed_only_for_fixes_that_raise_an_alert(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    planned = route()
    projections: list[tuple[float, float]] = []
    remaining = planned.remaining_m

    def counting(lon: float, lat: float) -> float:
        projections.append((lon, lat))
        return remaining(lon, lat)

    monkeypatch.setattr(planned, "remaining_m", counting)
    run = Run([circle("z1", at(500), 100)], planned=planned)
    for n in range(3):
        run(fix(at(100 * n), 10 * n, speed=10))
    assert projections == []
    assert kinds(run(fix(at(450), 40, speed=10))) == ["enter"]
    assert len(projections) == 1


# state ---------------------------------------------------------------------------------------


def test_the_state_given_is_not_modified() -> None:
    """The pipeline keeps the row's state until the batch commits."""
    state: dict[str, Any] = {
        "inside": ["z1"],
        "off_route": False,
        "still": [*at(0), "2024-05-01T10:00:00Z"],
        "stopped": False,
        "silent": True,
    }
    before = copy.deepcopy(state)
    new, raised = evaluate(
        state, VEHICLE, fix(at(1_000, 500), 300), [circle("z1", at(0), 100)], route(), SETTINGS
    )
    assert state == before
    assert kinds(raised) == ["exit", "off_route"]
    assert new["inside"] == [] and new["off_route"] is True and new["silent"] is False


def test_alert_data_adds_the_extra_fields() -> None:
    data = alert_data("silent", VEHICLE, fix(at(0), 5), None, silent_s=61.5)
    assert data["alert"] == "silent" and data["silent_s"] == 61.5
    assert data["ts"] == "2024-05-01T10:00:05Z"
    assert (data["lon"], data["lat"]) == at(0)


def test_the_helpers_place_fixes_in_metres_on_the_ground() -> None:
    """The helpers above: `at` is metres on the ground, so the thresholds mean what they say."""
    assert distance_m(*at(0), *at(30)) == pytest.approx(30, abs=1e-6)
    assert distance_m(*at(0), *at(0, 25)) == pytest.approx(25, abs=1e-6)
