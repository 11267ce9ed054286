"""The application factory: Starlette for HTTP, wrapped by python-socketio's ASGIApp."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import socketio
from starlette.applications import Starlette

from hub.instance import Instance
from hub.realtime import internals
from hub.settings import Settings
from web.api import ENDPOINTS, routes
from web.api.ingest import OsmandIngest
from web.http import HubWeb
from web.pages import page_routes

log = logging.getLogger(__name__)


def create_app(settings: Settings) -> OsmandIngest:
    """The hub's ASGI application. Refuses to build one on Socket.IO libraries that its
    internals patches were not written for (hub/realtime/internals.py)."""
    internals.check()
    instance = Instance(settings)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await instance.start()
        log.info("CrisisHub listening on http://%s:%s", settings.host, settings.port)
        try:
            yield
        finally:
            await instance.close()

    web = HubWeb(instance, routes=routes(ENDPOINTS), lifespan=lifespan)
    web.router.routes.extend(page_routes(settings))  # HTML pages and /static
    sockets = socketio.ASGIApp(instance.sio, other_asgi_app=web, socketio_path="socket.io")
    # Tracker fixes are answered ahead of Engine.IO and Starlette routing (same contract).
    return OsmandIngest(sockets, instance)
