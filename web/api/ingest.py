"""Tracker ingestion: the OsmAnd protocol (OsmAnd, Traccar Client: query, form, or Traccar
Client 9's JSON body) on /ingest/osmand, and OwnTracks' HTTP mode on /ingest/owntracks."""

from __future__ import annotations

import base64
import binascii
import logging
from typing import Any
from urllib.parse import parse_qsl

import orjson
from pydantic import ValidationError
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from hub.convoys.ingest import check_key, ingest_osmand, ingest_owntracks
from hub.errors import HubError, as_hub_error, from_validation
from hub.instance import Instance
from models.responses import FixAck, OwnTracksAnswer
from models.tracker_shapes import (
    OwnTracksBody,
    OwnTracksLocation,
    OwnTracksMessage,
    TraccarBody,
)
from web.api.endpoint import Endpoint
from web.http import hub_of, positions_of, read_body

log = logging.getLogger(__name__)

# A tracker's form body is a few hundred bytes; anything near this is not a tracker.
MAX_OSMAND_BODY = 16_384


JSON_MEDIA = "application/json"


async def osmand(request: Request) -> Any:
    body = await read_body(request, MAX_OSMAND_BODY) if request.method == "POST" else None
    params = osmand_params(
        request.scope["query_string"], body, request.headers.get("content-type", "")
    )
    return await ingest_osmand(hub_of(request), positions_of(request), params)


def is_json(content_type: str) -> bool:
    return content_type.split(";", 1)[0].strip().lower() == JSON_MEDIA


def json_body(body: bytes) -> Any:
    """JSON off the wire: NaN, Infinity, 1e400 and invalid UTF-8 are not JSON (orjson)."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        raise HubError("invalid", "the body is not valid JSON") from None


def osmand_params(
    query_string: bytes, body: bytes | None, content_type: str = ""
) -> dict[str, str] | TraccarBody:
    """The query, then the form body over it; or, with Content-Type application/json, Traccar
    Client 9's JSON body alone. One parser for both OsmAnd paths (the Starlette route and
    `OsmandIngest`), so they cannot drift apart. The query is read as Starlette reads
    `request.query_params` (latin-1, blank values kept)."""
    if body is not None and is_json(content_type):
        data = json_body(body)
        if not isinstance(data, dict):
            raise HubError(
                "invalid", "the JSON body must be one object {device_id, location} per fix"
            )
        try:
            return TraccarBody.model_validate(data)
        except ValidationError as error:
            raise from_validation(error) from None
    params = dict(parse_qsl(query_string.decode("latin-1"), keep_blank_values=True))
    if body is not None:
        try:
            form = parse_qsl(body.decode("utf-8"), max_num_fields=50)
        except (UnicodeDecodeError, ValueError):
            raise HubError("invalid", "the body must be a URL-encoded form") from None
        for name, value in form:
            # A field in both that disagrees is ambiguous: which one did the tracker mean?
            if name in params and params[name] != value:
                raise HubError("invalid", f"{name} differs between the query and the form")
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
            params = osmand_params(scope["query_string"], body, _content_type(scope))
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


def _content_type(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"content-type":
            return str(value.decode("latin-1"))
    return ""


# OwnTracks ---------------------------------------------------------------------------------------


async def owntracks(request: Request) -> Any:
    """OwnTracks in HTTP mode: the device key is the Basic password (the user name is the
    OwnTracks user, not needed). Answers a JSON array, as OwnTracks expects: `[]` (no messages
    for the phone). Messages other than locations (transition, waypoint, lwt, card, status…)
    and the empty body OwnTracks sends when a friend is removed are acknowledged, not stored.
    A password that is no device key is wrong credentials: 401, as for no credentials."""
    key = basic_password(request.headers.get("authorization"))
    body = await read_body(request, MAX_OSMAND_BODY)
    hub, positions = hub_of(request), positions_of(request)
    location = None
    if body.strip():  # empty: what OwnTracks sends when a friend is removed
        data = json_body(body)
        if not isinstance(data, dict):
            raise HubError("invalid", "the body must be one OwnTracks message (a JSON object)")
        try:
            if OwnTracksMessage.model_validate(data).type == "location":
                location = OwnTracksLocation.model_validate(data)
        except ValidationError as error:
            raise from_validation(error) from None
    try:
        if location is None:
            await check_key(hub, positions, key)
        else:
            await ingest_owntracks(hub, positions, key, location)
    except HubError as error:
        if error.code == "not_found":  # a Basic password that is no device key: wrong credentials
            raise HubError("unauthorized", "unknown device key") from None
        raise
    return []


def basic_password(header: str | None) -> str:
    """The password of an HTTP Basic `Authorization` header; `unauthorized` without one."""
    scheme, _, encoded = (header or "").partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        raise HubError("unauthorized", "HTTP Basic credentials (password: device key) required")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise HubError(
            "unauthorized", "the Basic credentials are not base64 user:password"
        ) from None
    _, colon, password = decoded.partition(":")
    if not colon or not password:
        raise HubError("unauthorized", "the Basic password (the device key) is missing")
    return password


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
        "A tracker fix as a form body (OsmAnd protocol) or, with Content-Type "
        "application/json, as Traccar Client 9's JSON body (one fix); 200 once stored",
        osmand,
        body=TraccarBody,
        response=FixAck,
        query=OSMAND_QUERY,
        public=True,
        raw_body=("application/x-www-form-urlencoded", JSON_MEDIA),
    ),
    Endpoint(
        "POST",
        "/ingest/owntracks",
        "An OwnTracks message (HTTP mode); the HTTP Basic password is the device key. "
        "Locations are stored; the answer is a JSON array, as OwnTracks expects",
        owntracks,
        body=OwnTracksBody,
        response=OwnTracksAnswer,
        public=True,
        raw_body=(JSON_MEDIA,),
        body_required=False,  # OwnTracks POSTs an empty body when a friend is removed
        basic_auth=True,
    ),
]
