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
from starlette.types import Receive, Scope, Send

from hub.access import require_role
from hub.actions import anchors, directory, feed, incidents
from hub.auth import SESSION_COOKIE, SESSION_LIFETIME, Principal, principal_for_token
from hub.errors import HubError, as_hub_error
from hub.eventlog import events_since
from hub.public import feature_collection
from models import IncidentKind, Phase, Role, Status
from models.responses import (
    AnchorCollection,
    AnchorOut,
    CallerOut,
    Empty,
    EventsPage,
    FeedEntryOut,
    FeedPage,
    IncidentOut,
    IncidentsOut,
    IncidentWithRoleOut,
    MemberAddedOut,
    MemberRemovedOut,
    MembersOut,
    OrganisationOut,
    TokenPublic,
    UserOut,
)
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
    TokenIn,
    UserIn,
)
from web.http import JSON, caller, error_response, hub_of, nul_in_url, query_int, read_json
from web.openapi import enum_of, integer

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
    # The success answer's shape (models/responses.py); None only for the files (`media`).
    response: type[BaseModel] | None = None
    # name -> (description, JSON schema) of each query parameter
    query: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    public: bool = False
    status: int = 200
    # A body that is no JSON shape (GPX, KML, a tracker's form), by its media types.
    raw_body: tuple[str, ...] = ()
    # The success answer's media type: JSON but for the GPX and KML exports.
    media: str = "application/json"


def _allowed(endpoints: list[Endpoint]) -> str:
    methods: list[str] = []
    for endpoint in endpoints:
        methods.append(endpoint.method)
        if endpoint.method == "GET" and not endpoint.public:
            methods.append("HEAD")
    return ", ".join([*methods, "OPTIONS"])


class PathRoute:
    """The ASGI app of one API path, for every method: each to its endpoint (HEAD to GET's),
    OPTIONS answered with the path's Allow list, any other method refused with 405 and that
    same list. One Starlette Route per method would name only its own method in Allow."""

    def __init__(self, endpoints: list[Endpoint]) -> None:
        self.by_method = {endpoint.method: endpoint for endpoint in endpoints}
        get = self.by_method.get("GET")
        if get is not None and not get.public:
            # HEAD runs GET's handler: only for reads (a tracker's GET stores a fix)
            self.by_method.setdefault("HEAD", get)
        self.allow = _allowed(endpoints)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self.dispatch(Request(scope, receive, send))
        await response(scope, receive, send)

    async def dispatch(self, request: Request) -> Response:
        endpoint = self.by_method.get(request.method)
        if endpoint is None:
            if request.method == "OPTIONS":  # no authentication: it tells nothing of the data
                return Response(status_code=204, headers={"Allow": self.allow})
            return JSON(
                {"error": {"code": "invalid", "message": "method not allowed; see Allow"}},
                status_code=405,
                headers={"Allow": self.allow},
            )
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


def route(path: str, endpoints: list[Endpoint]) -> Route:
    # An ASGI app, not a function: Starlette then routes every method here (methods=None).
    return Route(path, PathRoute(endpoints))


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
        # https as the browser sees it: uvicorn takes the scheme from X-Forwarded-Proto when
        # the proxy is trusted (TRUSTED_PROXIES); a production hub listening on a public
        # address is assumed to be reached over TLS too.
        secure=request.url.scheme == "https"
        or (hub.settings.environment == "production" and not hub.settings.host.startswith("127.")),
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
        "POST",
        "/api/session",
        "Log in: sets the session cookie",
        login,
        LoginIn,
        CallerOut,
        public=True,
    ),
    Endpoint("DELETE", "/api/session", "Log out: revokes the session", logout, response=Empty),
    Endpoint("GET", "/api/me", "The calling user", me, response=CallerOut),
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
        },
    ),
    Endpoint(
        "GET",
        INCIDENT + "/feed",
        "Feed entries, oldest first",
        list_feed,
        response=FeedPage,
        query={
            "limit": ("the last this many entries", integer(1, 1000, 100)),
            "before_seq": ("page backwards: entries before this seq", integer(1, 2**62)),
        },
    ),
    Endpoint(
        "POST",
        INCIDENT + "/feed",
        "Post a feed entry (same rules as feed.post)",
        post_feed,
        FeedPostIn,
        FeedEntryOut,
        status=201,
    ),
    Endpoint(
        "POST",
        INCIDENT + "/feed/{entry_id}/corrections",
        "Correct an entry: a new entry pointing at it",
        correct_feed,
        FeedCorrectIn,
        FeedEntryOut,
        status=201,
    ),
    Endpoint(
        "GET",
        INCIDENT + "/anchors",
        "Anchors as a GeoJSON FeatureCollection",
        list_anchors,
        response=AnchorCollection,
    ),
    Endpoint(
        "POST",
        INCIDENT + "/anchors",
        "Create an anchor",
        create_anchor,
        AnchorCreateIn,
        AnchorOut,
        status=201,
    ),
    Endpoint(
        "PATCH",
        INCIDENT + "/anchors/{anchor_id}",
        "Move, reshape or relabel an anchor",
        update_anchor,
        AnchorUpdateIn,
        AnchorOut,
    ),
    Endpoint(
        "DELETE",
        INCIDENT + "/anchors/{anchor_id}",
        "Delete an anchor (body: version); answers its last state, deleted: true",
        delete_anchor,
        AnchorDeleteIn,
        AnchorOut,
    ),
    Endpoint(
        "POST",
        "/api/organisations",
        "Add an organisation (admin)",
        add_organisation,
        OrganisationIn,
        OrganisationOut,
        status=201,
    ),
    Endpoint("POST", "/api/users", "Add a user (admin)", add_user, UserIn, UserOut, status=201),
    Endpoint(
        "POST",
        "/api/tokens",
        "Create an API token (for yourself; admins for anyone)",
        create_token,
        TokenIn,
        TokenPublic,
        status=201,
    ),
    Endpoint("DELETE", "/api/tokens/{token_id}", "Revoke a token", revoke_token, response=Empty),
]


def routes(endpoints: list[Endpoint]) -> list[Route]:
    from web.openapi import openapi_route

    by_path: dict[str, list[Endpoint]] = {}
    for endpoint in endpoints:
        by_path.setdefault(endpoint.path, []).append(endpoint)
    return [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        openapi_route(endpoints),
        *(route(path, group) for path, group in by_path.items()),
    ]
