"""One API route: what it takes and answers (for the OpenAPI document) and its dispatch."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from hub.errors import HubError, as_hub_error
from web.http import JSON, caller, error_response, nul_in_url

log = logging.getLogger(__name__)

INCIDENT = "/api/incidents/{incident_id}"


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
    # A body that is no JSON shape (GPX, KML, a tracker's form), by its media types; with
    # application/json among them, `body` describes that one (a tracker's own JSON).
    raw_body: tuple[str, ...] = ()
    # A multipart/form-data body's parts: name -> (description, JSON schema); files are
    # {"type": "array", "items": {"type": "string", "format": "binary"}}.
    parts: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    # Whether a raw body must be there (OwnTracks also POSTs empty ones).
    body_required: bool = True
    # A public route whose caller proves itself with HTTP Basic credentials (a tracker).
    basic_auth: bool = False
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
