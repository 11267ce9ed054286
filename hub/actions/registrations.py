"""Registrations (BE-Alert): the CSV import, all or nothing, and the count of an area's
audience. Registrations are personal data: nothing here returns one; reads are logged."""

from __future__ import annotations

import logging
from typing import Any

from hub.alerts.registrations import Audience, Parsed, Stored, audience, store
from hub.auth import Principal
from hub.context import Hub
from hub.db import driver_connection
from hub.logs import ThrottledLog
from hub.ratelimit import refused
from models.base import utcnow
from models.shapes import RegistrationCountIn

log = logging.getLogger(__name__)
_refusals = ThrottledLog(log)


async def import_registrations(
    hub: Hub, registrations: dict[str, Parsed], *, replace: bool
) -> Stored:
    """Stores a parsed file in one transaction: a failure anywhere writes nothing."""
    async with hub.db.write() as session:
        driver = await driver_connection(session)
        stored = await store(driver, hub.db.is_sqlite, registrations, replace=replace, now=utcnow())
    log.info(
        "registrations imported: %d added, %d updated, %d removed, %d in all",
        stored.added,
        stored.updated,
        stored.removed,
        stored.total,
    )
    return stored


async def count_registrations(
    hub: Hub, principal: Principal, payload: RegistrationCountIn
) -> Audience:
    """How many confirmed registrations have a place in the area, by channel and language.
    Any logged-in professional may ask, at a human's pace (`hub.counts`, per user): the
    counts of many small areas would locate households. Who asked for which area is logged,
    and so is a refusal (at most a line a second)."""
    check_count_rate(hub, principal)
    async with hub.db.read() as session:
        driver = await driver_connection(session)
        result = await audience(driver, hub.db.is_sqlite, payload.geometry)
    log.info(
        "registrations counted by %s (%s): %d in a %s with bounds %s",
        principal.username,
        principal.user_id,
        result.registrations,
        payload.geometry["type"],
        _bounds(payload.geometry),
    )
    return result


def check_count_rate(hub: Hub, principal: Principal) -> None:
    """Refuses a count beyond the user's pace (`hub.counts`), whoever asks it: this route or
    an alert's estimate while drafting."""
    counts = hub.counts
    retry = counts.wait(principal.user_id)
    if retry > 0:
        _refusals.warning(
            principal.user_id,
            "registrations count refused to %s (%s): over the rate of counts",
            principal.username,
            principal.user_id,
        )
        raise refused(
            f"too many audience counts: at most {counts.burst:g} at once, then one every"
            f" {1 / counts.rate:g} s",
            retry,
        )
    counts.spend(principal.user_id)


def _bounds(geometry: dict[str, Any]) -> str:
    import shapely.geometry

    west, south, east, north = shapely.geometry.shape(geometry).bounds
    return f"[{west:.5f}, {south:.5f}, {east:.5f}, {north:.5f}]"
