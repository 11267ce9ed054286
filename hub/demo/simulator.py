"""A convoy of phones: drives vehicles along a route and reports each fix to /ingest/osmand over
HTTP, as the Traccar Client app would (speed in knots, Unix timestamps).

Used by `crisishub demo` and reusable by the benchmarks (any number of vehicles and convoys).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from dataclasses import dataclass, field

import httpx

from hub.convoys.geo import line_length_m, move, point_along

log = logging.getLogger(__name__)

KNOT_MPS = 1852 / 3600


@dataclass(frozen=True)
class SimVehicle:
    key: str  # the device key the tracker was given
    label: str
    gap_m: float = 0.0  # how far behind the lead it drives
    # Leaves the route once on every leg (there and back): between these distances along the
    # leg, swerving up to stray_offset_m, far outside the hub's corridor (100 m by default).
    stray_from_m: float | None = None
    stray_length_m: float = 600.0
    stray_offset_m: float = 350.0


@dataclass
class SimClock:
    """The device time the fixes carry: the wall clock, or (for tests) a clock that starts at
    `start` and runs `speedup` times faster, so a drive of minutes takes seconds."""

    start: float
    speedup: float = 1.0
    _origin: float = field(init=False, default=0.0)

    def __post_init__(self) -> None:
        self._origin = time.monotonic()

    def now(self) -> float:
        return self.start + (time.monotonic() - self._origin) * self.speedup


@dataclass
class Leg:
    """Where the convoy's lead is: `distance` along `coordinates` (reversed on the way back)."""

    coordinates: list[list[float]]
    length: float
    distance: float = 0.0
    lap: int = 0


def position(leg: Leg, vehicle: SimVehicle) -> tuple[float, float, float]:
    """(lon, lat, heading) of a vehicle, with its excursion off the route on every leg: once on
    the first leg only, it was over within a minute of the demo's start, before anyone looked."""
    distance = min(max(leg.distance - vehicle.gap_m, 0.0), leg.length)
    lon, lat, heading = point_along(leg.coordinates, distance)
    if vehicle.stray_from_m is not None:
        into = distance - vehicle.stray_from_m
        if 0 < into < vehicle.stray_length_m:
            offset = vehicle.stray_offset_m * math.sin(math.pi * into / vehicle.stray_length_m)
            lon, lat = move(lon, lat, heading + 90.0, offset)
    return lon, lat, heading


async def report(
    http: httpx.AsyncClient,
    vehicle: SimVehicle,
    lon: float,
    lat: float,
    heading: float,
    speed_mps: float,
    ts: float,
) -> int:
    params = {
        "id": vehicle.key,
        "lat": f"{lat:.7f}",
        "lon": f"{lon:.7f}",
        "timestamp": str(int(ts * 1000)),  # milliseconds: one fix a second never collides
        "speed": f"{speed_mps / KNOT_MPS:.2f}",
        "bearing": f"{heading:.1f}",
        "accuracy": "5",
    }
    try:
        response = await http.get("/ingest/osmand", params=params)
    except httpx.HTTPError as error:
        log.warning("%s: %s", vehicle.label, error)
        return 0
    if response.status_code != 200:
        log.warning("%s: %s %s", vehicle.label, response.status_code, response.text[:200])
    return response.status_code


async def drive(
    base_url: str,
    route: list[list[float]],
    vehicles: list[SimVehicle],
    *,
    speed_mps: float = 16.0,
    interval_s: float = 1.0,
    dwell_s: float = 150.0,
    laps: int | None = None,
    clock: SimClock | None = None,
) -> int:
    """Drive to the end of the route, wait `dwell_s` (long enough to raise `stopped`), drive
    back, and so on for `laps` legs (forever when None). Returns the number of fixes stored.
    Durations are in the device time of `clock` (the wall clock by default)."""
    clock = clock or SimClock(time.time())
    pause_s = interval_s / clock.speedup
    leg = Leg(route, line_length_m(route))
    stored = 0
    parked_since: float | None = None
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as http:
        while laps is None or leg.lap < laps:
            started = time.monotonic()
            moving = parked_since is None
            now = clock.now()
            codes = await asyncio.gather(
                *(
                    report(http, v, *position(leg, v), speed_mps if moving else 0.0, now)
                    for v in vehicles
                )
            )
            stored += sum(1 for code in codes if code == 200)
            if moving:
                leg.distance += speed_mps * interval_s
                last_gap = max(v.gap_m for v in vehicles)
                if leg.distance - last_gap >= leg.length:
                    parked_since = now
            elif parked_since is not None and now - parked_since >= dwell_s:
                parked_since = None
                leg = Leg(list(reversed(leg.coordinates)), leg.length, 0.0, leg.lap + 1)
            await asyncio.sleep(max(0.0, pause_s - (time.monotonic() - started)))
    return stored
