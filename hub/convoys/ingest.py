"""Convoy tracking wired into a running hub: the positions pipeline, the `position.report`
socket event, the trackers' protocols (OsmAnd parameters, Traccar Client's JSON, OwnTracks),
and the watch for trackers gone silent.

`start_tracking` starts the pipeline a serving instance was built with (hub/instance.py): it
runs in the lifespan and returns the coroutine that stops what it started.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlmodel import col

from hub.access import require_role
from hub.actions.convoy_alerts import raise_alerts
from hub.actions.convoys import managed_vehicle
from hub.auth import Principal, token_digest
from hub.context import Hub
from hub.convoys.pipeline import Fix, PositionPipeline, make_fix
from hub.convoys.rules import FixPoint, alert_data
from hub.errors import HubError, from_validation
from hub.realtime.handlers import SocketHandlers
from models import Convoy, Incident, Role, Status, Vehicle
from models.base import utcnow
from models.convoy import WATCHED_STATUSES
from models.convoy_shapes import FixIn, PositionReportIn
from models.events import ConvoyAlertData
from models.tracker_shapes import OwnTracksLocation, TraccarBody

log = logging.getLogger(__name__)

KNOT_MPS = 1852 / 3600  # the OsmAnd protocol sends speed in knots
MAX_DEVICE_KEY_CHARS = 200
UNKNOWN = -1  # what flutter_background_geolocation reports for a value it does not have


async def start_tracking(
    hub: Hub, pipeline: PositionPipeline, handlers: SocketHandlers
) -> Callable[[], Awaitable[None]]:
    await pipeline.start()

    async def report(sid: str, principal: Principal, payload: PositionReportIn) -> dict[str, Any]:
        return await report_position(hub, pipeline, principal, payload)

    handlers.register("position.report", PositionReportIn, report)
    watcher = asyncio.get_running_loop().create_task(watch_silence(hub), name="silence")

    async def close() -> None:
        watcher.cancel()
        try:
            await watcher
        except asyncio.CancelledError:
            pass
        await pipeline.close()

    return close


# the three paths in ----------------------------------------------------------------------------


async def report_position(
    hub: Hub, pipeline: PositionPipeline, principal: Principal, payload: PositionReportIn
) -> dict[str, Any]:
    """`position.report`: a contributor's app reporting for a vehicle of the incident."""
    async with hub.db.read() as session:
        await require_role(session, principal, payload.incident_id, Role.CONTRIBUTOR, write=True)
        vehicle = await session.get(Vehicle, payload.vehicle_id)
    if vehicle is None or vehicle.incident_id != payload.incident_id:
        raise HubError("not_found", "no such vehicle in this incident")
    fix = make_fix(hub, vehicle.id, vehicle.incident_id, payload)
    return (await pipeline.ingest(fix)).ack()


async def ingest_osmand(
    hub: Hub, pipeline: PositionPipeline, params: Mapping[str, str] | TraccarBody
) -> dict[str, Any]:
    """The OsmAnd/Traccar Client protocol: `id` (or `deviceid`), lat, lon, timestamp, speed in
    knots, bearing (or heading), altitude and accuracy; or Traccar Client 9's JSON body
    (`TraccarBody`, speed in m/s)."""
    if isinstance(params, TraccarBody):
        return await ingest_keyed(hub, pipeline, params.device_id, traccar_fix(params))
    key = params.get("id") or params.get("deviceid")
    if not key:
        raise HubError("invalid", "id (the device key) is required")
    if len(key) > MAX_DEVICE_KEY_CHARS:
        raise HubError("not_found", "unknown device")
    return await ingest_keyed(hub, pipeline, key, osmand_fix(params))


async def ingest_owntracks(
    hub: Hub, pipeline: PositionPipeline, key: str, message: OwnTracksLocation
) -> dict[str, Any]:
    """OwnTracks in HTTP mode: a `_type: location` message; the key is the Basic password."""
    return await ingest_keyed(hub, pipeline, key, owntracks_fix(message))


