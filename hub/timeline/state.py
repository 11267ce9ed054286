"""The incident as it stood at a moment T, rebuilt from the event log (issue 15).

T becomes a seq: the highest seq whose event was logged at or before T. The state at T is the
log up to that seq, which every writer fills in order and never rewrites (hub/eventlog.py):
- anchors as their last event by then left them: one deleted later is there, with the shape
  it had; one deleted by then is not;
- the feed entries of those seqs (the feed table carries each entry's seq): a correction made
  after T is absent, and its original shows uncorrected;
- convoys and their vehicles as their last `convoy.updated` by then had them (a vehicle
  registered later is absent), each vehicle with its last accepted fix whose device time is
  at or before T. "Accepted" is today's verdict on the fix (hub/convoys/jumps.py may flag or
  un-flag a fix once later fixes are in): an evaluation wants the track as it is best known;
- the population alerts sent by then, as their last `alert.*` event by then had them.

Nothing is cached: each part is one indexed query (0011_timeline adds the two the log needed),
so a state costs the same on every instance and never goes stale.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import cast

import orjson
from sqlalchemy import Text, func, select
from sqlalchemy import cast as sql_cast
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from hub.access import require_role
from hub.actions.feed import recent_entries
from hub.auth import Principal
from hub.context import Hub
from hub.errors import HubError
from hub.public import feature_collection
from models import Event, Role
from models.base import iso, utcnow
from models.convoy import Position, Vehicle
from models.events import (
    AlertPublic,
    AnchorPublic,
    ConvoyPublic,
    ListedContact,
    PlanActivated,
    PositionPublic,
    StateAt,
)

# The event types whose data is the whole state of one thing (an anchor, a convoy, an alert):
# the last of each by the seq is that thing's state then.
ANCHOR_EVENTS = ("anchor.created", "anchor.updated", "anchor.deleted")
CONVOY_EVENTS = ("convoy.updated",)
ALERT_EVENTS = ("alert.drafted", "alert.sent", "alert.updated", "alert.cancelled")
# Listed once, never unlisted: the contacts and plans of a state at T are those events' data.
LISTING_EVENTS = ("contact.listed", "plan.activated")

# ISO 8601 text is short; anything longer is not a time, and is not parsed.
MAX_TIME_CHARS = 40
# A `+` left unencoded in a query string arrives as a space ("…T10:00:00 01:00"): read it as
# the `+` of the offset it was, rather than refusing the most common way of writing one.
_SPACED_OFFSET = re.compile(r"(.*\d) (\d\d(?::?\d\d)?)")


def parse_instant(raw: str | None, name: str) -> datetime | None:
    """An ISO 8601 time with its offset (`Z`, `+01:00`) from a query parameter; None when the
    parameter is absent. A time without an offset is refused: it could be UTC or the crisis
    room's local time, and guessing would move the state by an hour or two. So is an empty
    one (`?to=`): a bound left out by mistake must not widen the range silently."""
    if raw is None:
        return None
    if raw == "":
        raise HubError("invalid", f"{name} is empty: give a time or leave {name} out")
    if len(raw) > MAX_TIME_CHARS:
        raise HubError("invalid", f"{name} is not an ISO 8601 time")
    spaced = _SPACED_OFFSET.fullmatch(raw)
    text = f"{spaced[1]}+{spaced[2]}" if spaced else raw
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise HubError(
            "invalid", f"{name} must be an ISO 8601 time with its offset, e.g. 2026-05-01T14:30Z"
        ) from None
    if value.tzinfo is None:
        raise HubError(
            "invalid", f"{name} needs its offset (Z or +01:00): without it the time is ambiguous"
        )
    return value


async def state_at(hub: Hub, principal: Principal, incident_id: str, at: datetime) -> StateAt:
    """The snapshot of the incident as it stood at `at` (any viewer of the incident).

    Refused (`invalid`) before the incident was opened, since nothing stood then. A time
    after now is taken as now: the slider of a live incident runs up to the present, and a
    clock a little ahead of the hub's must not break it; `at` in the answer says which."""
    async with hub.db.read() as session:
        incident, _ = await require_role(session, principal, incident_id, Role.VIEWER)
        if at < incident.created_at:
            raise HubError(
                "invalid",
                f"at is before the incident was opened ({iso(incident.created_at)})",
            )
        at = min(at, utcnow())
        seq = await seq_at(session, incident_id, at)
        anchors: dict[str, AnchorPublic] = {}
        convoys: dict[str, ConvoyPublic] = {}
        alerts: dict[str, AlertPublic] = {}
        contacts: list[ListedContact] = []
        plans: list[PlanActivated] = []
        # The data as its JSON text, parsed by orjson: the JSON column's own json.loads of
        # thousands of anchor moves was most of a state's time.
        rows = await session.execute(
            select(col(Event.type), sql_cast(col(Event.data), Text))
            .where(
                col(Event.incident_id) == incident_id,
                col(Event.seq) <= seq,
                col(Event.type).in_(
                    (*ANCHOR_EVENTS, *CONVOY_EVENTS, *ALERT_EVENTS, *LISTING_EVENTS)
                ),
            )
            .order_by(col(Event.seq))
        )
        for kind, text in rows:
            data = orjson.loads(text)
            # The log holds each type's model (EVENT_DATA), as its one builder made it.
            if kind in ANCHOR_EVENTS:
                anchor = cast(AnchorPublic, data)
                if anchor.get("deleted"):
                    anchors.pop(anchor["id"], None)
                else:
                    anchors[anchor["id"]] = anchor
            elif kind in CONVOY_EVENTS:
                convoy = cast(ConvoyPublic, data)
                convoys[convoy["id"]] = convoy
            elif kind == "contact.listed":
                contacts.append(cast(ListedContact, data))
            elif kind == "plan.activated":
                plans.append(cast(PlanActivated, data))
            else:
                alert = cast(AlertPublic, data)
                alerts[alert["id"]] = alert
        fixes = await last_fixes(session, incident_id, at)
        for convoy in convoys.values():
            for vehicle in convoy["vehicles"]:
                # The event's copy is the fix known when the convoy last changed: replace it.
                fix = fixes.get(vehicle["id"])
                vehicle["last_position"] = (
                    None if fix is None else fix_public(fix, vehicle["convoy_id"])
                )
        feed = await recent_entries(
            session, incident_id, hub.settings.snapshot_feed_entries, before_seq=seq + 1
        )
    return {
        "at": iso(at),
        "seq": seq,
        "snapshot": {
            "anchors": feature_collection(list(anchors.values())),
            "feed": feed,
            "convoys": list(convoys.values()),
            # a draft is not yet anyone's business in the record of what happened
            "alerts": [a for a in alerts.values() if a["sent_at"] is not None],
            "contacts": contacts,
            "plans": plans,
        },
    }


