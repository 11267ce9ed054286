"""The public shapes of the wire contract, built from rows (protocol.md, "Shapes").

Each shape is built in one function, here (the convoys' in hub/actions/convoys.py, the convoy
alerts' in hub/convoys/rules.py), as a dict literal of its model in models/events.py: mypy
checks every key and value, and nothing is validated or copied at run time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from hub.alerts.registrations import Audience
from models import Alert, AlertMessage, Anchor, Event, Incident
from models.base import iso
from models.events import (
    ActorPublic,
    AlertPublic,
    AnchorCollection,
    AnchorFeature,
    AnchorFeatureProperties,
    AnchorPublic,
    AudienceCounts,
    AuthorPublic,
    ChannelProgress,
    ConvoyPositions,
    EventPublic,
    FeedEntryPublic,
    IncidentLeft,
    IncidentPublic,
    IncidentWithRole,
    OnlineUser,
    PositionPublic,
    PresencePayload,
)


def actor_public(user_id: str, name: str, organisation: str) -> ActorPublic:
    return {"id": user_id, "name": name, "organisation": organisation}


def author_public(user_id: str, name: str, organisation: str, discipline: str) -> AuthorPublic:
    return {"id": user_id, "name": name, "organisation": organisation, "discipline": discipline}


def incident_public(incident: Incident) -> IncidentPublic:
    return {
        "id": incident.id,
        "title": incident.title,
        "kind": incident.kind,
        "phase": incident.phase,
        "status": incident.status,
        "created_at": iso(incident.created_at),
        "closed_at": iso(incident.closed_at),
        "last_seq": incident.last_seq,
    }


def incident_with_role(incident: Incident, role: str) -> IncidentWithRole:
    return {**incident_public(incident), "role": role}


def entry_public(entry: Mapping[str, Any], author: AuthorPublic) -> FeedEntryPublic:
    """A feed entry from its row: a FeedEntry's columns, as read (hub/actions/feed.py) or
    about to be inserted (a new post)."""
    return {
        "id": entry["id"],
        "incident_id": entry["incident_id"],
        "seq": entry["seq"],
        "client_id": entry["client_id"],
        "author": author,
        "kind": entry["kind"],
        "priority": entry["priority"],
        "text": entry["text"],
        "location": entry["location"],
        "corrects": entry["corrects"],
        "reason": entry["reason"],
        "created_at": iso(entry["created_at"]),
        "written_at": iso(entry.get("written_at")),
    }


def anchor_public(anchor: Anchor) -> AnchorPublic:
    public: AnchorPublic = {
        "id": anchor.id,
        "incident_id": anchor.incident_id,
        "client_id": anchor.client_id,
        "kind": anchor.kind,
        "label": anchor.label,
        "geometry": anchor.geometry,
        "properties": anchor.properties or {},
        "version": anchor.version,
        "updated_at": iso(anchor.updated_at),
        "updated_by": anchor.updated_by,
    }
    if anchor.deleted_at is not None:
        public["deleted"] = True
    return public


def anchor_feature(anchor: AnchorPublic) -> AnchorFeature:
    # The anchor's own properties under ours: a shape with extra keys, which mypy cannot check.
    properties = {
        **anchor["properties"],
        "kind": anchor["kind"],
        "label": anchor["label"],
        "version": anchor["version"],
        "updated_at": anchor["updated_at"],
        "updated_by": anchor["updated_by"],
    }
    return {
        "type": "Feature",
        "id": anchor["id"],
        "geometry": anchor["geometry"],
        "properties": cast(AnchorFeatureProperties, properties),
    }


def feature_collection(anchors: list[AnchorPublic]) -> AnchorCollection:
    return {"type": "FeatureCollection", "features": [anchor_feature(a) for a in anchors]}


def envelope(
    incident_id: str,
    seq: int,
    kind: str,
    at: datetime,
    actor: ActorPublic,
    data: Mapping[str, Any],
) -> EventPublic:
    """An `incident.event`, live (hub/eventlog.py, the feed's batches) or from the log."""
    return {
        "incident_id": incident_id,
        "seq": seq,
        "type": kind,
        "at": iso(at),
        "actor": actor,
        "data": data,
    }


def event_public(event: Event) -> EventPublic:
    # The log holds what the producers wrote: its actor column is an ActorPublic.
    actor = cast(ActorPublic, event.actor)
    return envelope(event.incident_id, event.seq, event.type, event.at, actor, event.data)


def presence_payload(incident_id: str, online: list[OnlineUser]) -> PresencePayload:
    return {"incident_id": incident_id, "online": online}


def incident_left(incident_id: str) -> IncidentLeft:
    return {"incident_id": incident_id, "reason": "removed"}


def convoy_positions(incident_id: str, positions: list[PositionPublic]) -> ConvoyPositions:
    return {"incident_id": incident_id, "positions": positions}


def audience_counts(counted: Audience) -> AudienceCounts:
    return {
        "registrations": counted.registrations,
        "by_channel": dict(counted.by_channel),
        "by_language": dict(counted.by_language),
    }


def alert_public(
    alert: Alert,
    messages: Sequence[AlertMessage],
    progress: Mapping[str, ChannelProgress] | None = None,
) -> AlertPublic:
    """`progress`: hub/alerts/progress.py `progress_of` of the alert (none before sending)."""
    return {
        "id": alert.id,
        "incident_id": alert.incident_id,
        "version": alert.version,
        "state": alert.state,
        "cap_status": alert.cap_status,
        "area": {
            "anchor_ids": list(alert.anchor_ids),
            "labels": list(alert.area_labels),
            "geometry": alert.geometry,
            "polygons": alert.polygons,
            "circles": [
                {"lat": c["lat"], "lon": c["lon"], "radius_m": c["radius_m"]} for c in alert.circles
            ],
        },
        "channels": list(alert.channels),
        "info": {
            language: {
                "headline": text["headline"],
                "description": text["description"],
                "instruction": text["instruction"],
            }
            for language, text in alert.info.items()
        },
        "event": alert.event,
        "category": alert.category,
        "urgency": alert.urgency,
        "severity": alert.severity,
        "certainty": alert.certainty,
        "expires": iso(alert.expires),
        "created_by": alert.created_by,
        "created_at": iso(alert.created_at),
        "sent_by": alert.sent_by,
        "sent_at": iso(alert.sent_at),
        "messages": [
            {"identifier": m.identifier, "msg_type": m.msg_type, "sent": iso(m.sent)}
            for m in messages
        ],
        "estimate": {
            "registrations": alert.estimate["registrations"],
            "by_channel": dict(alert.estimate["by_channel"]),
            "by_language": dict(alert.estimate["by_language"]),
        },
        "progress": {
            channel: ChannelProgress(**counts) for channel, counts in (progress or {}).items()
        },
    }