async def ingest_keyed(
    hub: Hub, pipeline: PositionPipeline, key: str, values: FixIn
) -> dict[str, Any]:
    """A tracker's fix, its vehicle named by its device key: every tracker protocol ends here."""
    digest = await check_key(hub, pipeline, key)
    fix = make_fix(hub, "", "", values, device_key_hash=digest)
    return (await pipeline.ingest(fix)).ack()


async def check_key(hub: Hub, pipeline: PositionPipeline, key: str) -> str:
    """The digest of a device key known to the hub; `not_found` (or `forbidden`: closed
    incident) otherwise."""
    if len(key) > MAX_DEVICE_KEY_CHARS:
        raise HubError("not_found", "unknown device")
    digest = token_digest(key)
    if digest not in pipeline.known_keys:
        # First fix of this key here: an unknown key is refused at once, without taking a
        # place in the queue. Later fixes skip this look-up; their batch checks the key again
        # in its own transaction, so a removed key or a closed incident stops them at once.
        await check_device(hub, digest)
        pipeline.remember_key(digest)
    return digest


def traccar_fix(body: TraccarBody) -> FixIn:
    """Traccar Client 9's location: m/s already; -1 (the platform's "unknown") is absent."""
    coords = body.location.coords
    raw: dict[str, Any] = {
        "lat": coords.latitude,
        "lon": coords.longitude,
        "ts": body.location.timestamp,
    }
    for name, value in (
        ("speed", coords.speed),
        ("heading", coords.heading),
        ("accuracy", coords.accuracy),
    ):
        if value is not None and value != UNKNOWN:
            raw[name] = value
    return _fix_in(raw)


def owntracks_fix(message: OwnTracksLocation) -> FixIn:
    """OwnTracks' location: `vel` in km/h, `tst` in Unix seconds; absent fields were zero."""
    raw: dict[str, Any] = {"lat": message.lat, "lon": message.lon, "ts": float(message.tst)}
    if message.vel is not None:
        raw["speed"] = message.vel / 3.6
    if message.cog is not None:
        raw["heading"] = message.cog
    if message.acc is not None:
        raw["accuracy"] = message.acc
    return _fix_in(raw)


def _fix_in(raw: dict[str, Any]) -> FixIn:
    try:
        return FixIn.model_validate(raw)
    except ValidationError as error:
        raise from_validation(error) from None


def osmand_fix(params: Mapping[str, str]) -> FixIn:
    lat, lon = params.get("lat"), params.get("lon")
    if (lat is None or lon is None) and params.get("location"):
        # Some Traccar clients send location=LAT,LON instead.
        lat, _, lon = params["location"].partition(",")
    raw: dict[str, Any] = {"lat": lat, "lon": lon}
    if lat in (None, "") or lon in (None, ""):
        raise HubError("invalid", "lat and lon are required")
    for name, value in (
        ("ts", params.get("timestamp")),
        ("heading", params.get("bearing") or params.get("heading")),
        ("accuracy", params.get("accuracy")),
    ):
        if value not in (None, ""):
            raw[name] = value
    speed = params.get("speed")
    if speed not in (None, ""):
        try:
            raw["speed"] = float(speed) * KNOT_MPS
        except ValueError:
            raise HubError("invalid", "speed must be a number of knots") from None
    try:
        # form fields are text: "50.85" is a latitude here, as the OsmAnd protocol says
        return FixIn.model_validate(raw, strict=False)
    except ValidationError as error:
        raise from_validation(error) from None


async def check_device(hub: Hub, digest: str) -> None:
    """Refuses an unknown device key (by its digest, already computed by the caller) or one
    whose incident is closed: a closed incident takes no more fixes."""
    async with hub.db.read() as session:
        row = (
            await session.execute(
                # Vehicle first: it is the FROM that Incident joins.
                select(col(Vehicle.id), col(Incident.status))
                .join(Incident, col(Incident.id) == col(Vehicle.incident_id))
                .where(col(Vehicle.device_key_hash) == digest)
            )
        ).first()
    if row is None:
        raise HubError("not_found", "unknown device")
    _, status = row
    if status == Status.CLOSED.value:
        raise HubError("forbidden", "this incident is closed")


