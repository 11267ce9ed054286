"""The demo as a newcomer meets it: its seed on a database of its own (its registrations must
not reach the other tests' alert areas), a real hub, and the motorcade simulator driving the
route through /ingest/osmand. The straying vehicle's detour raises an off_route alert.

Issue 19 (10): the detour used to happen once, within the first minute after `crisishub demo`
started, and the Convoys tab showed only the alerts received live, so nobody watching saw one."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from hub import demo
from hub.actions import directory
from hub.convoys.geo import ProjectedRoute, line_length_m
from hub.demo.basemap import write_demo_basemap
from hub.demo.simulator import Leg, SimClock, SimVehicle, drive, position
from tests.live import HubProcess, migrate, throwaway_database
from tests.seed import Seeder

CORRIDOR_M = 100.0  # the hub's default off_route_corridor_m


@pytest.fixture(scope="module")
def demo_database(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with throwaway_database(database_url, tmp_path_factory.mktemp("demo")) as url:
        migrate(url)
        yield url


@pytest.fixture(scope="module")
async def seeded(demo_database: str) -> AsyncIterator[tuple[demo.Demo, str]]:
    """The demo's seed, and a token of its monitor (the incident's manager)."""
    seeder = Seeder(demo_database)
    try:
        made = await demo.seed(seeder.hub)
        _, token = await directory.create_token(seeder.hub, None, "monitor")
        yield made, token
    finally:
        await seeder.close()


@pytest.fixture(scope="module")
def demo_server(
    demo_database: str, logs: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[HubProcess]:
    # The simulated clock runs fast: no tracker is to be judged silent by the wall clock. The
    # base map is the one `crisishub demo` writes for itself.
    streets = write_demo_basemap(tmp_path_factory.mktemp("demo-basemap"))
    server = HubProcess(
        demo_database, log_dir=logs, silent_after_s=3600, basemap_pmtiles=streets
    ).start()
    yield server
    server.stop()


def test_the_straying_vehicle_leaves_the_corridor_on_every_leg() -> None:
    route = ProjectedRoute({"type": "LineString", "coordinates": demo.ROUTE}, None)
    length = line_length_m(demo.ROUTE)
    stray = demo.STRAY_FROM_M
    [(label, gap)] = [(label, gap) for label, _, gap, strays in demo.VEHICLES if strays]
    vehicle = SimVehicle("key", label, gap, stray)
    for lap, coordinates in enumerate([demo.ROUTE, list(reversed(demo.ROUTE))] * 2):
        leg = Leg(coordinates, length, 0.0, lap)
        offsets = []
        while leg.distance < stray + vehicle.stray_length_m + gap + 100:
            offsets.append(route.offset_m(*position(leg, vehicle)[:2]))
            leg.distance += 16.0
        assert max(offsets) > 3 * CORRIDOR_M, f"leg {lap} stays near the route"
        assert offsets[-1] < CORRIDOR_M, f"leg {lap} does not come back to the route"
    # The others keep to the route.
    leader = SimVehicle("key", "Lead", 0.0)
    leg = Leg(demo.ROUTE, length)
    while leg.distance < stray + 1000:
        assert route.offset_m(*position(leg, leader)[:2]) < 1.0
        leg.distance += 16.0


async def test_the_demo_simulator_detour_raises_an_off_route_alert(
    seeded: tuple[demo.Demo, str], demo_server: HubProcess
) -> None:
    made, token = seeded
    # Device time starts in the past and runs eight times faster than the wall clock, so that
    # the fixes stay behind the hub's limit on fixes from the future.
    clock = SimClock(time.time() - 120, speedup=8.0)
    driving = asyncio.create_task(drive(demo_server.url, demo.ROUTE, made.vehicles, clock=clock))
    found: list[dict[str, Any]] = []
    try:
        async with httpx.AsyncClient(
            base_url=demo_server.url, headers={"Authorization": f"Bearer {token}"}, timeout=10
        ) as http:
            deadline = time.monotonic() + 120
            while not found:
                assert not driving.done(), "the simulator stopped"
                assert time.monotonic() < deadline, "no off_route alert after the detour"
                answer = await http.get(f"/api/incidents/{made.incident_id}/events")
                assert answer.status_code == 200, answer.text
                found = [
                    e["data"]
                    for e in answer.json()["events"]
                    if e["type"] == "convoy.alert" and e["data"]["alert"] == "off_route"
                ]
                await asyncio.sleep(0.5)
    finally:
        driving.cancel()
        try:
            await driving
        except asyncio.CancelledError:
            pass
    [alert] = found
    assert alert["vehicle_label"] == "Follow (medical)"
    assert alert["distance_m"] > CORRIDOR_M
