"""The convoy routes: convoys and devices, trails and their GPX/KML exports, route and track
imports, and the OsmAnd ingestion endpoint that real trackers call."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

import orjson
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from hub.access import require_role
from hub.actions import convoys
from hub.auth import Principal
from hub.errors import HubError, as_hub_error, from_validation
from hub.positions import PositionPipeline, parse_timestamp
from hub.tracking import ingest_osmand, ingest_track
from hub.tracks import Trail, parse_xml, read_points, route_geometry, to_gpx, to_kml
from models import Role
from models.base import utcnow
from models.convoy_shapes import ConvoyCreateIn, ConvoyUpdateIn, FixIn, VehicleCreateIn
from models.limits import MAX_VERTICES
from models.responses import ConvoyOut, ConvoysOut, FixAck, TrackFeature, TrackUpload, VehicleOut
from web.api import INCIDENT, Endpoint
from web.http import hub_of, read_body, read_json

log = logging.getLogger(__name__)

# A tracker's form body is a few hundred bytes; anything near this is not a tracker.
MAX_OSMAND_BODY = 16_384
CONVOY = INCIDENT + "/convoys/{convoy_id}"


def pipeline_of(request: Request) -> PositionPipeline:
    return _pipeline(request.app.state)


def _pipeline(state: Any) -> PositionPipeline:
    pipeline: PositionPipeline | None = getattr(state, "positions", None)
    if pipeline is None:
        raise HubError("unavailable", "the positions pipeline is not running")
    return pipeline


# ingestion ----------------------------------------------------------------------------------


async def osmand_get(request: Request) -> Any:
    return await osmand(request)


async def osmand_post(request: Request) -> Any:
    return await osmand(request)


async def osmand(request: Request) -> Any:
    body = await read_body(request, MAX_OSMAND_BODY) if request.method == "POST" else None
    params = osmand_params(request.scope["query_string"], body)
    return await ingest_osmand(hub_of(request), pipeline_of(request), params)


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
    websockets) goes to `app`. `web` is the Starlette application whose state holds the
    hub and, once started, the positions pipeline."""

    PATH = "/ingest/osmand"

    def __init__(self, app: ASGIApp, web: Any) -> None:
        self.app = app
        self.state = web.state

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
            status, result = 200, await ingest_osmand(self.state.hub, _pipeline(self.state), params)
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


async def upload_track(request: Request, principal: Principal) -> Any:
    hub = hub_of(request)
    vehicle_id = request.path_params["vehicle_id"]
    # The role first: a stranger's upload is refused before a byte of it is read.
    await convoys.managed_vehicle(hub, principal, vehicle_id)
    body = await read_body(request, hub.settings.max_upload_bytes)
    # Parsing 50,000 points takes a good part of a second: off the event loop.
    fixes = await asyncio.to_thread(
        gpx_fixes, body, hub.settings.max_upload_bytes, hub.settings.max_track_points
    )
    return await ingest_track(hub, pipeline_of(request), principal, vehicle_id, fixes)


def gpx_fixes(body: bytes, max_bytes: int, max_points: int) -> list[FixIn]:
    """The timed points of a recorded GPX track, validated as fixes."""
    points = read_points(parse_xml(body, max_bytes), max_points, prefer_route=False)
    fixes = []
    for number, point in enumerate(points, 1):
        if point.time is None:
            raise HubError("invalid", f"point {number} has no time: a track needs fix times")
        try:
            fixes.append(FixIn(lat=point.lat, lon=point.lon, ts=point.time, speed=point.speed))
        except ValidationError as error:
            problem = from_validation(error)
            raise HubError(problem.code, f"point {number}: {problem.message}") from None
    return fixes


# convoys and devices ------------------------------------------------------------------------


async def list_convoys(request: Request, principal: Principal) -> Any:
    incident_id = request.path_params["incident_id"]
    return {"convoys": await convoys.list_convoys(hub_of(request), principal, incident_id)}


async def create_convoy(request: Request, principal: Principal) -> Any:
    payload = await read_json(request, ConvoyCreateIn)
    incident_id = request.path_params["incident_id"]
    return {"convoy": await convoys.create_convoy(hub_of(request), principal, incident_id, payload)}


async def update_convoy(request: Request, principal: Principal) -> Any:
    payload = await read_json(request, ConvoyUpdateIn)
    params = request.path_params
    return {
        "convoy": await convoys.update_convoy(
            hub_of(request), principal, params["incident_id"], params["convoy_id"], payload
        )
    }


async def add_vehicle(request: Request, principal: Principal) -> Any:
    payload = await read_json(request, VehicleCreateIn)
    params = request.path_params
    vehicle, key = await convoys.add_vehicle(
        hub_of(request), principal, params["incident_id"], params["convoy_id"], payload
    )
    return {"vehicle": vehicle, "device_key": key}


async def import_route(request: Request, principal: Principal) -> Any:
    """A GPX (rte or trk) or KML (LineString) file becomes the planned route; its last point
    the destination unless one is set."""
    hub = hub_of(request)
    params = request.path_params
    # The role first, as for track uploads: nothing of a non-manager's body is read.
    await convoys.check_manager(hub, principal, params["incident_id"])
    body = await read_body(request, hub.settings.max_upload_bytes)
    payload = await asyncio.to_thread(route_update, body, hub.settings.max_upload_bytes)
    return {
        "convoy": await convoys.update_convoy(
            hub, principal, params["incident_id"], params["convoy_id"], payload
        )
    }


