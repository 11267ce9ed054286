"""Convoys of an incident (the GeoTool side): convoys, vehicles and their device keys, trails.

Changes to a convoy (created, new route, new vehicle) are sequenced `convoy.updated` events
whose data is the convoy as in a snapshot, so a joined client never holds a stale route.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any, Protocol

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from hub.access import require_manager, require_role
from hub.actions.incidents import SYSTEM_ACTOR
from hub.auth import Principal, token_digest
from hub.context import Hub
from hub.errors import HubError, from_validation
from hub.eventlog import log_event, take_seq
from models import Convoy, Incident, Position, Role, Vehicle
from models.base import iso, utcnow
from models.convoy import TAK_UID_CHARS
from models.convoy_shapes import ConvoyCreateIn, ConvoyUpdateIn, VehicleCreateIn, VehicleUpdateIn
from models.events import ConvoyPublic, EventPublic, PositionPublic, VehiclePublic

DEVICE_KEY_BYTES = 18  # 24 URL-safe characters: 144 random bits


def new_device_key() -> str:
    return secrets.token_urlsafe(DEVICE_KEY_BYTES)


# public shapes --------------------------------------------------------------------------------


class LastPosition(Protocol):
    """What a vehicle's last position is built from: a Vehicle row, or the convoy pipeline's
    plain copy of one (hub/convoys/pipeline.py)."""

    @property
    def id(self) -> str: ...
    @property
    def convoy_id(self) -> str: ...
    @property
    def last_lat(self) -> float | None: ...
    @property
    def last_lon(self) -> float | None: ...
    @property
    def last_ts(self) -> datetime | None: ...
    @property
    def last_speed(self) -> float | None: ...
    @property
    def last_heading(self) -> float | None: ...
    @property
    def last_accuracy(self) -> float | None: ...


def position_public(vehicle: LastPosition) -> PositionPublic | None:
    """The vehicle's last known position, as `convoy.positions` carries it."""
    # (All three are set together, by the vehicle's newest accepted fix.)
    if vehicle.last_ts is None or vehicle.last_lat is None or vehicle.last_lon is None:
        return None
    return {
        "vehicle_id": vehicle.id,
        "convoy_id": vehicle.convoy_id,
        "lat": vehicle.last_lat,
        "lon": vehicle.last_lon,
        "ts": iso(vehicle.last_ts),
        "speed": vehicle.last_speed,
        "heading": vehicle.last_heading,
        "accuracy": vehicle.last_accuracy,
    }


def vehicle_public(vehicle: Vehicle) -> VehiclePublic:
    return {
        "id": vehicle.id,
        "convoy_id": vehicle.convoy_id,
        "label": vehicle.label,
        "role": vehicle.role,
        "last_position": position_public(vehicle),
        "sidc": vehicle.sidc,
    }


def convoy_public(convoy: Convoy, vehicles: list[Vehicle]) -> ConvoyPublic:
    return {
        "id": convoy.id,
        "incident_id": convoy.incident_id,
        "name": convoy.name,
        "route": convoy.route,
        "destination": destination_of(convoy),
        "status": convoy.status,
        "vehicles": [vehicle_public(v) for v in vehicles],
    }


def destination_of(convoy: Convoy) -> dict[str, Any] | None:
    if convoy.destination is not None:
        return convoy.destination
    if convoy.route is not None:
        return {"type": "Point", "coordinates": convoy.route["coordinates"][-1]}
    return None


# reads ------------------------------------------------------------------------------------------


async def convoy_snapshot(session: AsyncSession, incident_id: str) -> list[ConvoyPublic]:
    """Every convoy with its route and the last known position of each vehicle."""
    convoys = list(
        await session.scalars(
            select(Convoy)
            .where(col(Convoy.incident_id) == incident_id)
            .order_by(col(Convoy.created_at), col(Convoy.id))
        )
    )
    vehicles = list(
        await session.scalars(
            select(Vehicle)
            .where(col(Vehicle.incident_id) == incident_id)
            .order_by(col(Vehicle.created_at), col(Vehicle.id))
        )
    )
    by_convoy: dict[str, list[Vehicle]] = {}
    for vehicle in vehicles:
        by_convoy.setdefault(vehicle.convoy_id, []).append(vehicle)
    return [convoy_public(c, by_convoy.get(c.id, [])) for c in convoys]


