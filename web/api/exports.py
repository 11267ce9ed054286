"""An incident's exports, for its members (viewer and up): the logbook as a PDF, the feed as
CSV, the anchors as GeoJSON and KML, and the whole incident as one ZIP for the evaluation file.
(Each convoy's tracks as GPX are its own route: web/api/convoys.py, …/tracks.gpx.)

Every export is read whole from the database in one read transaction, then rendered off the
event loop, one export at a time per instance (Hub.exports): a big logbook takes a core for
seconds, and the live incident must not wait behind it. Each read is logged with who read it,
as every other read of what members wrote."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import Response

from hub.access import require_role
from hub.auth import Principal
from hub.errors import HubError
from hub.timeline import exports, logbook
from hub.timeline.logbook import LANGUAGES, Language
from hub.timeline.record import ExportLimits, IncidentRecord, load_record
from models import Role
from models.responses import AnchorCollection
from web.api.endpoint import INCIDENT, Endpoint
from web.http import hub_of

log = logging.getLogger(__name__)

# How long a request waits for the exports ahead of it; then it is told to come back later.
WAIT_S = 30


def _lang(request: Request) -> Language:
    raw = request.query_params.get("lang") or "en"
    for language in LANGUAGES:
        if raw == language:
            return language
    raise HubError("invalid", "lang must be one of fr, nl, en")


async def _export(
    request: Request,
    principal: Principal,
    what: str,
    media_type: str,
    render: Callable[[IncidentRecord], bytes],
    **parts: bool,
) -> Response:
    hub = hub_of(request)
    incident_id = request.path_params["incident_id"]
    async with hub.db.read() as session:
        incident, _ = await require_role(session, principal, incident_id, Role.VIEWER)
        limits = ExportLimits(hub.settings.export_max_events, hub.settings.export_max_fixes)
        record = await load_record(session, incident, limits, **parts)
    try:
        await asyncio.wait_for(hub.exports.acquire(), WAIT_S)
    except TimeoutError:
        raise HubError(
            "unavailable", "other exports are being rendered: try again shortly", retry_after=10
        ) from None
    try:
        content = await asyncio.to_thread(render, record)
    finally:
        hub.exports.release()
    log.info("%s of incident %s read by %s", what, incident_id, principal.username)
    return Response(
        content,
        media_type=media_type,
        headers={
            "content-disposition": f'attachment; filename="incident-{incident_id}-{what}"',
            "cache-control": "no-store",
        },
    )


async def logbook_pdf(request: Request, principal: Principal) -> Response:
    lang = _lang(request)
    return await _export(
        request,
        principal,
        "logbook.pdf",
        "application/pdf",
        lambda record: logbook.render_logbook(record, lang, principal.name),
    )


async def feed_csv(request: Request, principal: Principal) -> Response:
    return await _export(
        request,
        principal,
        "feed.csv",
        "text/csv; charset=utf-8",
        exports.feed_csv,
        events=False,
        entries=True,
    )


async def anchors_geojson(request: Request, principal: Principal) -> Response:
    return await _export(
        request,
        principal,
        "anchors.geojson",
        "application/geo+json",
        exports.anchors_geojson,
        events=False,
        anchors=True,
    )


async def anchors_kml(request: Request, principal: Principal) -> Response:
    return await _export(
        request,
        principal,
        "anchors.kml",
        "application/vnd.google-earth.kml+xml",
        exports.anchors_kml,
        events=False,
        anchors=True,
    )


async def archive_zip(request: Request, principal: Principal) -> Response:
    lang = _lang(request)
    return await _export(
        request,
        principal,
        "archive.zip",
        "application/zip",
        lambda record: exports.archive_zip(record, lang, principal.name),
        entries=True,
        anchors=True,
        tracks=True,
    )


LANG = {"lang": ("the logbook's language: fr, nl or en (default)", {"enum": ["fr", "nl", "en"]})}
ENDPOINTS: list[Endpoint] = [
    Endpoint(
        "GET",
        INCIDENT + "/logbook.pdf",
        "The logbook as a PDF: every event in time order, the evaluation points",
        logbook_pdf,
        query=LANG,
        media="application/pdf",
    ),
    Endpoint(
        "GET",
        INCIDENT + "/feed.csv",
        "The feed as CSV (UTF-8 with a byte-order mark)",
        feed_csv,
        media="text/csv",
    ),
    Endpoint(
        "GET",
        INCIDENT + "/anchors.geojson",
        "The anchors as a GeoJSON FeatureCollection file",
        anchors_geojson,
        response=AnchorCollection,
        media="application/geo+json",
    ),
    Endpoint(
        "GET",
        INCIDENT + "/anchors.kml",
        "The anchors as KML",
        anchors_kml,
        media="application/vnd.google-earth.kml+xml",
    ),
    Endpoint(
        "GET",
        INCIDENT + "/archive.zip",
        "The whole incident in one ZIP: logbook, feed, anchors, tracks, events, evaluation",
        archive_zip,
        query=LANG,
        media="application/zip",
    ),
]