async def ingest_track(
    hub: Hub,
    pipeline: PositionPipeline,
    principal: Principal,
    vehicle_id: str,
    points: list[FixIn],
) -> dict[str, Any]:
    """A recorded track (GPX) replayed through the same pipeline, e.g. after an exercise."""
    vehicle = await managed_vehicle(hub, principal, vehicle_id)
    # tens of thousands of timestamps to parse: off the event loop, as the upload's parsing
    fixes = await asyncio.to_thread(track_fixes, hub, vehicle, points)
    outcomes = []
    # In slices, so one upload never fills the queue that live trackers need.
    step = max(1, hub.settings.position_batch_max)
    for start in range(0, len(fixes), step):
        outcomes.extend(await pipeline.ingest_many(fixes[start : start + step]))
    return {
        "received": len(fixes),
        "stored": sum(1 for o in outcomes if not o.duplicate),
        "duplicates": sum(1 for o in outcomes if o.duplicate),
        "flagged": sum(1 for o in outcomes if o.flagged),
    }


def track_fixes(hub: Hub, vehicle: Vehicle, points: list[FixIn]) -> list[Fix]:
    """A track's points as fixes of `vehicle`, in device time, as it was driven."""
    now = utcnow()
    fixes: list[Fix] = []
    for number, point in enumerate(points, 1):
        try:
            fixes.append(make_fix(hub, vehicle.id, vehicle.incident_id, point, now))
        except HubError as error:
            raise HubError(error.code, f"point {number}: {error.message}") from None
    fixes.sort(key=lambda fix: fix.ts)
    return fixes


# silence -----------------------------------------------------------------------------------------


async def watch_silence(hub: Hub) -> None:
    """Every few seconds, raise `silent` for trackers of live convoys that stopped sending."""
    while True:
        await asyncio.sleep(hub.settings.silent_check_interval_s)
        try:
            await check_silence(hub)
        except Exception:
            log.exception("silence check failed; trying again")


async def check_silence(hub: Hub) -> int:
    now = utcnow()
    cutoff = now - timedelta(seconds=hub.settings.silent_after_s)
    # A tracker quiet for over a day was reported then (or its convoy is long over).
    horizon = cutoff - timedelta(days=1)
    alerts: list[tuple[str, ConvoyAlertData]] = []
    async with hub.db.write() as session:
        rows = await session.scalars(
            select(Vehicle)
            .join(Convoy, col(Convoy.id) == col(Vehicle.convoy_id))
            .join(Incident, col(Incident.id) == col(Vehicle.incident_id))
            .where(
                col(Vehicle.last_received_at) < cutoff,
                col(Vehicle.last_received_at) > horizon,
                col(Convoy.status).in_(WATCHED_STATUSES),
                col(Incident.status) == Status.OPEN.value,
            )
            # By incident first: incident rows are then locked in id order (as position batches
            # do), so the two cannot deadlock.
            .order_by(col(Vehicle.incident_id), col(Vehicle.id))
            .limit(1_000)
            # Another instance checking at the same moment skips these rows: one alert.
            .with_for_update(of=Vehicle, skip_locked=True)
        )
        for vehicle in rows:
            state = dict(vehicle.alert_state or {})
            if state.get("silent") or vehicle.last_ts is None or vehicle.last_received_at is None:
                continue
            state["silent"] = True
            vehicle.alert_state = state
            fix = FixPoint(vehicle.last_lat or 0.0, vehicle.last_lon or 0.0, vehicle.last_ts, 0.0)
            silent_s = round((now - vehicle.last_received_at).total_seconds(), 1)
            data = alert_data("silent", vehicle, fix, None, silent_s=silent_s)
            alerts.append((vehicle.incident_id, data))
        # Sequenced in this transaction: they commit with the silence they report.
        events = await raise_alerts(session, alerts)
    for event in events:
        await hub.notifier.incident_event(event)
    return len(events)
