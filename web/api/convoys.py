"""The convoy routes: convoys and devices, trails and their GPX/KML exports, route and track
imports, and the OsmAnd ingestion endpoint that real trackers call."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response

from hub.access import require_role
from hub.actions import convoys
from hub.auth import Principal
from hub.convoys.files import Trail, parse_xml, read_points, route_geometry, to_gpx, to_kml
from hub.convoys.ingest import ingest_track
from hub.convoys.pipeline import parse_timestamp
from hub.errors import HubError, from_validation
from hub.eventlog import latest_events
from models import Role
from models.base import utcnow
from models.convoy_shapes import (
    ConvoyCreateIn,
    ConvoyUpdateIn,
    FixIn,
    VehicleCreateIn,
    VehicleUpdateIn,
)
from models.limits import MAX_VERTICES
from models.responses import (
    ConvoyOut,
    ConvoysOut,
    EventsPage,
    TrackFeature,
    TrackUpload,
    VehicleChangedOut,
    VehicleOut,
)
from web.api.endpoint import INCIDENT, Endpoint
from web.http import hub_of, positions_of, query_int, read_body, read_json
from web.openapi import integer

log = logging.getLogger(__name__)

CONVOY = INCIDENT + "/convoys/{convoy_id}"


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
    return await ingest_track(hub, positions_of(request), principal, vehicle_id, fixes)


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


# As many as the page keeps (web/frontend/src/store.js ALERTS_MAX).
CONVOY_ALERTS_MAX = 200


async def list_convoy_alerts(request: Request, principal: Principal) -> Any:
    """The incident's latest convoy.alert events from the log, for a page that opens or reloads:
    the snapshot carries the vehicles, not what they did."""
    hub = hub_of(request)
    incident_id = request.path_params["incident_id"]
    limit = query_int(request, "limit", CONVOY_ALERTS_MAX, 1, CONVOY_ALERTS_MAX) or 1
    async with hub.db.read() as session:
        incident, _ = await require_role(session, principal, incident_id, Role.VIEWER)
        events = await latest_events(session, incident_id, "convoy.alert", limit)
    return {"seq": incident.last_seq, "events": events}


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


async def update_vehicle(request: Request, principal: Principal) -> Any:
    payload = await read_json(request, VehicleUpdateIn)
    params = request.path_params
    vehicle = await convoys.update_vehicle(
        hub_of(request), principal, params["incident_id"], params["vehicle_id"], payload
    )
    return {"vehicle": vehicle}


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
ENDPOINTS: list[Endpoint] = [
    Endpoint(
        "GET",
        INCIDENT + "/convoys",
        "Convoys with vehicles and last positions",
        list_convoys,
        response=ConvoysOut,
    ),
    Endpoint(
        "GET",
        INCIDENT + "/convoy-alerts",
        "The latest vehicle alerts (convoy.alert events) in seq order",
        list_convoy_alerts,
        response=EventsPage,
        query={
            "limit": (
                "at most this many, the latest",
                integer(1, CONVOY_ALERTS_MAX, CONVOY_ALERTS_MAX),
            )
        },
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
        "PATCH",
        INCIDENT + "/vehicles/{vehicle_id}",
        "Relabel a vehicle, change its role or its map symbol, an APP-6 SIDC (manager)",
        update_vehicle,
        VehicleUpdateIn,
        VehicleChangedOut,
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
