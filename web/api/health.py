"""Liveness and readiness, for load balancers and orchestrators."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import Response

from web.http import JSON, instance_of

log = logging.getLogger(__name__)


async def healthz(request: Request) -> Response:
    return JSON({"status": "ok"})


async def readyz(request: Request) -> Response:
    instance = instance_of(request)
    hub = instance.hub
    checks: dict[str, Any] = {}
    try:
        async with hub.db.read() as session:
            await session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as error:  # any failure means "not ready"; say which
        checks["database"] = f"unavailable: {type(error).__name__}"
    checks.update(await instance.readiness())
    ready = all(value == "ok" for value in checks.values())
    # A channel that is down is said (and logged) but does not take the instance out of
    # service: its deliveries wait in the outbox, and the hub still serves everything else.
    channels = instance.deliveries.readiness()
    return JSON(
        {"status": "ok" if ready else "unavailable", "checks": checks, "channels": channels},
        status_code=200 if ready else 503,
    )
