"""The incident's timeline: its state at a moment (issue 15). The log filtered by time is
GET …/events (web/api/incidents.py), with `from` and `to` beside `since`."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from hub.auth import Principal
from hub.errors import HubError
from hub.timeline.state import parse_instant, state_at
from models.responses import StateOut
from web.api.endpoint import INCIDENT, Endpoint
from web.http import hub_of

# What the OpenAPI document says of a time parameter (the same text for from/to of the log).
TIME = {"type": "string", "format": "date-time"}


async def get_state(request: Request, principal: Principal) -> Any:
    at = parse_instant(request.query_params.get("at"), "at")
    if at is None:
        raise HubError("invalid", "give at: the moment, in ISO 8601 with its offset")
    return await state_at(hub_of(request), principal, request.path_params["incident_id"], at)


ENDPOINTS: list[Endpoint] = [
    Endpoint(
        "GET",
        INCIDENT + "/state",
        "The incident as it stood at a moment: anchors, feed, convoys and sent alerts",
        get_state,
        response=StateOut,
        query={
            "at": (
                "the moment, ISO 8601 with its offset; not before the incident opened; "
                "a moment after now is taken as now",
                TIME,
            ),
        },
    ),
]
