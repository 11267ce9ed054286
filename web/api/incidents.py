"""Incidents, their members and their durable event log."""

from __future__ import annotations

import logging
from typing import Any

from starlette.requests import Request

from hub.access import require_role
from hub.actions import incidents
from hub.auth import Principal
from hub.eventlog import events_since
from hub.timeline.state import parse_instant, time_range
from models import IncidentKind, Phase, Role, Status
from models.responses import (
    EventsPage,
    IncidentOut,
    IncidentsOut,
    IncidentWithRoleOut,
    MemberAddedOut,
    MemberRemovedOut,
    MembersOut,
)
from models.shapes import (
    IncidentCreateIn,
    IncidentUpdateIn,
    MemberIn,
)
from web.api.endpoint import INCIDENT, Endpoint
from web.api.timeline import TIME
from web.http import hub_of, query_int, read_json
from web.openapi import enum_of, integer

log = logging.getLogger(__name__)


async def list_incidents(request: Request, principal: Principal) -> Any:
    params = request.query_params
    return {
        "incidents": await incidents.list_incidents(
            hub_of(request),
            principal,
            status=params.get("status"),
            kind=params.get("kind"),
            phase=params.get("phase"),
        )
    }


async def create_incident(request: Request, principal: Principal) -> Any:
    payload = await read_json(request, IncidentCreateIn)
    return {"incident": await incidents.create_incident(hub_of(request), principal, payload)}


async def get_incident(request: Request, principal: Principal) -> Any:
    incident_id = request.path_params["incident_id"]
    return {"incident": await incidents.get_incident(hub_of(request), principal, incident_id)}


async def update_incident(request: Request, principal: Principal) -> Any:
    payload = await read_json(request, IncidentUpdateIn)
    incident_id = request.path_params["incident_id"]
    return {
        "incident": await incidents.update_incident(
            hub_of(request), principal, incident_id, payload
        )
    }


async def list_members(request: Request, principal: Principal) -> Any:
    incident_id = request.path_params["incident_id"]
    return {"members": await incidents.list_members(hub_of(request), principal, incident_id)}


async def set_member(request: Request, principal: Principal) -> Any:
    payload = await read_json(request, MemberIn)
    incident_id = request.path_params["incident_id"]
    return {"member": await incidents.set_member(hub_of(request), principal, incident_id, payload)}


async def remove_member(request: Request, principal: Principal) -> Any:
    params = request.path_params
    return {
        "member": await incidents.remove_member(
            hub_of(request), principal, params["incident_id"], params["username"]
        )
    }


async def list_events(request: Request, principal: Principal) -> Any:
    hub = hub_of(request)
    incident_id = request.path_params["incident_id"]
    since = query_int(request, "since", 0, 0, 2**62) or 0
    limit = query_int(request, "limit", 1000, 1, 1000) or 1000
    params = request.query_params
    start, end = parse_instant(params.get("from"), "from"), parse_instant(params.get("to"), "to")
    time_range(start, end)
    async with hub.db.read() as session:
        incident, _ = await require_role(session, principal, incident_id, Role.VIEWER)
        events = await events_since(session, incident_id, since, limit, start=start, end=end)
    return {"seq": incident.last_seq, "events": events}


ENDPOINTS: list[Endpoint] = [
    Endpoint(
        "GET",
        "/api/incidents",
        "Incidents the caller is a member of",
        list_incidents,
        response=IncidentsOut,
        query={
            "status": ("only incidents in this status", enum_of(Status)),
            "kind": ("only incidents of this kind", enum_of(IncidentKind)),
            "phase": ("only incidents in this phase", enum_of(Phase)),
        },
    ),
    Endpoint(
        "POST",
        "/api/incidents",
        "Open an incident (the caller becomes its manager)",
        create_incident,
        IncidentCreateIn,
        IncidentOut,
        status=201,
    ),
    Endpoint(
        "GET",
        INCIDENT,
        "One incident, with the caller's role",
        get_incident,
        response=IncidentWithRoleOut,
    ),
    Endpoint(
        "PATCH",
        INCIDENT,
        "Change title, phase or status (manager)",
        update_incident,
        IncidentUpdateIn,
        IncidentOut,
    ),
    Endpoint(
        "GET",
        INCIDENT + "/members",
        "Members and their roles",
        list_members,
        response=MembersOut,
    ),
    Endpoint(
        "POST",
        INCIDENT + "/members",
        "Add a member or change a role (manager)",
        set_member,
        MemberIn,
        MemberAddedOut,
    ),
    Endpoint(
        "DELETE",
        INCIDENT + "/members/{username}",
        "Remove a member (manager)",
        remove_member,
        response=MemberRemovedOut,
    ),
    Endpoint(
        "GET",
        INCIDENT + "/events",
        "The durable event log in seq order",
        list_events,
        response=EventsPage,
        query={
            "since": ("the last seq held: events after it", integer(0, 2**62, 0)),
            "limit": ("at most this many events", integer(1, 1000, 1000)),
            "from": ("only events logged at or after this time (ISO 8601, offset)", TIME),
            "to": ("only events logged at or before this time (ISO 8601, offset)", TIME),
        },
    ),
]
