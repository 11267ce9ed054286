"""uvicorn's configuration for a hub, one for `crisishub serve` and the demo."""

from __future__ import annotations

import asyncio
from copy import deepcopy
from typing import Any

import uvicorn
from starlette.types import ASGIApp

from hub.realtime import internals
from hub.settings import Settings
from models.limits import MAX_WIRE_BYTES


def uvicorn_config(
    settings: Settings, app: ASGIApp, *, log_level: str = "info", graceful_s: int = 5
) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        ws=websocket_protocol(settings),
        ws_per_message_deflate=settings.websocket_compression,
        # No websocket-level pings: Engine.IO's heartbeat (a PING every 20 s, closed 20 s
        # without its PONG) already finds dead connections, and uvicorn's kept two timers
        # per socket for the same purpose.
        ws_ping_interval=None,
        # The protocol's limit, enforced by the websocket parser on each frame's header, before
        # any of it is buffered: a larger message is closed with 1009 (uvicorn's default is
        # 16 MiB, which let connections that never logged in grow memory).
        ws_max_size=MAX_WIRE_BYTES,
        # X-Forwarded-For and -Proto only from the proxies named in TRUSTED_PROXIES (uvicorn
        # would trust 127.0.0.1 by default, so anyone on the hub's host could choose the
        # address the login throttle sees).
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=",".join(settings.trusted_proxies) or None,
        log_level=log_level,
        timeout_graceful_shutdown=graceful_s,
        log_config=log_config(),
    )


def websocket_protocol(settings: Settings) -> str | type[asyncio.Protocol]:
    """uvicorn's `ws`: a protocol it names, or the hub's lean one (its stock sans-I/O one when
    hub/realtime/internals.py finds the libraries do not fit)."""
    if settings.websocket_impl != "lean":
        return settings.websocket_impl
    return internals.LEAN_PROTOCOL or "websockets-sansio"


def log_config() -> dict[str, Any]:
    """uvicorn's own logging configuration, with the secret-masking filter on every handler."""
    from uvicorn.config import LOGGING_CONFIG

    config = deepcopy(LOGGING_CONFIG)
    config["filters"] = {
        "redact": {"()": "hub.logs.RedactSecrets"},
        "quiet_fixes": {"()": "hub.logs.QuietTrackerFixes"},
    }
    for handler in config["handlers"].values():
        handler["filters"] = ["redact"]
    config["handlers"]["access"]["filters"] = ["quiet_fixes", "redact"]
    return config