def route_update(body: bytes, max_bytes: int) -> ConvoyUpdateIn:
    points = read_points(parse_xml(body, max_bytes), MAX_VERTICES, prefer_route=True)
    try:
        return ConvoyUpdateIn(route=route_geometry(points))
    except ValidationError as error:
        raise from_validation(error) from None


# trails ---------------------------------------------------------------------------------------


def _time_param(request: Request, name: str) -> datetime | None:
    raw = request.query_params.get(name)
    if not raw:
        return None
    try:
        return parse_timestamp(raw, utcnow(), max_future_s=10 * 365 * 86400)
    except HubError as error:
        raise HubError("invalid", f"{name}: {error.message}") from None


async def vehicle_track(request: Request, principal: Principal) -> Any:
    hub = hub_of(request)
    vehicle = await convoys.readable_vehicle(hub, principal, request.path_params["vehicle_id"])
    start, end = _time_param(request, "from"), _time_param(request, "to")
    async with hub.db.read() as session:
        fixes = await convoys.track(session, [vehicle.id], start, end)
    return convoys.track_feature(vehicle, fixes[vehicle.id])


async def _trails(request: Request, principal: Principal) -> tuple[str, Any, list[Trail]]:
    hub = hub_of(request)
    params = request.path_params
    async with hub.db.read() as session:
        await require_role(session, principal, params["incident_id"], Role.VIEWER)
        convoy, vehicles = await convoys.get_convoy(
            session, params["incident_id"], params["convoy_id"]
        )
        start, end = _time_param(request, "from"), _time_param(request, "to")
        fixes = await convoys.track(session, [v.id for v in vehicles], start, end)
    trails = [
        Trail(f"{v.label} ({v.role})", [(p.lat, p.lon, p.ts) for p in fixes[v.id]])
        for v in vehicles
    ]
    return convoy.name, convoy.route, trails


def _download(content: bytes, media_type: str, filename: str) -> Response:
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in filename)[:80] or "convoy"
    return Response(
        content,
        media_type=media_type,
        headers={"content-disposition": f'attachment; filename="{safe}.{media_type[-3:]}"'},
    )


async def export_gpx(request: Request, principal: Principal) -> Response:
    name, route, trails = await _trails(request, principal)
    return _download(to_gpx(name, route, trails), "application/gpx+xml", name)


async def export_kml(request: Request, principal: Principal) -> Response:
    name, route, trails = await _trails(request, principal)
    return _download(to_kml(name, route, trails), "application/vnd.google-earth.kml+xml", name)


TIME_RANGE = {
    "from": ("fix time lower bound (Unix s/ms or ISO 8601)", {"type": "string"}),
    "to": ("fix time upper bound (Unix s/ms or ISO 8601)", {"type": "string"}),
}
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

CONVOY_ENDPOINTS: list[Endpoint] = [
    Endpoint(
        "GET",
        "/ingest/osmand",
        "A tracker fix (OsmAnd / Traccar Client protocol); 200 once stored",
        osmand_get,
        response=FixAck,
        query=OSMAND_QUERY,
        public=True,
    ),
    Endpoint(
        "POST",
        "/ingest/osmand",
        "A tracker fix as a form body (OsmAnd protocol); 200 once stored",
        osmand_post,
        response=FixAck,
        query=OSMAND_QUERY,
        public=True,
        raw_body=("application/x-www-form-urlencoded",),
    ),
    Endpoint(
        "GET",
        INCIDENT + "/convoys",
        "Convoys with vehicles and last positions",
        list_convoys,
        response=ConvoysOut,
    ),
    Endpoint(
        "POST",
        INCIDENT + "/convoys",
        "Create a convoy (manager)",
        create_convoy,
        ConvoyCreateIn,
        ConvoyOut,
        status=201,
    ),
    Endpoint(
        "PATCH",
        CONVOY,
        "Change a convoy's route, destination or status (manager)",
        update_convoy,
        ConvoyUpdateIn,
        ConvoyOut,
    ),
    Endpoint(
        "POST",
        CONVOY + "/vehicles",
        "Register a vehicle's tracker (manager); the device key is shown once",
        add_vehicle,
        VehicleCreateIn,
        VehicleOut,
        status=201,
    ),
    Endpoint(
        "PUT",
        CONVOY + "/route",
        "Import the planned route from a GPX or KML body (manager)",
        import_route,
        response=ConvoyOut,
        raw_body=("application/gpx+xml", "application/vnd.google-earth.kml+xml"),
    ),
    Endpoint(
        "GET",
        CONVOY + "/tracks.gpx",
        "The convoy's trails as GPX",
        export_gpx,
        query=TIME_RANGE,
        media="application/gpx+xml",
    ),
    Endpoint(
        "GET",
        CONVOY + "/tracks.kml",
        "The convoy's trails as KML",
        export_kml,
        query=TIME_RANGE,
        media="application/vnd.google-earth.kml+xml",
    ),
    Endpoint(
        "GET",
        "/api/vehicles/{vehicle_id}/track",
        "A vehicle's trail: GeoJSON LineString, fix times in properties",
        vehicle_track,
        response=TrackFeature,
        query=TIME_RANGE,
    ),
    Endpoint(
        "POST",
        "/api/vehicles/{vehicle_id}/track",
        "Upload a recorded GPX track through the positions pipeline (manager)",
        upload_track,
        response=TrackUpload,
        raw_body=("application/gpx+xml",),
    ),
]