async def seq_at(session: AsyncSession, incident_id: str, at: datetime) -> int:
    """The highest seq logged at or before `at` (0 before the first event): one range of the
    (incident_id, at, seq) index."""
    seq = await session.scalar(
        select(func.max(col(Event.seq))).where(
            col(Event.incident_id) == incident_id, col(Event.at) <= at
        )
    )
    return int(seq or 0)


async def last_fixes(session: AsyncSession, incident_id: str, at: datetime) -> dict[str, Position]:
    """Each vehicle's last accepted fix at or before `at`, by vehicle id, in one query: per
    vehicle one backward step along the (vehicle_id, ts) unique index, past flagged fixes."""
    latest = (
        select(col(Position.id))
        .where(
            col(Position.vehicle_id) == col(Vehicle.id),
            col(Position.ts) <= at,
            col(Position.flagged).is_(False),
        )
        .order_by(col(Position.ts).desc())
        .limit(1)
        .correlate(Vehicle)
        .scalar_subquery()
    )
    ids = select(latest).select_from(Vehicle).where(col(Vehicle.incident_id) == incident_id)
    rows = await session.scalars(select(Position).where(col(Position.id).in_(ids)))
    return {row.vehicle_id: row for row in rows}


def fix_public(fix: Position, convoy_id: str) -> PositionPublic:
    """A stored fix as `convoy.positions` and snapshots carry a vehicle's position."""
    return {
        "vehicle_id": fix.vehicle_id,
        "convoy_id": convoy_id,
        "lat": fix.lat,
        "lon": fix.lon,
        "ts": iso(fix.ts),
        "speed": fix.speed,
        "heading": fix.heading,
        "accuracy": fix.accuracy,
    }


def time_range(start: datetime | None, end: datetime | None) -> None:
    """Refuses a range that ends before it starts: an empty answer would hide the mistake."""
    if start is not None and end is not None and start > end:
        raise HubError("invalid", "from is after to")
