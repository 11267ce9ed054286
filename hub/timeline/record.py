"""The whole record of an incident, read once for its exports: the typed rows that
hub/timeline/logbook.py and exports.py turn into files without touching the database.

Bounded (ExportLimits): an incident past its limit of sequenced events (or feed entries, or
track fixes) is refused with `too_large` before anything is rendered, since a logbook of more
pages than anyone reads would hold a core for a minute; the events stay readable, page by
page, over GET /api/incidents/{id}/events."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from hub.actions import convoys
from hub.actions.anchors import live_anchors
from hub.actions.evaluation import incident_points
from hub.actions.feed import recent_entries
from hub.convoys.files import Trail
from hub.errors import HubError
from hub.eventlog import events_since
from hub.public import incident_public
from models import Convoy, Incident, Position, User, Vehicle
from models.events import (
    AnchorPublic,
    EvaluationPointPublic,
    EventPublic,
    FeedEntryPublic,
    IncidentPublic,
)


@dataclass(frozen=True, slots=True)
class ExportLimits:
    """Settings.export_max_events (the events, and the feed entries) and export_max_fixes.
    The defaults: a logbook runs ~40 pages per 1,000 events, rendered in ~2 s of one core per
    1,000 on this project's 2-core machine, so 10,000 events is a 400-page book and some 20 s
    of rendering, the most that anyone reads or that is worth holding a core for; 100,000
    fixes is a summit's motorcade of 10 vehicles at a fix every 2 s for 5 hours."""

    events: int = 10_000
    fixes: int = 100_000


@dataclass(frozen=True, slots=True)
class ConvoyTrails:
    name: str
    route: dict[str, Any] | None
    trails: list[Trail]


@dataclass(frozen=True, slots=True)
class IncidentRecord:
    incident: IncidentPublic
    # Every sequenced event, by seq: the logbook's and the events.jsonl's source.
    events: list[EventPublic] = field(default_factory=list)
    # The discipline of each user who acted (events' actors carry name and organisation).
    disciplines: dict[str, str] = field(default_factory=dict)
    entries: list[FeedEntryPublic] = field(default_factory=list)
    anchors: list[AnchorPublic] = field(default_factory=list)
    points: list[EvaluationPointPublic] = field(default_factory=list)
    convoys: list[ConvoyTrails] = field(default_factory=list)


def _refuse(what: str, count: int, limit: int) -> HubError:
    return HubError(
        "too_large",
        f"this incident has {count} {what}, more than the {limit} an export holds: "
        "read its events page by page with GET /api/incidents/{id}/events",
        limit=limit,
    )


async def load_record(
    session: AsyncSession,
    incident: Incident,
    limits: ExportLimits,
    *,
    events: bool = True,
    entries: bool = False,
    anchors: bool = False,
    tracks: bool = False,
) -> IncidentRecord:
    """The parts asked for (evaluation points always: they are small and every export but the
    anchors' names them). The caller has checked the role."""
    record = IncidentRecord(incident_public(incident))
    record.points.extend(await incident_points(session, incident.id))
    if events:
        if incident.last_seq > limits.events:
            raise _refuse("events", incident.last_seq, limits.events)
        record.events.extend(await events_since(session, incident.id, 0, limits.events))
        actors = {event["actor"]["id"] for event in record.events}
        if actors:
            rows = await session.execute(
                select(col(User.id), col(User.discipline)).where(col(User.id).in_(actors))
            )
            record.disciplines.update({user_id: discipline for user_id, discipline in rows})
    if entries:
        found = await recent_entries(session, incident.id, limits.events + 1)
        if len(found) > limits.events:
            raise _refuse("feed entries", len(found), limits.events)
        record.entries.extend(found)
    if anchors:
        record.anchors.extend(await live_anchors(session, incident.id))
    if tracks:
        record.convoys.extend(await _trails(session, incident.id, limits.fixes))
    return record


async def _trails(session: AsyncSession, incident_id: str, limit: int) -> list[ConvoyTrails]:
    vehicles = list(
        await session.scalars(
            select(Vehicle)
            .where(col(Vehicle.incident_id) == incident_id)
            .order_by(col(Vehicle.created_at), col(Vehicle.id))
        )
    )
    if not vehicles:
        return []
    fixes = await session.scalar(
        select(func.count())
        .select_from(Position)
        .where(
            col(Position.vehicle_id).in_([v.id for v in vehicles]),
            col(Position.flagged).is_(False),
        )
    )
    if fixes is not None and fixes > limit:
        raise _refuse("track fixes", int(fixes), limit)
    tracks = await convoys.track(session, [v.id for v in vehicles], limit=limit)
    result = []
    for convoy in await session.scalars(
        select(Convoy)
        .where(col(Convoy.incident_id) == incident_id)
        .order_by(col(Convoy.created_at), col(Convoy.id))
    ):
        trails = [
            Trail(f"{v.label} ({v.role})", [(p.lat, p.lon, p.ts) for p in tracks[v.id]])
            for v in vehicles
            if v.convoy_id == convoy.id
        ]
        result.append(ConvoyTrails(convoy.name, convoy.route, trails))
    return result
