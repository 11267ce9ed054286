"""Joining an incident: a snapshot, or the events missed since a seq (design principle 2)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hub.access import require_role
from hub.actions.anchors import live_anchors
from hub.actions.convoys import convoy_snapshot
from hub.actions.feed import recent_entries
from hub.auth import Principal
from hub.context import Hub
from hub.eventlog import events_since
from hub.public import feature_collection, incident_public
from models import Role


async def join_incident(
    hub: Hub, principal: Principal, incident_id: str, since: int | None
) -> dict[str, Any]:
    """What a client needs to be in step with the incident.

    The socket handler enters the room *before* calling this, so nothing committed after this
    read can be missed; the client drops live events whose seq it already holds.
    """
    async with hub.db.read() as session:
        incident, role = await require_role(session, principal, incident_id, Role.VIEWER)
        public = {**incident_public(incident), "role": role.value}
        seq = incident.last_seq
        limit = hub.settings.replay_limit
        if since is not None and since <= seq and seq - since <= limit:
            events = await events_since(session, incident_id, since, limit)
            return {"incident": public, "seq": seq, "events": events}
        result: dict[str, Any] = {
            "incident": public,
            "seq": seq,
            "snapshot": await snapshot(hub, session, incident_id),
        }
        if since is not None:
            # Too far behind (or ahead of a restored database): start again from the snapshot.
            result["reset"] = True
        return result


async def snapshot(hub: Hub, session: AsyncSession, incident_id: str) -> dict[str, Any]:
    return {
        "anchors": feature_collection(await live_anchors(session, incident_id)),
        "feed": await recent_entries(session, incident_id, hub.settings.snapshot_feed_entries),
        "convoys": await convoy_snapshot(session, incident_id),
        "online": await hub.presence.online(incident_id),
    }