async def list_convoys(hub: Hub, principal: Principal, incident_id: str) -> list[ConvoyPublic]:
    async with hub.db.read() as session:
        await require_role(session, principal, incident_id, Role.VIEWER)
        return await convoy_snapshot(session, incident_id)


async def get_convoy(
    session: AsyncSession, incident_id: str, convoy_id: str
) -> tuple[Convoy, list[Vehicle]]:
    convoy = await session.get(Convoy, convoy_id)
    if convoy is None or convoy.incident_id != incident_id:
        raise HubError("not_found", "no such convoy in this incident")
    vehicles = list(
        await session.scalars(
            select(Vehicle)
            .where(col(Vehicle.convoy_id) == convoy_id)
            .order_by(col(Vehicle.created_at), col(Vehicle.id))
        )
    )
    return convoy, vehicles


async def readable_vehicle(hub: Hub, principal: Principal, vehicle_id: str) -> Vehicle:
    """The vehicle, if the caller may see its incident (not_found otherwise: no probing)."""
    async with hub.db.read() as session:
        vehicle = await session.get(Vehicle, vehicle_id)
        if vehicle is None:
            raise HubError("not_found", "no such vehicle")
        try:
            await require_role(session, principal, vehicle.incident_id, Role.VIEWER)
        except HubError as error:
            raise HubError("not_found", "no such vehicle") from error
        return vehicle


async def managed_vehicle(hub: Hub, principal: Principal, vehicle_id: str) -> Vehicle:
    """The vehicle, if the caller manages its open incident (uploads of its track)."""
    async with hub.db.read() as session:
        vehicle = await session.get(Vehicle, vehicle_id)
        if vehicle is None:
            raise HubError("not_found", "no such vehicle")
        await require_role(session, principal, vehicle.incident_id, Role.MANAGER, write=True)
        return vehicle


async def check_manager(hub: Hub, principal: Principal, incident_id: str) -> None:
    """Refuses anyone who may not change the incident's convoys: what an upload checks before
    it reads its body, so that a stranger's megabytes are never read nor parsed."""
    async with hub.db.read() as session:
        await require_manager(session, principal, incident_id)


async def track(
    session: AsyncSession,
    vehicle_ids: list[str],
    start: datetime | None = None,
    end: datetime | None = None,
    *,
    limit: int = 100_000,
) -> dict[str, list[Position]]:
    """Accepted (unflagged) fixes per vehicle, in device-time order."""
    query = select(Position).where(
        col(Position.vehicle_id).in_(vehicle_ids),
        col(Position.flagged).is_(False),
    )
    if start is not None:
        query = query.where(col(Position.ts) >= start)
    if end is not None:
        query = query.where(col(Position.ts) <= end)
    rows = await session.scalars(
        query.order_by(col(Position.vehicle_id), col(Position.ts)).limit(limit)
    )
    result: dict[str, list[Position]] = {vehicle_id: [] for vehicle_id in vehicle_ids}
    for row in rows:
        result[row.vehicle_id].append(row)
    return result


def track_feature(vehicle: Vehicle, fixes: list[Position]) -> dict[str, Any]:
    """A GeoJSON Feature: the trail as a LineString, fix times beside it in properties."""
    return {
        "type": "Feature",
        "id": vehicle.id,
        "geometry": {"type": "LineString", "coordinates": [[p.lon, p.lat] for p in fixes]},
        "properties": {
            "vehicle_id": vehicle.id,
            "convoy_id": vehicle.convoy_id,
            "label": vehicle.label,
            "role": vehicle.role,
            "times": [iso(p.ts) for p in fixes],
            "speeds": [p.speed for p in fixes],
        },
    }


