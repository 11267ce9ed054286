"""The public shapes of the wire contract, built from rows (protocol.md, "Shapes")."""

from __future__ import annotations

from typing import Any

from models import Anchor, Event, FeedEntry, Incident
from models.base import iso


def incident_public(incident: Incident) -> dict[str, Any]:
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


def entry_public(entry: FeedEntry, author: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": entry.id,
        "incident_id": entry.incident_id,
        "seq": entry.seq,
        "client_id": entry.client_id,
        "author": author,
        "kind": entry.kind,
        "priority": entry.priority,
        "text": entry.text,
        "location": entry.location,
        "corrects": entry.corrects,
        "reason": entry.reason,
        "created_at": iso(entry.created_at),
    }


def anchor_public(anchor: Anchor) -> dict[str, Any]:
    public = {
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


def anchor_feature(anchor: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": anchor["id"],
        "geometry": anchor["geometry"],
        "properties": {
            **anchor["properties"],
            "kind": anchor["kind"],
            "label": anchor["label"],
            "version": anchor["version"],
            "updated_at": anchor["updated_at"],
            "updated_by": anchor["updated_by"],
        },
    }


def feature_collection(anchors: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": [anchor_feature(a) for a in anchors]}


def event_public(event: Event) -> dict[str, Any]:
    return {
        "incident_id": event.incident_id,
        "seq": event.seq,
        "type": event.type,
        "at": iso(event.at),
        "actor": event.actor,
        "data": event.data,
    }
