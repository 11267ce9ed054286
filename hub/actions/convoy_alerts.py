"""Convoy alerts (`convoy.alert`): what the GeoTool rules raise, sequenced like every change.

The rules (hub/convoys/rules.py) decide inside the transaction that stores a batch of fixes
(hub/convoys/pipeline.py) or marks trackers silent (hub/convoys/ingest.py): the alerts are
written in that same transaction, so they commit with the vehicle state that raised them or
not at all. The caller emits the events this returns once it has committed, as every action
does after its own commit.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from hub.eventlog import log_event, take_seq
from hub.public import actor_public
from models.events import ConvoyAlertData, EventPublic

# Who raises them: recorded in the log as the rules, not as a user.
GEOTOOL_ACTOR = actor_public("geotool", "GeoTool", "system")


async def raise_alerts(
    session: AsyncSession, alerts: Iterable[tuple[str, ConvoyAlertData]]
) -> list[EventPublic]:
    """Sequence and log (incident id, alert) pairs in the caller's transaction; returns the
    `incident.event`s to emit after its commit, in seq order per incident.

    Incident rows are locked (take_seq) in id order, so two batches, a batch and the silence
    check, or two instances, whose alerts touch the same incidents cannot deadlock; sorted()
    is stable, so each incident's alerts keep their order."""
    events = []
    for incident_id, data in sorted(alerts, key=lambda alert: alert[0]):
        seq = await take_seq(session, incident_id)
        events.append(log_event(session, incident_id, seq, "convoy.alert", GEOTOOL_ACTOR, data))
    return events
