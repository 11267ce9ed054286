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
import collections
import json
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from hub.actions.convoy_alerts import raise_alerts
from hub.actions.convoys import position_public
from hub.context import Hub
from hub.convoys import jumps
from hub.convoys.coalesce import PositionCoalescer
from hub.convoys.geo import ProjectedRoute, Zone, zone_from_anchor
from hub.convoys.jumps import TrackPoint
from hub.convoys.rules import FixPoint, evaluate
from hub.errors import HubError
from models import PERIMETER_KINDS, Anchor, Convoy, Incident, Status, Vehicle
from models.base import utcnow
from models.convoy_shapes import FixIn
from models.events import ConvoyAlertData, EventPublic, PositionPublic

log = logging.getLogger(__name__)

EARLIEST_FIX = datetime(2000, 1, 1, tzinfo=UTC)
# Above this a number is milliseconds, not seconds (1e11 s is the year 5138).
MILLISECONDS_ABOVE = 1e11
# Device keys known to exist: a hint that lets a tracker's fix skip its own look-up and go
# straight to the batch, which checks the key again in the committing transaction.
KNOWN_KEYS_MAX = 100_000
# A deep queue is taken in batches of up to this many times position_batch_max: the per-batch
# cost (vehicle look-up and locks, one state update per vehicle, commit) is spread over more
# fixes, while a batch still holds SQLite's writer lock for a fraction of a second only.
DEEP_BATCH_FACTOR = 10
# Rows per insert statement: small enough for the database to store one chunk while Python
# prepares the next (see _Inserter), large enough for few statements.
INSERT_CHUNK = 1000

VEHICLE = Vehicle.__table__  # type: ignore[attr-defined]
CONVOY = Convoy.__table__  # type: ignore[attr-defined]
INCIDENT = Incident.__table__  # type: ignore[attr-defined]
# What a batch writes back to each vehicle it moved: one executemany for the whole batch.
_STATE_COLUMNS = (
    "last_lat",
    "last_lon",
    "last_ts",
    "last_speed",
    "last_heading",
    "last_accuracy",
    "last_received_at",
    "alert_state",
)


@dataclass(frozen=True, slots=True)
class Fix:
    """A validated fix tied to its vehicle; times are aware UTC datetimes.

    A tracker's fix may instead name its vehicle by `device_key_hash` (vehicle and incident
    empty): the batch resolves it in its own transaction, so a removed key or a closed
    incident takes effect for every fix not yet committed."""

    vehicle_id: str
    incident_id: str
    lat: float
    lon: float
    ts: datetime
    received_at: datetime
    speed: float | None = None
    heading: float | None = None
    accuracy: float | None = None
    device_key_hash: str | None = None


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
    hub: Hub,
    vehicle_id: str,
    incident_id: str,
    values: FixIn,
    now: datetime | None = None,
    device_key_hash: str | None = None,
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
        device_key_hash=device_key_hash,
    )


@dataclass(slots=True)
class _Route:
    """The convoy columns the alert rules need (route cache key and geometry)."""

    id: str
    route: dict[str, Any] | None
    destination: dict[str, Any] | None
    updated_at: datetime


@dataclass(slots=True)
class _Vehicle:
    """A vehicle row as a batch reads and writes it: plain attributes, no ORM bookkeeping."""

    id: str
    convoy_id: str
    incident_id: str
    label: str
    device_key_hash: str
    last_lat: float | None
    last_lon: float | None
    last_ts: datetime | None
    last_speed: float | None
    last_heading: float | None
    last_accuracy: float | None
    last_received_at: datetime | None
    alert_state: dict[str, Any] | None
    open: bool
    convoy: _Route
    changed: bool = False


class _StoredBefore(Exception):
    """A batch written without the look-up met an already-stored fix."""


@dataclass(slots=True)
class _Pending:
    fix: Fix
    future: asyncio.Future[Outcome]


@dataclass
class _Batch:
    """What one committed batch leaves to do after commit."""

    events: list[EventPublic] = field(default_factory=list)
    # vehicle -> its incident and its new position
    broadcast: dict[str, tuple[str, PositionPublic]] = field(default_factory=dict)


