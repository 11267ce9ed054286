"""Tracker ingestion: the OsmAnd protocol (OsmAnd, Traccar Client) on /ingest/osmand."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from hub.convoys.ingest import ingest_osmand
from hub.errors import HubError, as_hub_error
from hub.instance import Instance
from models.responses import FixAck
from web.api.endpoint import Endpoint
from web.http import hub_of, positions_of, read_body

log = logging.getLogger(__name__)

# A tracker's form body is a few hundred bytes; anything near this is not a tracker.
MAX_OSMAND_BODY = 16_384


async def osmand(request: Request) -> Any:
    body = await read_body(request, MAX_OSMAND_BODY) if request.method == "POST" else None
    params = osmand_params(request.scope["query_string"], body)
    return await ingest_osmand(hub_of(request), positions_of(request), params)


def osmand_params(query_string: bytes, body: bytes | None) -> dict[str, str]:
    """The query, then the form body over it: one parser for both OsmAnd paths (the Starlette
    route and `OsmandIngest`), so they cannot drift apart. The query is read as Starlette
    reads `request.query_params` (latin-1, blank values kept)."""
    params = dict(parse_qsl(query_string.decode("latin-1"), keep_blank_values=True))
    if body is not None:
        try:
            form = parse_qsl(body.decode("utf-8"), max_num_fields=50)
        except (UnicodeDecodeError, ValueError):
            raise HubError("invalid", "the body must be a URL-encoded form") from None
        params.update(form)
    return params


class OsmandIngest:
    """`GET`/`POST /ingest/osmand` answered below Starlette and Engine.IO: the one path that
    trackers call thousands of times a second. The same parsing as `osmand` above (query,
    then the form body over it), the same `ingest_osmand`, the same status codes and JSON
    bodies as the Starlette route; everything else (other paths, other methods, lifespan,
    websockets) goes to `app`. `instance` is the serving instance: its hub and its positions
    pipeline."""

    PATH = "/ingest/osmand"

    def __init__(self, app: ASGIApp, instance: Instance) -> None:
        self.app = app
        self.instance = instance

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["path"] != self.PATH
            or scope["method"] not in ("GET", "POST")
        ):
            await self.app(scope, receive, send)
            return
        try:
            body = None
            if scope["method"] == "POST":
                body = await self._body(receive)
                if body is None:
                    return  # the client went away
            params = osmand_params(scope["query_string"], body)
            instance = self.instance
            status, result = (
                200,
                await ingest_osmand(instance.hub, instance.positions, params),
            )
        except Exception as error:
            refusal = as_hub_error(error, log, f"{scope['method']} {self.PATH}")
            status, result = refusal.status, refusal.body()
        content = orjson.dumps(result)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-length", str(len(content)).encode()),
                    (b"content-type", b"application/json"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": content})

    @staticmethod
    async def _body(receive: Receive) -> bytes | None:
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            body.extend(message.get("body", b""))
            if len(body) > MAX_OSMAND_BODY:
                raise HubError("too_large", f"the body exceeds {MAX_OSMAND_BODY} bytes")
            if not message.get("more_body", False):
                return bytes(body)


# Form fields as much as query parameters: text on the wire, numbers once parsed.
OSMAND_QUERY: dict[str, tuple[str, dict[str, Any]]] = {
    "id": ("device key (alias: deviceid); required", {"type": "string"}),
    "lat": ("latitude; required", {"type": "number", "minimum": -90, "maximum": 90}),
    "lon": ("longitude; required", {"type": "number", "minimum": -180, "maximum": 180}),
    "timestamp": ("fix time: Unix s, ms or ISO 8601 (default: now)", {"type": "string"}),
    # FixIn refuses over 150 m/s (MAX_REPORTED_SPEED_MPS), 291.58 knots
    "speed": ("knots", {"type": "number", "minimum": 0, "maximum": 291.57}),
    "bearing": ("degrees (alias: heading)", {"type": "number", "minimum": 0, "maximum": 360}),
    # OsmAnd sends it; the hub stores no altitude, so any value goes (osmand_fix skips it)
    "altitude": ("metres; accepted, not stored", {"type": "string"}),
    "accuracy": ("metres", {"type": "number", "minimum": 0, "maximum": 100_000}),
}

ENDPOINTS: list[Endpoint] = [
    Endpoint(
        "GET",
        "/ingest/osmand",
        "A tracker fix (OsmAnd / Traccar Client protocol); 200 once stored",
        osmand,
        response=FixAck,
        query=OSMAND_QUERY,
        public=True,
    ),
    Endpoint(
        "POST",
        "/ingest/osmand",
        "A tracker fix as a form body (OsmAnd protocol); 200 once stored",
        osmand,
        response=FixAck,
        query=OSMAND_QUERY,
        public=True,
        raw_body=("application/x-www-form-urlencoded",),
    ),
]
