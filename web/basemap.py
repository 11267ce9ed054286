"""The base map file: the operator's PMTiles archive (BASEMAP_PMTILES), served by the hub itself
at /basemap.pmtiles so the map needs no tile server (docs/protocol-additions.md "Base map").

The map reads the archive by HTTP Range requests (its header, its directories, then each tile);
Starlette's FileResponse answers them (206 with Content-Range, 416 past the end, If-Range), and
this adds what a cache needs: an ETag and Last-Modified (of the file's size and modification
time, so replacing the file changes them), Cache-Control, and 304 to a matching If-None-Match
or If-Modified-Since. Only logged-in users read it: an operator's extract may be licensed for
their own use, and the pages that draw it (incident, plans) are behind the login anyway; the
public alert and registration pages keep the bundled offline layer.
"""

from __future__ import annotations

import logging
import os
from email.utils import parsedate_to_datetime

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from hub.errors import HubError, as_hub_error
from hub.settings import Settings
from web.http import caller, error_response, hub_of

BASEMAP_PATH = "/basemap.pmtiles"
MEDIA_TYPE = "application/vnd.pmtiles"
# Private: it is behind the login. An hour: a replaced file has a new ETag, which the map's
# PMTiles reader notices on its next tile and reads the archive again (no mixed versions).
CACHE_CONTROL = "private, max-age=3600"

log = logging.getLogger(__name__)


def basemap_url(settings: Settings) -> str | None:
    """The URL the pages' `config.basemap_pmtiles` names, or None when none is configured."""
    return BASEMAP_PATH if settings.basemap_pmtiles else None


def not_modified(request: Headers, etag: str, last_modified: str) -> bool:
    """RFC 9110 13.1: If-None-Match, when sent, decides alone; else If-Modified-Since."""
    if_none_match = request.get("if-none-match")
    if if_none_match is not None:
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in tags or etag.removeprefix("W/") in tags
    if_modified_since = request.get("if-modified-since")
    if if_modified_since is None:
        return False
    try:
        return parsedate_to_datetime(last_modified) <= parsedate_to_datetime(if_modified_since)
    except (TypeError, ValueError):
        return False  # an unreadable date is ignored, as the RFC says


async def serve_basemap(request: Request) -> Response:
    try:
        await caller(request)
        path = hub_of(request).settings.basemap_pmtiles
        if not path:
            raise HubError("not_found", "no base map is configured (BASEMAP_PMTILES)")
        try:
            stat = os.stat(path)
        except OSError:
            log.exception("BASEMAP_PMTILES %s cannot be read", path)
            raise HubError("unavailable", "the base map cannot be read; retry") from None
    except Exception as error:
        return error_response(as_hub_error(error, log, f"{request.method} {BASEMAP_PATH}"))
    response = FileResponse(
        path,
        stat_result=stat,
        media_type=MEDIA_TYPE,
        headers={"Cache-Control": CACHE_CONTROL},
    )
    etag, last_modified = response.headers["etag"], response.headers["last-modified"]
    if not_modified(request.headers, etag, last_modified):
        return Response(
            status_code=304,
            headers={"ETag": etag, "Last-Modified": last_modified, "Cache-Control": CACHE_CONTROL},
        )
    return response


def basemap_app() -> ASGIApp:
    """The ASGI app of /basemap.pmtiles (GET and HEAD), routed by web/pages.py with the
    security headers of every static file."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        response = await serve_basemap(Request(scope, receive))
        await response(scope, receive, send)

    return app
