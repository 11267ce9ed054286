"""A registered TAK device's position event as a vehicle fix, made by the same `make_fix` and
stored by the same `PositionPipeline.ingest` as every other fix (so the same plausibility
check, flags, alerts and `convoy.positions`)."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

from pydantic import ValidationError
from sqlalchemy import select
from sqlmodel import col

from hub.context import Hub
from hub.convoys.pipeline import Fix, make_fix
from hub.errors import HubError, from_validation
from hub.tak.cot import CotEvent
from hub.tak.limits import UID_CACHE_MAX, UID_CACHE_S
from models import Incident, Status, Vehicle
from models.convoy_shapes import FixIn


@dataclass(frozen=True, slots=True)
class Registration:
    """The vehicle a CoT uid is registered to (crisishub device add … --tak-uid)."""

    vehicle_id: str
    incident_id: str
    open: bool
    # The vehicle's map symbol: None until a manager sets one or its CoT type gives one.
    sidc: str | None = None


class Registrations:
    """CoT uid → registration, read from the vehicle table and reused for UID_CACHE_S (both
    known and unknown uids), so a device's every event is not a look-up. One per instance."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self._cache: dict[str, tuple[float, Registration | None]] = {}

    async def find(self, uid: str) -> Registration | None:
        now = time.monotonic()
        cached = self._cache.get(uid)
        if cached is not None and now - cached[0] < UID_CACHE_S:
            return cached[1]
        async with self.hub.db.read() as session:
            row = (
                await session.execute(
                    select(
                        col(Vehicle.id),
                        col(Vehicle.incident_id),
                        col(Incident.status),
                        col(Vehicle.sidc),
                    )
                    .join(Incident, col(Incident.id) == col(Vehicle.incident_id))
                    .where(col(Vehicle.tak_uid) == uid)
                )
            ).first()
        found = (
            None if row is None else Registration(row[0], row[1], row[2] != Status.CLOSED, row[3])
        )
        if len(self._cache) >= UID_CACHE_MAX:
            self._cache.clear()  # bounded: uids in use are looked up once more
        self._cache[uid] = (now, found)
        return found

    def symbolled(self, uid: str, sidc: str) -> None:
        """The vehicle of `uid` has a symbol now: its next events do not ask for one again."""
        cached = self._cache.get(uid)
        if cached is not None and cached[1] is not None:
            self._cache[uid] = (cached[0], replace(cached[1], sidc=sidc))


def tak_fix(hub: Hub, registration: Registration, event: CotEvent) -> Fix:
    """The fix of a position event; HubError `invalid` for impossible values (a latitude
    beyond 90, a time in the future…), as on every other path."""
    raw: dict[str, object] = {"lat": event.lat, "lon": event.lon, "ts": event.time}
    # Negative speed and course are devices' "unknown"; CE is metres (circular error).
    if event.speed is not None and event.speed >= 0:
        raw["speed"] = event.speed
    if event.course is not None and event.course >= 0:
        raw["heading"] = event.course % 360
    if event.ce is not None and event.ce >= 0:
        raw["accuracy"] = event.ce
    try:
        values = FixIn.model_validate(raw)
    except ValidationError as error:
        raise from_validation(error) from None
    if not registration.open:
        raise HubError("forbidden", "this incident is closed")
    return make_fix(hub, registration.vehicle_id, registration.incident_id, values)
