"""Create, move/reshape and delete anchors, with optimistic versions.

What a person does to an anchor (create it, move or reshape it, delete it) is also written to
the feed, in the same transaction, as an `info` entry by that person: the map's changes are
then seen and kept where the cell reads, not only on the map. Its text is the canonical
"Anchor created|moved|deleted: LABEL (KIND)" (the page shows it in its reader's language) and
its location the anchor's place. A plan's activation creates its anchors with `add_anchor`
alone and records one decision for all of them instead (hub/actions/plans.py)."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from shapely.geometry import shape
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from hub.access import require_role
from hub.actions.feed import add_entry
from hub.auth import Principal
from hub.context import Hub
from hub.errors import HubError
from hub.eventlog import log_event, take_seq
from hub.public import anchor_public
from models import Anchor, AnchorKind, EntryKind, Priority, Role
from models.base import utcnow
from models.events import AnchorPublic, EventPublic
from models.shapes import AnchorCreateIn, AnchorDeleteIn, AnchorUpdateIn, FeedPostIn
from models.weather import WeatherError, check_weather

# The feed entry of an anchor's change has a client_id made from the anchor and its version,
# so that it is written once whatever happens (uuid5 in a namespace of its own).
TRACE_NAMESPACE = uuid.UUID("5b0c6f52-8f0e-4d3c-9a57-2f1de4b6a0c1")
Change = Literal["created", "moved", "deleted"]


async def create_anchor(hub: Hub, principal: Principal, payload: AnchorCreateIn) -> AnchorPublic:
    hub.check_rate(principal.user_id)
    try:
        async with hub.db.write() as session:
            await require_role(
                session, principal, payload.incident_id, Role.CONTRIBUTOR, write=True
            )
            public, event = await add_anchor(session, principal, payload)
            trace = None if event is None else await _trace(session, principal, public, "created")
    except IntegrityError:
        async with hub.db.read() as session:
            earlier = await _by_client_id(session, payload.incident_id, payload.client_id)
        if earlier is None:
            raise
        return anchor_public(earlier)
    if event is not None:
        await hub.notifier.incident_event(event)
    if trace is not None:
        await hub.notifier.incident_event(trace)
    return public


async def _trace(
    session: AsyncSession, principal: Principal, anchor: AnchorPublic, change: Change
) -> EventPublic | None:
    """The feed entry saying who created, moved or deleted `anchor` (as it is now), where."""
    centre = shape(anchor["geometry"]).representative_point()
    entry = FeedPostIn(
        incident_id=anchor["incident_id"],
        client_id=str(uuid.uuid5(TRACE_NAMESPACE, f"{anchor['id']}:{anchor['version']}")),
        kind=EntryKind.INFO,
        priority=Priority.NORMAL,
        text=f"Anchor {change}: {anchor['label']} ({anchor['kind']})",
        location={"type": "Point", "coordinates": [round(centre.x, 6), round(centre.y, 6)]},
    )
    _, event = await add_entry(session, principal, entry)
    return event


async def add_anchor(
    session: AsyncSession, principal: Principal, payload: AnchorCreateIn
) -> tuple[AnchorPublic, EventPublic | None]:
    """Creates an anchor inside the caller's transaction (the socket and REST create, a plan's
    activation): takes the incident's next seq and logs `anchor.created`. The caller checks
    the role, commits, then emits the event. An anchor whose `client_id` is already taken is
    answered as it is, with no event, so a retry or a second activation creates nothing."""
    earlier = await _by_client_id(session, payload.incident_id, payload.client_id)
    if earlier is not None:
        return anchor_public(earlier), None
    seq = await take_seq(session, payload.incident_id, open_only=True)
    anchor = Anchor(
        incident_id=payload.incident_id,
        client_id=payload.client_id,
        kind=payload.kind,
        label=payload.label,
        geometry=payload.geometry,
        properties=payload.properties,
        updated_by=principal.user_id,
    )
    session.add(anchor)
    public = anchor_public(anchor)
    event = log_event(session, payload.incident_id, seq, "anchor.created", principal, public)
    return public, event


async def _by_client_id(session: AsyncSession, incident_id: str, client_id: str) -> Anchor | None:
    anchor: Anchor | None = await session.scalar(
        select(Anchor).where(
            col(Anchor.incident_id) == incident_id, col(Anchor.client_id) == client_id
        )
    )
    return anchor


async def update_anchor(hub: Hub, principal: Principal, payload: AnchorUpdateIn) -> AnchorPublic:
    changes = payload.model_dump(include={"label", "geometry", "properties"}, exclude_unset=True)
    changes = {key: value for key, value in changes.items() if value is not None}
    if not changes:
        raise HubError("invalid", "nothing to change: give label, geometry or properties")
    return await _change(
        hub,
        principal,
        payload.incident_id,
        payload.anchor_id,
        payload.version,
        changes,
        deleted=False,
    )


async def delete_anchor(hub: Hub, principal: Principal, payload: AnchorDeleteIn) -> AnchorPublic:
    return await _change(
        hub, principal, payload.incident_id, payload.anchor_id, payload.version, {}, deleted=True
    )


async def _change(
    hub: Hub,
    principal: Principal,
    incident_id: str,
    anchor_id: str,
    version: int,
    changes: dict[str, Any],
    *,
    deleted: bool,
) -> AnchorPublic:
    hub.check_rate(principal.user_id)
    async with hub.db.write() as session:
        await require_role(session, principal, incident_id, Role.CONTRIBUTOR, write=True)
        # take_seq first: its row lock orders concurrent edits of this incident, so the version
        # read below is the committed one and exactly one of two racing edits wins.
        seq = await take_seq(session, incident_id, open_only=True)
        anchor = await session.scalar(
            select(Anchor)
            .where(col(Anchor.id) == anchor_id, col(Anchor.incident_id) == incident_id)
            .with_for_update()
        )
        if anchor is None or anchor.deleted_at is not None:
            raise HubError("not_found", "no such anchor in this incident")
        if anchor.version != version:
            raise HubError(
                "conflict",
                f"the anchor is at version {anchor.version}, not {version}: "
                "review its current state and apply your change again",
                anchor=anchor_public(anchor),
            )
        if anchor.kind == AnchorKind.WEATHER and not deleted:
            _check_weather(
                changes.get("geometry", anchor.geometry),
                changes.get("properties", anchor.properties),
            )
        moved = "geometry" in changes and changes["geometry"] != anchor.geometry
        for key, value in changes.items():
            setattr(anchor, key, value)
        now = utcnow()
        anchor.version += 1
        anchor.updated_at = now
        anchor.updated_by = principal.user_id
        if deleted:
            anchor.deleted_at = now
        session.add(anchor)
        public = anchor_public(anchor)
        event = log_event(
            session,
            incident_id,
            seq,
            "anchor.deleted" if deleted else "anchor.updated",
            principal,
            public,
        )
        trace = None
        if deleted or moved:
            trace = await _trace(session, principal, public, "deleted" if deleted else "moved")
    await hub.notifier.incident_event(event)
    if trace is not None:
        await hub.notifier.incident_event(trace)
    return public


def _check_weather(geometry: dict[str, Any], properties: dict[str, Any]) -> None:
    """A weather anchor's new shape and properties, as its creation checks them (the update's
    shape cannot: it does not know the anchor's kind)."""
    try:
        check_weather(geometry, properties)
    except WeatherError as error:
        raise HubError("invalid", str(error)) from None


async def list_anchors(hub: Hub, principal: Principal, incident_id: str) -> list[AnchorPublic]:
    async with hub.db.read() as session:
        await require_role(session, principal, incident_id, Role.VIEWER)
        return await live_anchors(session, incident_id)


async def live_anchors(session: Any, incident_id: str) -> list[AnchorPublic]:
    rows = await session.scalars(
        select(Anchor)
        .where(col(Anchor.incident_id) == incident_id, col(Anchor.deleted_at).is_(None))
        .order_by(col(Anchor.created_at))
    )
    return [anchor_public(row) for row in rows]
