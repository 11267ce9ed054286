"""The positions pipeline: one ingestion function for every path, group commit, alerts, and
coalesced broadcast (design principle 4).

    /ingest/osmand ─┐
    position.report ─┼─> ingest() ─> queue ─> batcher: one transaction per batch ─> futures
    GPX upload ──────┘                              │ (positions, vehicle state, alerts)
                                                    └─> after commit: convoy.alert events,
                                                        coalesced convoy.positions

Each caller awaits its own future, resolved only after its batch is committed, so "200" and
"ack {}" always mean "stored".
"""

from __future__ import annotations

import asyncio
import logging
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from hub.actions.convoys import position_public
from hub.coalesce import PositionCoalescer
from hub.context import Hub
from hub.convoy_alerts import GEOTOOL_ACTOR, FixPoint, evaluate
from hub.errors import HubError
from hub.eventlog import log_event, take_seq
from hub.geo import ProjectedRoute, Zone, distance_m, zone_from_anchor
from models import PERIMETER_KINDS, Anchor, Convoy, Position, Vehicle
from models.base import utcnow
from models.convoy_shapes import FixIn

log = logging.getLogger(__name__)

EARLIEST_FIX = datetime(2000, 1, 1, tzinfo=UTC)
# Above this a number is milliseconds, not seconds (1e11 s is the year 5138).
MILLISECONDS_ABOVE = 1e11


@dataclass(frozen=True, slots=True)
class Fix:
    """A validated fix tied to its vehicle; times are aware UTC datetimes."""

    vehicle_id: str
    incident_id: str
    lat: float
    lon: float
    ts: datetime
    received_at: datetime
    speed: float | None = None
    heading: float | None = None
    accuracy: float | None = None


@dataclass(slots=True)
class Outcome:
    """What became of a fix; `ack()` is what the caller tells the device."""

    duplicate: bool = False
    flagged: str | None = None
    latest: bool = False  # newer than the vehicle's last fix: broadcast and checked

    def ack(self) -> dict[str, Any]:
        ack: dict[str, Any] = {}
        if self.duplicate:
            ack["duplicate"] = True
        if self.flagged:
            ack["flagged"] = self.flagged
        return ack


def parse_timestamp(value: Any, now: datetime, max_future_s: float) -> datetime:
    """Unix seconds, Unix milliseconds or ISO 8601 (naive means UTC); absent means now."""
    if value is None or value == "":
        return now
    number: float | None = None
    if isinstance(value, bool):
        raise HubError("invalid", "ts must be a time, not a boolean")
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            number = None
    else:
        raise HubError("invalid", "ts must be Unix seconds, milliseconds or ISO 8601")
    try:
        if number is not None:
            if not math.isfinite(number):
                raise ValueError
            seconds = number / 1000 if abs(number) > MILLISECONDS_ABOVE else number
            ts = datetime.fromtimestamp(seconds, UTC)
        else:
            ts = datetime.fromisoformat(str(value).strip())
            ts = ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)
    except (ValueError, OverflowError, OSError):
        raise HubError("invalid", "ts must be Unix seconds, milliseconds or ISO 8601") from None
    if ts < EARLIEST_FIX:
        raise HubError("invalid", "ts is before the year 2000: the device clock is not set")
    if ts > now + timedelta(seconds=max_future_s):
        raise HubError("invalid", "ts is in the future: check the device clock")
    return ts


def make_fix(
    hub: Hub, vehicle_id: str, incident_id: str, values: FixIn, now: datetime | None = None
) -> Fix:
    now = now or utcnow()
    return Fix(
        vehicle_id=vehicle_id,
        incident_id=incident_id,
        lat=values.lat,
        lon=values.lon,
        ts=parse_timestamp(values.ts, now, hub.settings.max_fix_future_s),
        received_at=now,
        speed=values.speed,
        heading=values.heading,
        accuracy=values.accuracy,
    )


@dataclass(slots=True)
class _Pending:
    fix: Fix
    future: asyncio.Future[Outcome]


@dataclass
class _Batch:
    """What one committed batch leaves to do after commit."""

    events: list[dict[str, Any]] = field(default_factory=list)
    broadcast: dict[str, dict[str, Any]] = field(default_factory=dict)  # vehicle -> position