@dataclass
class _TrackChanges:
    """Flags that a batch changes on fixes already stored (or stored earlier in the batch)
    when a track follows the fixes after a wild jump (hub/convoys/jumps.py)."""

    # (vehicle, ts) -> the new flag reason, None to un-flag; the latest word wins
    flags: dict[tuple[str, datetime], str | None] = field(default_factory=dict)
    # this batch's outcomes, so that a fix of the batch is acknowledged as it ends up stored
    outcomes: dict[tuple[str, datetime], Outcome] = field(default_factory=dict)

    def mark(self, vehicle_id: str, ts: datetime, reason: str | None) -> None:
        self.flags[(vehicle_id, ts)] = reason
        outcome = self.outcomes.get((vehicle_id, ts))
        if outcome is not None:
            outcome.flagged = reason


class PositionPipeline:
    """Group commit for fixes; alerts and broadcast after commit. One per hub instance."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.settings = hub.settings
        self.limits = jumps.Limits(
            max_speed_kmh=hub.settings.max_vehicle_speed_kmh,
            slack_m=hub.settings.position_jump_slack_m,
            needed=hub.settings.jump_agreeing_fixes,
        )
        self.coalescer = PositionCoalescer(hub.notifier, hub.settings.positions_per_second)
        # A deque and one event rather than an asyncio.Queue: the batcher takes a whole batch
        # at once, with no future or task per fix.
        self._queue: collections.deque[_Pending] = collections.deque()
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        # Prepared geometry, reused until the anchors (or route) change on any instance.
        self._zones: dict[str, tuple[tuple[int, Any], list[Zone]]] = {}
        self._routes: dict[str, tuple[Any, ProjectedRoute | None]] = {}
        # Digests of device keys seen to exist (see KNOWN_KEYS_MAX); never trusted alone.
        self.known_keys: set[str] = set()
        self.batches = 0  # committed batches, for the benchmarks
        # Whether the next batch looks up already-stored fixes first (see _write).
        self._look_up = False

    async def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="positions")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        while self._queue:
            pending = self._queue.popleft()
            if not pending.future.done():
                pending.future.set_exception(HubError("unavailable", "the hub is stopping"))
        await self.coalescer.close()

    async def ingest(self, fix: Fix) -> Outcome:
        """The one ingestion function: returns once the fix is committed (or refused)."""
        if len(self._queue) + 1 > self.settings.position_queue_max:
            raise HubError("unavailable", "too many fixes waiting to be stored; retry shortly")
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._queue.append(_Pending(fix, future))
        self._ready.set()
        return await future

    async def ingest_many(self, fixes: list[Fix]) -> list[Outcome]:
        if len(self._queue) + len(fixes) > self.settings.position_queue_max:
            raise HubError("unavailable", "too many fixes waiting to be stored; retry shortly")
        loop = asyncio.get_running_loop()
        futures = []
        for fix in fixes:
            future: asyncio.Future[Outcome] = loop.create_future()
            self._queue.append(_Pending(fix, future))
            futures.append(future)
        self._ready.set()
        return list(await asyncio.gather(*futures))

    # the batcher --------------------------------------------------------------------------

    async def _run(self) -> None:
        wait = self.settings.position_batch_wait_ms / 1000
        size = max(1, self.settings.position_batch_max)
        while True:
            await self._ready.wait()
            if wait > 0 and len(self._queue) < size:
                # Linger briefly so fixes arriving together share a commit. While a batch
                # commits, the next one fills by itself: under load no linger is needed.
                await asyncio.sleep(wait)
            # A deep queue (a burst, a catch-up) is taken in larger batches: the fixed cost
            # of a batch (look-ups, commit) is then spread over more fixes.
            take = min(len(self._queue), size * DEEP_BATCH_FACTOR)
            batch = [self._queue.popleft() for _ in range(take)]
            if not self._queue:
                self._ready.clear()
            if batch:
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
        self.batches += 1
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
            for incident_id, position in after.broadcast.values():
                self.coalescer.add(incident_id, position)
        except Exception:
            log.exception("after-commit work failed; clients recover by seq and snapshot")

    @staticmethod
    def _fail(batch: list[_Pending], error: HubError) -> None:
        for pending in batch:
            if not pending.future.done():
                pending.future.set_exception(error)

    def remember_key(self, digest: str) -> None:
        if len(self.known_keys) >= KNOWN_KEYS_MAX:
            self.known_keys.clear()  # bounded: keys in use are looked up once more
        self.known_keys.add(digest)

    async def _vehicles(
        self, session: AsyncSession, fixes: list[Fix]
    ) -> tuple[dict[str, _Vehicle], dict[str, _Vehicle]]:
        """The batch's vehicles by id and by device-key digest, in one query.

        FOR UPDATE (PostgreSQL): instances writing the same vehicle take turns, so the
        "newer than last" decision and the alert state stay consistent."""
        ids = sorted({f.vehicle_id for f in fixes if f.device_key_hash is None})
        digests = sorted({f.device_key_hash for f in fixes if f.device_key_hash is not None})
        conditions = []
        if ids:
            conditions.append(VEHICLE.c.id.in_(ids))
        if digests:
            conditions.append(VEHICLE.c.device_key_hash.in_(digests))
        rows = await session.execute(
            select(
                *(VEHICLE.c[name] for name in ("id", "convoy_id", "incident_id", "label")),
                VEHICLE.c.device_key_hash,
                *(VEHICLE.c[name] for name in _STATE_COLUMNS),
                INCIDENT.c.status.label("incident_status"),
                CONVOY.c.route,
                CONVOY.c.destination,
                CONVOY.c.updated_at.label("convoy_updated_at"),
            )
            .join(CONVOY, CONVOY.c.id == VEHICLE.c.convoy_id)
            .join(INCIDENT, INCIDENT.c.id == VEHICLE.c.incident_id)
            .where(or_(*conditions))
            .order_by(VEHICLE.c.id)
            .with_for_update(of=VEHICLE)
        )
        by_id: dict[str, _Vehicle] = {}
        by_key: dict[str, _Vehicle] = {}
        for row in rows:
            vehicle = _Vehicle(
                id=row.id,
                convoy_id=row.convoy_id,
                incident_id=row.incident_id,
                label=row.label,
                device_key_hash=row.device_key_hash,
                last_lat=row.last_lat,
                last_lon=row.last_lon,
                last_ts=row.last_ts,
                last_speed=row.last_speed,
                last_heading=row.last_heading,
                last_accuracy=row.last_accuracy,
                last_received_at=row.last_received_at,
                alert_state=row.alert_state,
                open=row.incident_status != Status.CLOSED.value,
                convoy=_Route(row.convoy_id, row.route, row.destination, row.convoy_updated_at),
            )
            by_id[vehicle.id] = vehicle
            by_key[vehicle.device_key_hash] = vehicle
        return by_id, by_key

    def _resolve(
        self, fix: Fix, by_id: dict[str, _Vehicle], by_key: dict[str, _Vehicle]
    ) -> tuple[Fix, _Vehicle] | HubError:
        if fix.device_key_hash is None:
            vehicle = by_id.get(fix.vehicle_id)
            if vehicle is None or vehicle.incident_id != fix.incident_id:
                return HubError("not_found", "no such vehicle")
            if not vehicle.open:
                # The caller's check (a role, a TAK registration) may predate the closing.
                return HubError("forbidden", "this incident is closed")
            return fix, vehicle
        vehicle = by_key.get(fix.device_key_hash)
        if vehicle is None:
            self.known_keys.discard(fix.device_key_hash)
            return HubError("not_found", "unknown device")
        if not vehicle.open:
            self.known_keys.discard(fix.device_key_hash)
            return HubError("forbidden", "this incident is closed")
        return replace(fix, vehicle_id=vehicle.id, incident_id=vehicle.incident_id), vehicle

    async def _write(self, fixes: list[Fix]) -> tuple[list[Outcome | HubError], _Batch]:
        """Stores a batch. Whether a fix is already stored (a retry) is decided before any
        state moves, so a duplicate neither moves its vehicle nor raises an alert. Usually no
        fix is, and the look-up is skipped: the insert's row count then tells whether one
        was after all, and the batch is written again, with the look-up."""
        if not self._look_up:
            try:
                return await self._write_once(fixes, look_up=False)
            except _StoredBefore:
                pass
        return await self._write_once(fixes, look_up=True)

    async def _write_once(
        self, fixes: list[Fix], *, look_up: bool
    ) -> tuple[list[Outcome | HubError], _Batch]:
        after = _Batch()
        outcomes: list[Outcome | HubError] = []
        sqlite = self.hub.db.is_sqlite
        async with self.hub.db.write() as session:
            # The rows themselves go through the driver: a batch is thousands of rows, and
            # SQLAlchemy's per-row parameter processing would cost more than the database.
            # Same connection, so the same transaction as the ORM statements around them.
            driver = await _driver(session)
            by_id, by_key = await self._vehicles(session, fixes)
            resolved = [self._resolve(fix, by_id, by_key) for fix in fixes]
            valid = [item[0] for item in resolved if not isinstance(item, HubError)]
            # SQLite stores times as text: keys are compared (and stored) in that form.
            key_of = _sqlite_time if sqlite else _same
            stored = await _existing(driver, sqlite, valid) if look_up and valid else set()
            # Retries come in runs (a tracker resending its backlog): look up again next time.
            self._look_up = bool(stored)
            zones = {
                incident_id: await self._zones_of(session, incident_id)
                for incident_id in {fix.incident_id for fix in valid}
            }
            alerts: list[tuple[str, ConvoyAlertData]] = []
            moved: dict[str, tuple[str, _Vehicle]] = {}
            rows: list[tuple[Any, ...]] = []
            track = _TrackChanges()
            inserter = _Inserter(driver, sqlite)
            try:
                for item in resolved:
                    if isinstance(item, HubError):
                        outcomes.append(item)
                        continue
                    fix, vehicle = item
                    key = (fix.vehicle_id, key_of(fix.ts))
                    if key in stored:
                        outcomes.append(Outcome(duplicate=True))
                        continue
                    stored.add(key)
                    outcome = self._apply(
                        fix, vehicle, zones[fix.incident_id], alerts, moved, track
                    )
                    outcomes.append(outcome)
                    rows.append(_row(fix, outcome.flagged, key[1], key_of(fix.received_at)))
                    if len(rows) >= INSERT_CHUNK:
                        await inserter.send(rows)
                        rows = []
                if rows:
                    await inserter.send(rows)
                await inserter.wait()
            except BaseException:
                await inserter.settle()
                raise
            if inserter.inserted != inserter.sent:
                # Some fix was stored before (or by another instance meanwhile, whose commit
                # the unique index waited for): its state and alerts are wrong, so roll back.
                self._look_up = True
                if not look_up:
                    raise _StoredBefore
                # Checked, yet stored by another instance since: harmless, as it always was.
            if track.flags:
                # After the inserts: a fix whose flag changes may be in this very batch.
                await _set_flags(driver, sqlite, track.flags, key_of)
            changed = [vehicle for vehicle in by_id.values() if vehicle.changed]
            if changed:
                await _update_state(driver, sqlite, changed)
            if alerts:
                # Sequenced in this transaction: they commit with the state that raised them.
                after.events = await raise_alerts(session, alerts)
        # The last position is only set by the vehicle's newest accepted fix, so reading it
        # once per vehicle here is what reading it after each of those fixes would keep.
        for incident_id, vehicle in moved.values():
            position = position_public(vehicle)
            assert position is not None  # it moved: its newest fix set the last position
            after.broadcast[vehicle.id] = (incident_id, position)
        return outcomes, after

    def _apply(
        self,
        fix: Fix,
        vehicle: _Vehicle,
        zones: list[Zone],
        alerts: list[tuple[str, ConvoyAlertData]],
        moved: dict[str, tuple[str, _Vehicle]],
        track: _TrackChanges,
    ) -> Outcome:
        """A new fix's effect on its vehicle: liveness, last position and alert state."""
        # Any new fix shows the tracker is alive, even an old one it catches up with.
        if not vehicle.changed:
            vehicle.changed = True
            vehicle.alert_state = dict(vehicle.alert_state or {})
        state = vehicle.alert_state
        assert state is not None
        state["silent"] = False
        if vehicle.last_received_at is None or fix.received_at > vehicle.last_received_at:
            vehicle.last_received_at = fix.received_at
        outcome = Outcome()
        track.outcomes[(vehicle.id, fix.ts)] = outcome
        if vehicle.last_ts is not None and fix.ts <= vehicle.last_ts:
            return outcome  # older: stored for the record, not broadcast nor checked
        # Newer: judged against the track (hub/convoys/jumps.py).
        last = _last_point(vehicle)
        confirmed, candidates = jumps.decode(state, last is not None)
        point = TrackPoint(fix.lat, fix.lon, fix.ts, fix.speed, fix.heading, fix.accuracy)
        verdict = jumps.judge(last, confirmed, candidates, point, self.limits)
        state["track"] = jumps.encode(verdict)
        outcome.flagged = verdict.flagged
        outcome.latest = verdict.flagged is None
        if verdict.disown is not None and last is not None:
            track.mark(vehicle.id, last.ts, verdict.disown)
        for ts in verdict.unflag:
            track.mark(vehicle.id, ts, None)
        if not verdict.accepted:
            return outcome  # flagged: stored for the record, not broadcast
        route = self._route_of(vehicle.convoy)
        for accepted in verdict.accepted:  # oldest first, this fix last
            state, raised = evaluate(
                state,
                vehicle,
                FixPoint(accepted.lat, accepted.lon, accepted.ts, accepted.speed),
                zones,
                route,
                self.settings,
            )
            alerts.extend((fix.incident_id, data) for data in raised)
            _remember(vehicle, accepted)
        vehicle.alert_state = state
        moved[vehicle.id] = (fix.incident_id, vehicle)
        return outcome

    async def _zones_of(self, session: AsyncSession, incident_id: str) -> list[Zone]:
        """Prepared perimeters of an incident, rebuilt only when one changed on any instance:
        every change (and deletion) bumps updated_at, so (count, newest) is a fingerprint."""
        perimeter = (
            col(Anchor.incident_id) == incident_id,
            col(Anchor.kind).in_([k.value for k in PERIMETER_KINDS]),
        )
        count, newest = (
            await session.execute(
                select(func.count(), func.max(col(Anchor.updated_at))).where(*perimeter)
            )
        ).one()
        fingerprint = (int(count), newest)
        cached = self._zones.get(incident_id)
        if cached is not None and cached[0] == fingerprint:
            return cached[1]
        anchors = await session.scalars(
            select(Anchor).where(*perimeter, col(Anchor.deleted_at).is_(None))
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

    def _route_of(self, convoy: _Route) -> ProjectedRoute | None:
        key = convoy.updated_at
        cached = self._routes.get(convoy.id)
        if cached is not None and cached[0] == key:
            return cached[1]
        route = ProjectedRoute(convoy.route, convoy.destination) if convoy.route else None
        if len(self._routes) > 10_000:
            self._routes.clear()
        self._routes[convoy.id] = (key, route)
        return route


def _row(fix: Fix, flagged: str | None, ts: Any, received_at: Any) -> tuple[Any, ...]:
    """A position row in _POSITION_COLUMNS order (times already in the backend's form)."""
    return (
        fix.vehicle_id,
        fix.incident_id,
        fix.lat,
        fix.lon,
        ts,
        received_at,
        fix.speed,
        fix.heading,
        fix.accuracy,
        flagged is not None,
        flagged,
    )


def _same(value: datetime) -> datetime:
    return value


def _sqlite_time(value: datetime) -> str:
    """A time as SQLAlchemy's SQLite DateTime stores it ('2026-11-24 10:00:00.000000', the
    wall time, no zone): the unique (vehicle, ts) index compares this text, so rows written
    here and by the ORM must agree to the character."""
    return value.isoformat(" ", "microseconds")[:26]


async def _driver(session: AsyncSession) -> Any:
    """The session's own driver connection (aiosqlite or asyncpg), inside its transaction.

    Callers use it only after an ORM statement (the vehicle look-up) has run in the
    transaction: SQLAlchemy begins asyncpg's transaction lazily, at the first statement."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    return raw.driver_connection


_POSITION_COLUMNS = (
    "vehicle_id",
    "incident_id",
    "lat",
    "lon",
    "ts",
    "received_at",
    "speed",
    "heading",
    "accuracy",
    "flagged",
    "flag_reason",
)
_POSITION_PG_TYPES = (
    "varchar",
    "varchar",
    "float8",
    "float8",
    "timestamptz",
    "timestamptz",
    "float8",
    "float8",
    "float8",
    "bool",
    "varchar",
)
_STATE_PG_TYPES = (
    "float8",
    "float8",
    "timestamptz",
    "float8",
    "float8",
    "float8",
    "timestamptz",
    "text",  # alert_state as JSON text, cast to jsonb in the statement
)
# Two instances may store the same retried fix at once: the unique (vehicle, ts) index
# makes the second a no-op instead of failing the whole batch.
_INSERT_SQLITE = (
    f'INSERT INTO "position" ({", ".join(_POSITION_COLUMNS)}) '
    f"VALUES ({', '.join('?' for _ in _POSITION_COLUMNS)}) "
    "ON CONFLICT (vehicle_id, ts) DO NOTHING"
)
# One statement of column arrays: no per-row round trip or statement, whatever the batch size.
_INSERT_PG = (
    f'INSERT INTO "position" ({", ".join(_POSITION_COLUMNS)}) '
    "SELECT * FROM unnest("
    + ", ".join(f"${i}::{kind}[]" for i, kind in enumerate(_POSITION_PG_TYPES, 1))
    + ") ON CONFLICT (vehicle_id, ts) DO NOTHING"
)
_UPDATE_SQLITE = (
    f"UPDATE vehicle SET {', '.join(f'{name} = ?' for name in _STATE_COLUMNS)} WHERE id = ?"
)
_UPDATE_PG = (
    "UPDATE vehicle SET "
    + ", ".join(
        f"{name} = u.{name}::jsonb" if name == "alert_state" else f"{name} = u.{name}"
        for name in _STATE_COLUMNS
    )
    + " FROM unnest($1::varchar[], "
    + ", ".join(f"${i}::{kind}[]" for i, kind in enumerate(_STATE_PG_TYPES, 2))
    + f") AS u(id, {', '.join(_STATE_COLUMNS)}) WHERE vehicle.id = u.id"
)
# Exact (vehicle, ts) pairs through the unique index: an IN list of vehicles times an IN list
# of times would probe every combination, and a batch of real fixes has as many distinct
# times as fixes.
_EXISTING_SQLITE = (
    'SELECT p.vehicle_id, p.ts FROM json_each(?) AS f JOIN "position" AS p'
    " ON p.vehicle_id = json_extract(f.value, '$[0]') AND p.ts = json_extract(f.value, '$[1]')"
)
_EXISTING_PG = (
    "SELECT p.vehicle_id, p.ts FROM unnest($1::varchar[], $2::timestamptz[]) AS f(vehicle_id, ts)"
    ' JOIN "position" AS p ON p.vehicle_id = f.vehicle_id AND p.ts = f.ts'
)


async def _existing(driver: Any, sqlite: bool, fixes: list[Fix]) -> set[tuple[str, Any]]:
    """(vehicle, ts) pairs already stored: retries and duplicate sends. Times are SQLite's
    text on SQLite and aware datetimes on PostgreSQL."""
    if sqlite:
        pairs = json.dumps([(f.vehicle_id, _sqlite_time(f.ts)) for f in fixes])
        rows = await driver.execute_fetchall(_EXISTING_SQLITE, (pairs,))
    else:
        rows = await driver.fetch(
            _EXISTING_PG, [f.vehicle_id for f in fixes], [f.ts for f in fixes]
        )
    return {(vehicle_id, ts) for vehicle_id, ts in rows}


async def _insert(driver: Any, sqlite: bool, rows: list[tuple[Any, ...]]) -> int:
    """Rows actually inserted (not already there)."""
    if sqlite:
        cursor = await driver.executemany(_INSERT_SQLITE, rows)
        return int(cursor.rowcount)
    status = await driver.execute(_INSERT_PG, *(list(column) for column in zip(*rows, strict=True)))
    return int(status.rsplit(" ", 1)[1])  # "INSERT 0 <rows>"


class _Inserter:
    """Stores a batch's rows a chunk at a time while Python prepares the next chunk: the
    database (PostgreSQL's own process, or aiosqlite's thread, which releases the GIL while
    SQLite works) inserts in parallel with the alert rules instead of after them."""

    def __init__(self, driver: Any, sqlite: bool) -> None:
        self._driver = driver
        self._sqlite = sqlite
        self._task: asyncio.Task[int] | None = None
        self.sent = 0
        self.inserted = 0  # rows the unique index let in

    async def send(self, rows: list[tuple[Any, ...]]) -> None:
        await self.wait()  # one statement at a time on a connection
        self.sent += len(rows)
        self._task = asyncio.get_running_loop().create_task(
            _insert(self._driver, self._sqlite, rows)
        )
        # One turn of the loop puts the statement on the wire (or in aiosqlite's queue)
        # before the caller goes back to CPU-bound work that does not yield.
        await asyncio.sleep(0)

    async def wait(self) -> None:
        """Raises what the chunk in flight raised, if anything."""
        task, self._task = self._task, None
        if task is not None:
            self.inserted += await task

    async def settle(self) -> None:
        """On failure: let the chunk in flight end before the transaction rolls back on the
        same connection (its own error is superseded by the one being raised)."""
        task, self._task = self._task, None
        if task is not None:
            await asyncio.gather(task, return_exceptions=True)


_FLAG_SQLITE = 'UPDATE "position" SET flagged = ?, flag_reason = ? WHERE vehicle_id = ? AND ts = ?'
_FLAG_PG = (
    'UPDATE "position" AS p SET flagged = u.reason IS NOT NULL, flag_reason = u.reason'
    " FROM unnest($1::varchar[], $2::timestamptz[], $3::varchar[]) AS u(vehicle_id, ts, reason)"
    " WHERE p.vehicle_id = u.vehicle_id AND p.ts = u.ts"
)


async def _set_flags(
    driver: Any,
    sqlite: bool,
    flags: dict[tuple[str, datetime], str | None],
    key_of: Callable[[datetime], Any],
) -> None:
    """Flags (a reason) or un-flags (None) stored fixes by (vehicle, ts), in one statement."""
    items = list(flags.items())
    if sqlite:
        await driver.executemany(
            _FLAG_SQLITE,
            [(reason is not None, reason, v, key_of(ts)) for (v, ts), reason in items],
        )
        return
    await driver.execute(
        _FLAG_PG,
        [v for (v, _), _ in items],
        [ts for (_, ts), _ in items],
        [reason for _, reason in items],
    )


async def _update_state(driver: Any, sqlite: bool, vehicles: list[_Vehicle]) -> None:
    """Each moved vehicle's last position and alert state, in one statement."""
    if sqlite:
        await driver.executemany(
            _UPDATE_SQLITE,
            [
                (
                    v.last_lat,
                    v.last_lon,
                    None if v.last_ts is None else _sqlite_time(v.last_ts),
                    v.last_speed,
                    v.last_heading,
                    v.last_accuracy,
                    None if v.last_received_at is None else _sqlite_time(v.last_received_at),
                    json.dumps(v.alert_state),
                    v.id,
                )
                for v in vehicles
            ],
        )
        return
    await driver.execute(
        _UPDATE_PG,
        [v.id for v in vehicles],
        [v.last_lat for v in vehicles],
        [v.last_lon for v in vehicles],
        [v.last_ts for v in vehicles],
        [v.last_speed for v in vehicles],
        [v.last_heading for v in vehicles],
        [v.last_accuracy for v in vehicles],
        [v.last_received_at for v in vehicles],
        [json.dumps(v.alert_state) for v in vehicles],
    )


def _last_point(vehicle: _Vehicle) -> TrackPoint | None:
    if vehicle.last_ts is None or vehicle.last_lat is None or vehicle.last_lon is None:
        return None
    return TrackPoint(
        vehicle.last_lat,
        vehicle.last_lon,
        vehicle.last_ts,
        vehicle.last_speed,
        vehicle.last_heading,
        vehicle.last_accuracy,
    )


def _remember(vehicle: _Vehicle, fix: TrackPoint) -> None:
    vehicle.last_lat = fix.lat
    vehicle.last_lon = fix.lon
    vehicle.last_ts = fix.ts
    vehicle.last_speed = fix.speed
    vehicle.last_heading = fix.heading
    vehicle.last_accuracy = fix.accuracy
