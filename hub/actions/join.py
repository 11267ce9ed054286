"""Joining an incident: a snapshot, or the events missed since a seq (design principle 2)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hub.access import (
    MAX_ROLES_PER_READ,
    check_role,
    incidents_by_id,
    require_role,
    roles_of,
)
from hub.actions.anchors import live_anchors
from hub.actions.contacts import incident_contacts
from hub.actions.convoys import convoy_snapshot
from hub.actions.feed import recent_entries
from hub.actions.plans import incident_plans
from hub.auth import Principal
from hub.batched import BatchedReads
from hub.context import Hub
from hub.db import Database
from hub.errors import HubError
from hub.eventlog import MAX_REPLAYS_PER_READ, events_since, events_since_many
from hub.public import feature_collection, incident_with_role
from hub.realtime.replay import RecentEvents
from hub.realtime.snapshots import SharedSnapshots
from models import Incident, Role
from models.events import EventPublic, Snapshot


class JoinReads:
    """The reads of the joins in flight, batched (hub/batched.py): the role check, the
    incident read again from inside the room, and a `since` replay from the database (after a
    restart the replay ring is empty, and each of thousands of rejoins read its own). Each is
    a query begun after its join asked, as join_incident's own reads are."""

    def __init__(self, db: Database) -> None:
        self.roles = BatchedReads(db, roles_of, MAX_ROLES_PER_READ)
        self.incidents = BatchedReads(db, incidents_by_id, MAX_ROLES_PER_READ)
        self.replays = BatchedReads(db, events_since_many, MAX_REPLAYS_PER_READ)

    async def role(self, principal: Principal, incident_id: str) -> tuple[Incident, Role]:
        """require_role(…, Role.VIEWER)'s answer, or its refusal."""
        found = await self.roles.read((principal.user_id, incident_id))
        if found is None:
            raise HubError("not_found", "no such incident")
        incident, role_name = found
        return incident, check_role(role_name, incident.status, Role.VIEWER)

    async def incident(self, incident_id: str) -> Incident:
        incident = await self.incidents.read(incident_id)
        if incident is None:
            raise HubError("not_found", "no such incident")
        return incident

    async def events_since(self, incident_id: str, since: int, limit: int) -> list[EventPublic]:
        return await self.replays.read((incident_id, since, limit)) or []


async def join_incident(
    hub: Hub,
    principal: Principal,
    incident_id: str,
    since: int | None,
    *,
    enter: Callable[[], Awaitable[bool]] | None = None,
    recent: RecentEvents | None = None,
    shared: SharedSnapshots | None = None,
    reads: JoinReads | None = None,
) -> dict[str, Any]:
    """What a client needs to be in step with the incident.

    `enter` (the socket handler's) puts the socket in the incident's room between the role
    check and the reads: after the check, so a non-member never receives a live event;
    before the reads, so nothing committed after them can be missed (the client drops live
    events whose seq it already holds). It returns True when a member was removed meanwhile,
    and the role is checked again.

    `recent` (this instance's ring of delivered events, hub/realtime/replay.py) answers a
    `since` replay without the database when the socket is in the room and the ring holds
    every seq from since + 1 up to exactly the seq read under the role check.

    `shared` (the socket handlers') lets joiners of one incident at one seq share one read of
    its snapshot (hub/realtime/snapshots.py): a reconnect storm reads each incident once.

    `reads` (the socket handlers') batches the role check, the incident's second read and a
    replay from the database with those of the other joins in flight.

    A snapshot comes without `online`: the caller adds it once the socket is in presence.
    """
    async with hub.db.read() as session:

        async def checked() -> tuple[Incident, Role]:
            if reads is not None:
                return await reads.role(principal, incident_id)
            return await require_role(session, principal, incident_id, Role.VIEWER)

        incident, role = await checked()
        if enter is not None and await enter():
            incident, role = await checked()
        public = incident_with_role(incident, role.value)
        seq = incident.last_seq
        limit = hub.settings.replay_limit
        if since is not None and since <= seq and seq - since <= limit:
            if enter is not None and recent is not None:
                # After the room entry: whatever was delivered before it is in the ring, what
                # was not reaches the socket live.
                events = recent.since(incident_id, since, seq)
                if events is not None and len(events) <= limit:
                    return {"incident": public, "seq": seq, "events": events}
            # One more than the limit: events committed since the check above may have
            # taken the client past it, and then it needs the snapshot.
            if reads is not None:
                logged = await reads.events_since(incident_id, since, limit + 1)
            else:
                logged = await events_since(session, incident_id, since, limit + 1)
            if len(logged) <= limit:
                # Every seq has its event and seqs commit in order, so the last event read
                # is the incident's seq as of that read.
                seq = max(seq, logged[-1]["seq"]) if logged else seq
                public["last_seq"] = seq
                return {"incident": public, "seq": seq, "events": logged}
        if enter is not None:
            # The snapshot must match its seq: read the incident again, from inside the room.
            if reads is not None:
                incident = await reads.incident(incident_id)
            else:
                await session.refresh(incident)
            public = incident_with_role(incident, role.value)
            seq = incident.last_seq
        if shared is not None:
            state = await shared.get(incident_id, seq, lambda: snapshot(hub, session, incident_id))
        else:
            state = await snapshot(hub, session, incident_id)
        result: dict[str, Any] = {"incident": public, "seq": seq, "snapshot": state}
        if since is not None:
            # Too far behind (or ahead of a restored database): start again from the snapshot.
            result["reset"] = True
        return result


async def snapshot(hub: Hub, session: AsyncSession, incident_id: str) -> Snapshot:
    return {
        "anchors": feature_collection(await live_anchors(session, incident_id)),
        "feed": await recent_entries(session, incident_id, hub.settings.snapshot_feed_entries),
        "convoys": await convoy_snapshot(session, incident_id),
        "contacts": await incident_contacts(session, incident_id),
        "plans": await incident_plans(session, incident_id),
        # no "online": read here, before the joining socket is counted, it was always read
        # again by the socket handler (hub/realtime/handlers.py), which adds it
    }