# writes ----------------------------------------------------------------------------------------


async def create_convoy(
    hub: Hub, principal: Principal | None, incident_id: str, payload: ConvoyCreateIn
) -> ConvoyPublic:
    try:
        async with hub.db.write() as session:
            await require_manager(session, principal, incident_id)
            seq = await take_seq(session, incident_id, open_only=True)
            convoy = Convoy(
                incident_id=incident_id,
                name=payload.name,
                route=payload.route,
                destination=payload.destination,
                status=payload.status.value,
            )
            session.add(convoy)
            public = convoy_public(convoy, [])
            event = _convoy_updated(session, principal, incident_id, seq, public)
    except IntegrityError:
        raise HubError("conflict", f"a convoy named {payload.name!r} exists") from None
    await hub.notifier.incident_event(event)
    return public


async def update_convoy(
    hub: Hub,
    principal: Principal | None,
    incident_id: str,
    convoy_id: str,
    payload: ConvoyUpdateIn,
) -> ConvoyPublic:
    changes = payload.model_dump(exclude_unset=True, exclude_none=True, mode="json")
    if not changes:
        raise HubError("invalid", "nothing to change: give route, destination or status")
    async with hub.db.write() as session:
        await require_manager(session, principal, incident_id)
        seq = await take_seq(session, incident_id, open_only=True)
        convoy, vehicles = await get_convoy(session, incident_id, convoy_id)
        for key, value in changes.items():
            setattr(convoy, key, value)
        convoy.updated_at = utcnow()  # the route caches of every instance key on this
        session.add(convoy)
        public = convoy_public(convoy, vehicles)
        event = _convoy_updated(session, principal, incident_id, seq, public)
    await hub.notifier.incident_event(event)
    return public


async def add_vehicle(
    hub: Hub,
    principal: Principal | None,
    incident_id: str,
    convoy_id: str,
    payload: VehicleCreateIn,
    *,
    tak_uid: str | None = None,
) -> tuple[VehiclePublic, str]:
    """Register a tracker; returns the vehicle and its device key, shown this once only.
    `tak_uid`: a TAK device's CoT uid (hub/tak/), unique among vehicles."""
    key = new_device_key()
    try:
        async with hub.db.write() as session:
            await require_manager(session, principal, incident_id)
            seq = await take_seq(session, incident_id, open_only=True)
            convoy, vehicles = await get_convoy(session, incident_id, convoy_id)
            vehicle = Vehicle(
                convoy_id=convoy.id,
                incident_id=incident_id,
                label=payload.label,
                role=payload.role.value,
                device_key_hash=token_digest(key),
                tak_uid=tak_uid,
                sidc=payload.sidc,
            )
            session.add(vehicle)
            public = convoy_public(convoy, [*vehicles, vehicle])
            event = _convoy_updated(session, principal, incident_id, seq, public)
    except IntegrityError:
        if tak_uid is None:
            raise
        raise HubError("conflict", f"a device with TAK uid {tak_uid!r} is registered") from None
    await hub.notifier.incident_event(event)
    return vehicle_public(vehicle), key


async def update_vehicle(
    hub: Hub,
    principal: Principal | None,
    incident_id: str,
    vehicle_id: str,
    payload: VehicleUpdateIn,
) -> VehiclePublic:
    """A manager relabels a vehicle, changes its role or sets its map symbol (SIDC, null for
    the default arrow); the convoy's `convoy.updated` tells every client."""
    changes = payload.model_dump(exclude_unset=True, mode="json")
    changes = {key: value for key, value in changes.items() if value is not None or key == "sidc"}
    if not changes:
        raise HubError("invalid", "nothing to change: give label, role or sidc")
    async with hub.db.write() as session:
        await require_manager(session, principal, incident_id)
        seq = await take_seq(session, incident_id, open_only=True)
        vehicle = await session.get(Vehicle, vehicle_id)
        if vehicle is None or vehicle.incident_id != incident_id:
            raise HubError("not_found", "no such vehicle in this incident")
        for key, value in changes.items():
            setattr(vehicle, key, value)
        session.add(vehicle)
        convoy, vehicles = await get_convoy(session, incident_id, vehicle.convoy_id)
        public = convoy_public(convoy, vehicles)
        event = _convoy_updated(session, principal, incident_id, seq, public)
    await hub.notifier.incident_event(event)
    return vehicle_public(vehicle)


