"""A manager's "take the current observation": a weather anchor filled from the configured
observation feed (WEATHER_URL), as one anchor update (so versioned, sequenced and conflict-
checked like any other). The socket's `anchor.observe` and REST's POST …/observe share it."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from hub.access import require_role
from hub.actions.anchors import update_anchor
from hub.auth import Principal
from hub.context import Hub
from hub.errors import HubError
from hub.public import anchor_public
from hub.weather.feed import fetch_observation
from models import Anchor, AnchorKind, Role
from models.events import AnchorPublic
from models.shapes import AnchorUpdateIn
from models.weather import AnchorObserveIn


async def observe_weather(hub: Hub, principal: Principal, payload: AnchorObserveIn) -> AnchorPublic:
    """The anchor with the feed's wind, gusts, time and source in its properties (the others
    kept). Refused before the feed is asked when the caller is no manager, the anchor is no
    weather anchor or its version is stale; `unavailable` when no feed is configured or it
    cannot be reached, with nothing written."""
    hub.check_rate(principal.user_id)
    async with hub.db.read() as session:
        await require_role(session, principal, payload.incident_id, Role.MANAGER, write=True)
        anchor = await _weather_anchor(session, payload)
    url = hub.settings.weather_url
    if url is None:
        raise HubError(
            "unavailable", "no observation feed is configured (WEATHER_URL): enter the wind by hand"
        )
    lon, lat = anchor.geometry["coordinates"][:2]
    # Outside any transaction: the feed may take its timeout to answer.
    observed = await fetch_observation(url, float(lat), float(lon), hub.settings.weather_timeout_s)
    change = AnchorUpdateIn(
        incident_id=payload.incident_id,
        anchor_id=payload.anchor_id,
        version=payload.version,  # someone's change meanwhile is a conflict, as for any edit
        properties={**anchor.properties, **observed},
    )
    return await update_anchor(hub, principal, change)


async def _weather_anchor(session: AsyncSession, payload: AnchorObserveIn) -> Anchor:
    anchor = await session.get(Anchor, payload.anchor_id)
    if anchor is None or anchor.incident_id != payload.incident_id or anchor.deleted_at:
        raise HubError("not_found", "no such anchor in this incident")
    if anchor.kind != AnchorKind.WEATHER:
        raise HubError("invalid", f"only a weather anchor takes an observation, not {anchor.kind}")
    if anchor.version != payload.version:
        raise HubError(
            "conflict",
            f"the anchor is at version {anchor.version}, not {payload.version}: "
            "review its current state and take the observation again",
            anchor=anchor_public(anchor),
        )
    return anchor
