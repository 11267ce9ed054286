"""The JSON API. Every route authenticates, validates and calls the same domain action as the
matching socket event."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hub.access import require_role
from hub.actions import anchors, directory, feed, incidents
from hub.auth import SESSION_COOKIE, SESSION_LIFETIME, Principal, principal_for_token
from hub.errors import HubError, as_hub_error
from hub.eventlog import events_since
from hub.public import feature_collection
from models import Role
from models.shapes import (
    AnchorCreateIn,
    AnchorDeleteIn,
    AnchorUpdateIn,
    FeedCorrectIn,
    FeedPostIn,
    IncidentCreateIn,
    IncidentUpdateIn,
    LoginIn,
    MemberIn,
    OrganisationIn,
    UserIn,
)
from web.http import JSON, caller, error_response, hub_of, nul_in_url, query_int, read_json

log = logging.getLogger(__name__)

Handler = Callable[[Request, Principal], Awaitable[Any]]


@dataclass
class Endpoint:
    """One API route and what the OpenAPI document says of it."""

    method: str
    path: str
    summary: str
    handler: Callable[..., Awaitable[Any]]
    body: type[BaseModel] | None = None
    query: dict[str, str] = field(default_factory=dict)
    public: bool = False
    status: int = 200


def route(endpoint: Endpoint) -> Route:
    async def run(request: Request) -> Response:
        try:
            if nul_in_url(request):
                raise HubError("invalid", "NUL characters are not allowed in the URL")
            if endpoint.public:
                result = await endpoint.handler(request)
            else:
                result = await endpoint.handler(request, await caller(request))
        except Exception as error:
            return error_response(as_hub_error(error, log, f"{endpoint.method} {endpoint.path}"))
        if isinstance(result, Response):
            return result
        return JSON(result, status_code=endpoint.status)

    return Route(endpoint.path, run, methods=[endpoint.method])


# health --------------------------------------------------------------------------------------


async def healthz(request: Request) -> Response:
    return JSON({"status": "ok"})


async def readyz(request: Request) -> Response:
    hub = hub_of(request)
    checks: dict[str, Any] = {}
    try:
        async with hub.db.read() as session:
            await session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as error:  # any failure means "not ready"; say which
        checks["database"] = f"unavailable: {type(error).__name__}"
    probe = getattr(request.app.state, "readiness", None)
    if probe is not None:
        checks.update(await probe())
    ready = all(value == "ok" for value in checks.values())
    return JSON(
        {"status": "ok" if ready else "unavailable", "checks": checks},
        status_code=200 if ready else 503,
    )


# session ---------------------------------------------------------------------------------------


async def login(request: Request) -> Response:
    hub = hub_of(request)
    payload = await read_json(request, LoginIn)
    client = request.client.host if request.client else ""
    raw = await directory.login(hub, payload.username, payload.password, client=client)
    async with hub.db.read() as session:
        principal = await principal_for_token(session, raw)
    assert principal is not None and hub.cookies is not None
    response = JSON({"user": principal.public()})
    response.set_cookie(
        SESSION_COOKIE,
        hub.cookies.dump(raw),
        httponly=True,
        samesite="lax",
        secure=hub.settings.environment == "production"
        and not hub.settings.host.startswith("127."),
        max_age=int(SESSION_LIFETIME.total_seconds()),
    )
    return response


async def logout(request: Request, principal: Principal) -> Response:
    await directory.revoke_token(hub_of(request), principal, principal.token_id)
    response = JSON({})
    response.delete_cookie(SESSION_COOKIE)
    return response


async def me(request: Request, principal: Principal) -> Any:
    return {"user": principal.public()}


# incidents ---------------------------------------------------------------------------------


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
    async with hub.db.read() as session:
        incident, _ = await require_role(session, principal, incident_id, Role.VIEWER)
        events = await events_since(session, incident_id, since, limit)
    return {"seq": incident.last_seq, "events": events}


# feed ----------------------------------------------------------------------------------------


async def list_feed(request: Request, principal: Principal) -> Any:
    limit = query_int(request, "limit", 100, 1, 1000) or 100
    before = query_int(request, "before_seq", None, 1, 2**62)
    entries = await feed.list_entries(
        hub_of(request),
        principal,
        request.path_params["incident_id"],
        limit=limit,
        before_seq=before,
    )
    return {"entries": entries}


async def post_feed(request: Request, principal: Principal) -> Any:
    payload = await read_json(request, FeedPostIn, incident_id=request.path_params["incident_id"])
    return {"entry": await feed.post_entry(hub_of(request), principal, payload)}


async def correct_feed(request: Request, principal: Principal) -> Any:
    params = request.path_params
    payload = await read_json(
        request, FeedCorrectIn, incident_id=params["incident_id"], entry_id=params["entry_id"]
    )
    return {"entry": await feed.correct_entry(hub_of(request), principal, payload)}


# anchors -------------------------------------------------------------------------------------


async def list_anchors(request: Request, principal: Principal) -> Any:
    rows = await anchors.list_anchors(
        hub_of(request), principal, request.path_params["incident_id"]
    )
    return feature_collection(rows)


async def create_anchor(request: Request, principal: Principal) -> Any:
    payload = await read_json(
        request, AnchorCreateIn, incident_id=request.path_params["incident_id"]
    )
    return {"anchor": await anchors.create_anchor(hub_of(request), principal, payload)}


async def update_anchor(request: Request, principal: Principal) -> Any:
    params = request.path_params
    payload = await read_json(
        request, AnchorUpdateIn, incident_id=params["incident_id"], anchor_id=params["anchor_id"]
    )
    return {"anchor": await anchors.update_anchor(hub_of(request), principal, payload)}


async def delete_anchor(request: Request, principal: Principal) -> Any:
    params = request.path_params
    payload = await read_json(
        request, AnchorDeleteIn, incident_id=params["incident_id"], anchor_id=params["anchor_id"]
    )
    return {"anchor": await anchors.delete_anchor(hub_of(request), principal, payload)}


# administration ------------------------------------------------------------------------------


async def add_organisation(request: Request, principal: Principal) -> Any:
    payload = await read_json(request, OrganisationIn)
    return {"organisation": await directory.add_organisation(hub_of(request), principal, payload)}


async def add_user(request: Request, principal: Principal) -> Any:
    payload = await read_json(request, UserIn)
    return {"user": await directory.add_user(hub_of(request), principal, payload)}


class TokenIn(BaseModel):
    username: str | None = None


async def create_token(request: Request, principal: Principal) -> Any:
    payload = await read_json(request, TokenIn)
    token_id, raw = await directory.create_token(
        hub_of(request), principal, payload.username or principal.username
    )
    return {"id": token_id, "token": raw}


async def revoke_token(request: Request, principal: Principal) -> Any:
    await directory.revoke_token(hub_of(request), principal, request.path_params["token_id"])
    return {}


INCIDENT = "/api/incidents/{incident_id}"

ENDPOINTS: list[Endpoint] = [
    Endpoint(
        "POST", "/api/session", "Log in: sets the session cookie", login, LoginIn, public=True
    ),
    Endpoint("DELETE", "/api/session", "Log out: revokes the session", logout),
    Endpoint("GET", "/api/me", "The calling user", me),
    Endpoint(
        "GET",
        "/api/incidents",
        "Incidents the caller is a member of",
        list_incidents,
        query={
            "status": "open|closed",
            "kind": "emergency|event|exercise",
            "phase": "monitoring|municipal|provincial|federal",
        },
    ),
    Endpoint(
        "POST",
        "/api/incidents",
        "Open an incident (the caller becomes its manager)",
        create_incident,
        IncidentCreateIn,
        status=201,
    ),
    Endpoint("GET", INCIDENT, "One incident, with the caller's role", get_incident),
    Endpoint(
        "PATCH",
        INCIDENT,
        "Change title, phase or status (manager)",
        update_incident,
        IncidentUpdateIn,
    ),
    Endpoint("GET", INCIDENT + "/members", "Members and their roles", list_members),
    Endpoint(
        "POST",
        INCIDENT + "/members",
        "Add a member or change a role (manager)",
        set_member,
        MemberIn,
    ),
    Endpoint(
        "DELETE", INCIDENT + "/members/{username}", "Remove a member (manager)", remove_member
    ),
    Endpoint(
        "GET",
        INCIDENT + "/events",
        "The durable event log in seq order",
        list_events,
        query={"since": "last seq held (default 0)", "limit": "1..1000 (default 1000)"},
    ),
    Endpoint(
        "GET",
        INCIDENT + "/feed",
        "Feed entries, oldest first",
        list_feed,
        query={"limit": "1..1000 (default 100)", "before_seq": "page backwards"},
    ),
    Endpoint(
        "POST",
        INCIDENT + "/feed",
        "Post a feed entry (same rules as feed.post)",
        post_feed,
        FeedPostIn,
        status=201,
    ),
    Endpoint(
        "POST",
        INCIDENT + "/feed/{entry_id}/corrections",
        "Correct an entry: a new entry pointing at it",
        correct_feed,
        FeedCorrectIn,
        status=201,
    ),
    Endpoint("GET", INCIDENT + "/anchors", "Anchors as a GeoJSON FeatureCollection", list_anchors),
    Endpoint(
        "POST", INCIDENT + "/anchors", "Create an anchor", create_anchor, AnchorCreateIn, status=201
    ),
    Endpoint(
        "PATCH",
        INCIDENT + "/anchors/{anchor_id}",
        "Move, reshape or relabel an anchor",
        update_anchor,
        AnchorUpdateIn,
    ),
    Endpoint(
        "DELETE",
        INCIDENT + "/anchors/{anchor_id}",
        "Delete an anchor (body: version)",
        delete_anchor,
        AnchorDeleteIn,
    ),
    Endpoint(
        "POST",
        "/api/organisations",
        "Add an organisation (admin)",
        add_organisation,
        OrganisationIn,
        status=201,
    ),
    Endpoint("POST", "/api/users", "Add a user (admin)", add_user, UserIn, status=201),
    Endpoint(
        "POST",
        "/api/tokens",
        "Create an API token (for yourself; admins for anyone)",
        create_token,
        TokenIn,
        status=201,
    ),
    Endpoint("DELETE", "/api/tokens/{token_id}", "Revoke a token", revoke_token),
]


def routes(endpoints: list[Endpoint]) -> list[Route]:
    from web.openapi import openapi_route

    return [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        openapi_route(endpoints),
        *(route(endpoint) for endpoint in endpoints),
    ]