class PositionPipeline:
    """Group commit for fixes; alerts and broadcast after commit. One per hub instance."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.settings = hub.settings
        self.coalescer = PositionCoalescer(hub.notifier, hub.settings.positions_per_second)
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        # Prepared geometry, reused until the anchors (or route) change on any instance.
        self._zones: dict[str, tuple[tuple[int, Any], list[Zone]]] = {}
        self._routes: dict[str, tuple[Any, ProjectedRoute | None]] = {}

    async def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="positions")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        while not self._queue.empty():
            pending = self._queue.get_nowait()
            if not pending.future.done():
                pending.future.set_exception(HubError("unavailable", "the hub is stopping"))
        await self.coalescer.close()

    async def ingest(self, fix: Fix) -> Outcome:
        """The one ingestion function: returns once the fix is committed (or refused)."""
        return (await self.ingest_many([fix]))[0]

    async def ingest_many(self, fixes: list[Fix]) -> list[Outcome]:
        if self._queue.qsize() + len(fixes) > self.settings.position_queue_max:
            raise HubError("unavailable", "too many fixes waiting to be stored; retry shortly")
        loop = asyncio.get_running_loop()
        futures = []
        for fix in fixes:
            future: asyncio.Future[Outcome] = loop.create_future()
            self._queue.put_nowait(_Pending(fix, future))
            futures.append(future)
        return list(await asyncio.gather(*futures))

    # the batcher --------------------------------------------------------------------------

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        wait = self.settings.position_batch_wait_ms / 1000
        while True:
            batch = [await self._queue.get()]
            deadline = loop.time() + wait
            while len(batch) < self.settings.position_batch_max:
                if not self._queue.empty():
                    batch.append(self._queue.get_nowait())
                    continue
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                try:
                    batch.append(await asyncio.wait_for(self._queue.get(), remaining))
                except TimeoutError:
                    break
            await self._commit(batch)

    async def _commit(self, batch: list[_Pending]) -> None:
        """Never raises: a failed batch fails its callers (who retry), not the pipeline."""
        try:
            outcomes, after = await self._write([p.fix for p in batch])
        except HubError as error:
            self._fail(batch, error)
            return
        except Exception:
            log.exception("a batch of %d fixes failed", len(batch))
            self._fail(batch, HubError("unavailable", "the fix was not stored; retry"))
            return
        for pending, outcome in zip(batch, outcomes, strict=True):
            if pending.future.done():
                continue  # the caller went away; the fix is stored all the same
            if isinstance(outcome, HubError):
                pending.future.set_exception(outcome)
            else:
                pending.future.set_result(outcome)
        try:
            for event in after.events:
                await self.hub.notifier.incident_event(event)
            for position in after.broadcast.values():
                self.coalescer.add(position["incident_id"], position["position"])
        except Exception:
            log.exception("after-commit work failed; clients recover by seq and snapshot")

    @staticmethod
    def _fail(batch: list[_Pending], error: HubError) -> None:
        for pending in batch:
            if not pending.future.done():
                pending.future.set_exception(error)

    async def _write(self, fixes: list[Fix]) -> tuple[list[Outcome | HubError], _Batch]:
        after = _Batch()
        outcomes: list[Outcome | HubError] = []
        async with self.hub.db.write() as session:
            vehicle_ids = sorted({fix.vehicle_id for fix in fixes})
            # FOR UPDATE (PostgreSQL): instances writing the same vehicle take turns, so the
            # "newer than last" decision and the alert state stay consistent.
            rows = await session.execute(
                select(Vehicle, Convoy)
                .join(Convoy, Convoy.id == Vehicle.convoy_id)  # type: ignore[arg-type]
                .where(Vehicle.id.in_(vehicle_ids))  # type: ignore[attr-defined]
                .order_by(Vehicle.id)  # type: ignore[arg-type]
                .with_for_update(of=Vehicle)  # type: ignore[arg-type]
            )
            vehicles: dict[str, tuple[Vehicle, Convoy]] = {v.id: (v, c) for v, c in rows}
            stored = await self._existing(session, fixes)
            zones = {
                incident_id: await self._zones_of(session, incident_id)
                for incident_id in {fix.incident_id for fix in fixes}
            }
            states: dict[str, dict[str, Any]] = {}
            alerts: list[tuple[str, dict[str, Any]]] = []
            rows_out: list[dict[str, Any]] = []
            for fix in fixes:
                found = vehicles.get(fix.vehicle_id)
                if found is None or found[0].incident_id != fix.incident_id:
                    outcomes.append(HubError("not_found", "no such vehicle"))
                    continue
                vehicle, convoy = found
                key = (fix.vehicle_id, fix.ts)
                if key in stored:
                    outcomes.append(Outcome(duplicate=True))
                    continue
                stored.add(key)
                # Any new fix shows the tracker is alive, even an old one it catches up with.
                state = states.setdefault(vehicle.id, dict(vehicle.alert_state or {}))
                state["silent"] = False
                if vehicle.last_received_at is None or fix.received_at > vehicle.last_received_at:
                    vehicle.last_received_at = fix.received_at
                outcome = Outcome()
                newer = vehicle.last_ts is None or fix.ts > vehicle.last_ts
                if newer:
                    outcome.flagged = self._impossible(vehicle, fix)
                    outcome.latest = outcome.flagged is None
                rows_out.append(_row(fix, outcome.flagged))
                outcomes.append(outcome)
                if not outcome.latest:
                    continue  # older or flagged: stored for the record, not broadcast
                point = FixPoint(fix.lat, fix.lon, fix.ts, fix.speed)
                state, raised = evaluate(
                    states[vehicle.id],
                    vehicle,
                    point,
                    zones[fix.incident_id],
                    self._route_of(convoy),
                    self.settings,
                )
                states[vehicle.id] = state
                alerts.extend((fix.incident_id, data) for data in raised)
                _remember(vehicle, fix)
                after.broadcast[vehicle.id] = {
                    "incident_id": fix.incident_id,
                    "position": position_public(vehicle),
                }
            if rows_out:
                await session.execute(self._insert(), rows_out)
            for vehicle_id, state in states.items():
                # A new dict, so the ORM sees the JSON column change.
                vehicles[vehicle_id][0].alert_state = state
            # Incident rows are locked in id order, so two batches (or instances) whose alerts
            # touch the same incidents cannot deadlock; sorted() is stable, so each incident's
            # alerts keep their order.
            for incident_id, data in sorted(alerts, key=lambda alert: alert[0]):
                seq = await take_seq(session, incident_id)
                after.events.append(
                    log_event(session, incident_id, seq, "convoy.alert", GEOTOOL_ACTOR, data)
                )
        return outcomes, after

    def _impossible(self, vehicle: Vehicle, fix: Fix) -> str | None:
        """A jump faster than any car from the last accepted fix (GPS noise allowed for)."""
        if vehicle.last_ts is None or vehicle.last_lat is None or vehicle.last_lon is None:
            return None
        seconds = (fix.ts - vehicle.last_ts).total_seconds()
        metres = distance_m(vehicle.last_lon, vehicle.last_lat, fix.lon, fix.lat)
        excess = metres - self.settings.position_jump_slack_m
        if excess <= 0:
            return None
        kmh = excess / max(seconds, 0.001) * 3.6
        if kmh > self.settings.max_vehicle_speed_kmh:
            return f"jump of {metres:.0f} m in {seconds:.1f} s (over {kmh:.0f} km/h)"
        return None

    def _insert(self) -> Any:
        # Two instances may store the same retried fix at once: the unique (vehicle, ts)
        # index makes the second a no-op instead of failing the whole batch.
        table = Position.__table__  # type: ignore[attr-defined]
        dialect = sqlite if self.hub.db.is_sqlite else postgresql
        return dialect.insert(table).on_conflict_do_nothing(index_elements=["vehicle_id", "ts"])

    async def _existing(self, session: AsyncSession, fixes: list[Fix]) -> set[tuple[str, Any]]:
        """(vehicle, ts) pairs already stored: retries and duplicate sends."""
        found = await session.execute(
            select(Position.vehicle_id, Position.ts).where(
                Position.vehicle_id.in_(sorted({f.vehicle_id for f in fixes})),  # type: ignore[attr-defined]
                Position.ts.in_(sorted({f.ts for f in fixes})),  # type: ignore[attr-defined]
            )
        )
        return {(vehicle_id, ts) for vehicle_id, ts in found}

    async def _zones_of(self, session: AsyncSession, incident_id: str) -> list[Zone]:
        """Prepared perimeters of an incident, rebuilt only when one changed on any instance:
        every change (and deletion) bumps updated_at, so (count, newest) is a fingerprint."""
        perimeter = (
            Anchor.incident_id == incident_id,  # type: ignore[arg-type]
            Anchor.kind.in_([k.value for k in PERIMETER_KINDS]),  # type: ignore[attr-defined]
        )
        count, newest = (
            await session.execute(
                select(func.count(), func.max(Anchor.updated_at)).where(*perimeter)
            )
        ).one()
        fingerprint = (int(count), newest)
        cached = self._zones.get(incident_id)
        if cached is not None and cached[0] == fingerprint:
            return cached[1]
        anchors = await session.scalars(
            select(Anchor).where(*perimeter, Anchor.deleted_at.is_(None))  # type: ignore[union-attr]
        )
        zones = []
        for anchor in anchors:
            zone = zone_from_anchor(
                anchor.id, anchor.kind, anchor.label, anchor.geometry, anchor.properties or {}
            )
            if zone is not None:
                zones.append(zone)
        if len(self._zones) > 1_000:
            self._zones.clear()  # bounded: open incidents rebuild on their next fix
        self._zones[incident_id] = (fingerprint, zones)
        return zones

    def _route_of(self, convoy: Convoy) -> ProjectedRoute | None:
        key = convoy.updated_at
        cached = self._routes.get(convoy.id)
        if cached is not None and cached[0] == key:
            return cached[1]
        route = ProjectedRoute(convoy.route, convoy.destination) if convoy.route else None
        if len(self._routes) > 10_000:
            self._routes.clear()
        self._routes[convoy.id] = (key, route)
        return route


def _row(fix: Fix, flagged: str | None) -> dict[str, Any]:
    return {
        "vehicle_id": fix.vehicle_id,
        "incident_id": fix.incident_id,
        "lat": fix.lat,
        "lon": fix.lon,
        "ts": fix.ts,
        "received_at": fix.received_at,
        "speed": fix.speed,
        "heading": fix.heading,
        "accuracy": fix.accuracy,
        "flagged": flagged is not None,
        "flag_reason": flagged,
    }


def _remember(vehicle: Vehicle, fix: Fix) -> None:
    vehicle.last_lat = fix.lat
    vehicle.last_lon = fix.lon
    vehicle.last_ts = fix.ts
    vehicle.last_speed = fix.speed
    vehicle.last_heading = fix.heading
    vehicle.last_accuracy = fix.accuracy
