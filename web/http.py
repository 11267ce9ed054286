"""HTTP plumbing shared by the API routes: JSON in and out, errors, who is calling."""

from __future__ import annotations

from typing import Any, TypeVar

import orjson
from pydantic import BaseModel, ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response

from hub.auth import SESSION_COOKIE, Principal, principal_for_token
from hub.context import Hub
from hub.convoys.pipeline import PositionPipeline
from hub.errors import HubError, from_validation
from hub.instance import Instance
from models.limits import MAX_MESSAGE_BYTES

Shape = TypeVar("Shape", bound=BaseModel)

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


class JSON(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def error_response(error: HubError) -> JSON:
    headers = None
    if "retry_after" in error.extra:  # rate_limited: RFC 9110's header beside the body's field
        headers = {"retry-after": str(error.extra["retry_after"])}
    return JSON(error.body(), status_code=error.status, headers=headers)


class HubWeb(Starlette):
    """The hub's Starlette application: its routes find the instance they serve here."""

    def __init__(self, instance: Instance, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.instance = instance


def instance_of(request: Request) -> Instance:
    web: HubWeb = request.app
    return web.instance


def hub_of(request: Request) -> Hub:
    return instance_of(request).hub


def positions_of(request: Request) -> PositionPipeline:
    return instance_of(request).positions


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refused as soon as it grows past `limit` (never buffered beyond it)."""
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise HubError("too_large", f"the body exceeds {limit} bytes")
    return bytes(body)


async def read_json(request: Request, shape: type[Shape], **extra: Any) -> Shape:
    """Parse a bounded JSON body into `shape`; `extra` fields come from the path."""
    body = await read_body(request, MAX_MESSAGE_BYTES)
    try:
        data = orjson.loads(body) if body else {}
    except orjson.JSONDecodeError:
        raise HubError("invalid", "the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise HubError("invalid", "the body must be a JSON object")
    try:
        return shape.model_validate({**data, **extra})
    except ValidationError as error:
        raise from_validation(error) from None


def nul_in_url(request: Request) -> bool:
    """A NUL character in the path or the query (%00): refused before any handler runs, as the
    input shapes refuse it in bodies (models/shapes.py), since PostgreSQL cannot compare or
    store it and SQLite would."""
    return any(
        "\x00" in value
        for value in (*request.path_params.values(), *request.query_params.values())
        if isinstance(value, str)
    )


def query_int(request: Request, name: str, default: int | None, low: int, high: int) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise HubError("invalid", f"{name} must be an integer") from None
    if not low <= value <= high:
        raise HubError("invalid", f"{name} must be between {low} and {high}")
    return value


def point_query(request: Request, name: str) -> tuple[float, float] | None:
    """A `lat,lon` query parameter in degrees (near=, at=), or None when absent."""
    raw = request.query_params.get(name)
    if not raw:
        return None
    try:
        lat_text, lon_text = raw.split(",")
        lat, lon = float(lat_text), float(lon_text)
    except ValueError:
        raise HubError(
            "invalid", f"{name} must be lat,lon in degrees ({name}=50.85,4.35)"
        ) from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise HubError("invalid", f"{name}: lat is within ±90 and lon within ±180")
    return lat, lon


async def caller(request: Request) -> Principal:
    """Bearer token on every /api/ route, or the session cookie with an allowed Origin."""
    hub = hub_of(request)
    header = request.headers.get("authorization", "")
    raw: str | None = None
    if header.lower().startswith("bearer "):
        raw = header[7:].strip()
    else:
        assert hub.cookies is not None
        raw = hub.cookies.load(request.cookies.get(SESSION_COOKIE))
        if raw and request.method in UNSAFE_METHODS:
            # Cookies ride along on cross-site requests; the Origin check stops CSRF.
            origin = request.headers.get("origin")
            allowed = hub.settings.allowed_origins or [
                f"{request.url.scheme}://{request.url.netloc}"
            ]
            if origin is None or origin.rstrip("/") not in allowed:
                raise HubError("forbidden", "this origin may not act with the session cookie")
    if not raw:
        raise HubError("unauthorized", "log in or send 'Authorization: Bearer <token>'")
    async with hub.db.read() as session:
        principal = await principal_for_token(session, raw)
    if principal is None:
        raise HubError("unauthorized", "the token or session is not valid")
    return principal
