"""Joining an incident: a snapshot, or the events missed since a seq (design principle 2)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hub.access import require_role
from hub.actions.anchors import live_anchors
from hub.actions.contacts import incident_contacts
from hub.actions.convoys import convoy_snapshot
from hub.actions.feed import recent_entries
from hub.actions.plans import incident_plans
from hub.auth import Principal
from hub.context import Hub
from hub.eventlog import events_since
from hub.public import feature_collection, incident_with_role
from hub.realtime.replay import RecentEvents
from hub.realtime.snapshots import SharedSnapshots
from models import Role
from models.events import Snapshot


async def join_incident(
    hub: Hub,
    principal: Principal,
    incident_id: str,
    since: int | None,
    *,
    enter: Callable[[], Awaitable[bool]] | None = None,
    recent: RecentEvents | None = None,
    shared: SharedSnapshots | None = None,
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

    A snapshot comes without `online`: the caller adds it once the socket is in presence.
    """
    async with hub.db.read() as session:
        incident, role = await require_role(session, principal, incident_id, Role.VIEWER)
        if enter is not None and await enter():
            incident, role = await require_role(session, principal, incident_id, Role.VIEWER)
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
            logged = await events_since(session, incident_id, since, limit + 1)
            if len(logged) <= limit:
                # Every seq has its event and seqs commit in order, so the last event read
                # is the incident's seq as of that read.
                seq = max(seq, logged[-1]["seq"]) if logged else seq
                public["last_seq"] = seq
                return {"incident": public, "seq": seq, "events": logged}
        if enter is not None:
            # The snapshot must match its seq: read the incident again, from inside the room.
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
