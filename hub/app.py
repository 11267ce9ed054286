"""The application factory: Starlette for HTTP, wrapped by python-socketio's ASGIApp."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import orjson
import socketio
from starlette.applications import Starlette
from starlette.types import ASGIApp

from hub.context import Hub
from hub.convoys.ingest import start_tracking
from hub.db import Database
from hub.realtime.handlers import HubServer, SocketHandlers
from hub.realtime.notify import Notifier
from hub.settings import Settings
from models.limits import MAX_WIRE_BYTES
from web.api import ENDPOINTS, routes
from web.api.ingest import OsmandIngest
from web.pages import page_routes

log = logging.getLogger(__name__)


class _OrjsonPackets:
    """python-socketio's JSON module hook: orjson encodes faster than the stdlib."""

    @staticmethod
    def dumps(obj: Any, **kwargs: Any) -> str:
        return orjson.dumps(obj).decode()

    @staticmethod
    def loads(data: str | bytes, **kwargs: Any) -> Any:
        return orjson.loads(data)


def create_app(settings: Settings) -> ASGIApp:
    db = Database(settings.database_url)
    sync = None
    if settings.redis_url:
        from hub.realtime.redis_manager import install

        sync, start_sync = install(settings, json=_OrjsonPackets)
    sio = HubServer(
        client_manager=sync,
        async_mode="asgi",
        # None: Engine.IO's same-origin rule (the Host header, or X-Forwarded-* behind a proxy),
        # which is "the hub's own origin" wherever it is deployed.
        cors_allowed_origins=settings.allowed_origins or None,
        max_http_buffer_size=MAX_WIRE_BYTES,  # long-polling bodies; websockets: hub/serving.py
        max_queue=settings.max_client_queue,
        fast_fanout=settings.fanout == "fast",
        json=_OrjsonPackets,
        ping_interval=20,
        ping_timeout=20,
    )
    hub = Hub(settings=settings, db=db, notifier=Notifier(sio))
    handlers = SocketHandlers(hub, sio)
    # The convoy pipeline first, so that it closes last (after Redis stops feeding it).
    extensions: list[Callable[[Hub, SocketHandlers, Starlette], Awaitable[Any]]] = [start_tracking]
    if sync is not None:
        from hub.realtime.redis_manager import presence_for

        hub.presence = presence_for(settings, sync)
        extensions.append(start_sync)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        closers = [await extend(hub, handlers, app) for extend in extensions]
        log.info("CrisisHub listening on http://%s:%s", settings.host, settings.port)
        try:
            yield
        finally:
            for close in reversed(closers):
                if close is not None:
                    await close()
            await hub.presence.close()
            await db.dispose()

    web = Starlette(routes=routes(ENDPOINTS), lifespan=lifespan)
    web.state.hub = hub
    web.state.sio = sio
    web.state.handlers = handlers
    web.router.routes.extend(page_routes(settings))  # HTML pages and /static
    # Tracker fixes are answered ahead of Engine.IO and Starlette routing (same contract).
    return OsmandIngest(socketio.ASGIApp(sio, other_asgi_app=web, socketio_path="socket.io"), web)