async def symbol_from_tak(hub: Hub, vehicle_id: str, sidc: str) -> bool:
    """A TAK device's vehicle takes the symbol of its CoT type (hub/convoys/symbols.py) when
    it has none: a manager's choice is never overwritten. True when it was set."""
    async with hub.db.write() as session:
        vehicle = await session.get(Vehicle, vehicle_id, with_for_update=True)
        if vehicle is None or vehicle.sidc is not None:
            return False
        seq = await take_seq(session, vehicle.incident_id, open_only=True)
        vehicle.sidc = sidc
        session.add(vehicle)
        convoy, vehicles = await get_convoy(session, vehicle.incident_id, vehicle.convoy_id)
        event = _convoy_updated(
            session, None, vehicle.incident_id, seq, convoy_public(convoy, vehicles)
        )
    await hub.notifier.incident_event(event)
    return True


async def convoy_by_name(session: AsyncSession, incident_id: str, name: str) -> Convoy | None:
    convoy: Convoy | None = await session.scalar(
        select(Convoy).where(
            col(Convoy.incident_id) == incident_id,
            col(Convoy.name) == name,
        )
    )
    return convoy


async def add_device(
    hub: Hub,
    incident_id: str,
    label: str,
    convoy_name: str,
    role: str,
    tak_uid: str | None = None,
    sidc: str | None = None,
) -> tuple[VehiclePublic, str]:
    """The operator's `crisishub device add`: the convoy is made on first use. With `tak_uid`
    the device is a TAK one, named by its CoT uid (checked before anything is written)."""
    if tak_uid is not None:
        tak_uid = valid_tak_uid(tak_uid)
    try:
        # The CLI's text, checked before the convoy is made: a refused command writes nothing.
        vehicle_in = VehicleCreateIn.model_validate({"label": label, "role": role, "sidc": sidc})
    except ValidationError as error:
        raise from_validation(error) from None
    async with hub.db.read() as session:
        if await session.get(Incident, incident_id) is None:
            raise HubError("not_found", "no such incident")
        if tak_uid is not None and await session.scalar(
            select(col(Vehicle.id)).where(col(Vehicle.tak_uid) == tak_uid)
        ):
            # Before the convoy is made: a refused command writes nothing.
            raise HubError("conflict", f"a device with TAK uid {tak_uid!r} is registered")
        convoy = await convoy_by_name(session, incident_id, convoy_name)
    if convoy is None:
        convoy_id = (await create_convoy(hub, None, incident_id, ConvoyCreateIn(name=convoy_name)))[
            "id"
        ]
    else:
        convoy_id = convoy.id
    return await add_vehicle(
        hub,
        None,
        incident_id,
        convoy_id,
        vehicle_in,
        tak_uid=tak_uid,
    )


def valid_tak_uid(uid: str) -> str:
    """A CoT uid as TAK devices send it: 1 to TAK_UID_CHARS printable characters, no spaces."""
    if not 0 < len(uid) <= TAK_UID_CHARS:
        raise HubError("invalid", f"a TAK uid is 1 to {TAK_UID_CHARS} characters")
    if not uid.isprintable() or any(char.isspace() for char in uid):
        raise HubError("invalid", "a TAK uid has no spaces nor control characters")
    return uid


def _convoy_updated(
    session: AsyncSession,
    principal: Principal | None,
    incident_id: str,
    seq: int,
    public: ConvoyPublic,
) -> EventPublic:
    """The sequenced `convoy.updated` event that every convoy change logs; the operator
    (principal None) acts as the system."""
    return log_event(session, incident_id, seq, "convoy.updated", principal or SYSTEM_ACTOR, public)
