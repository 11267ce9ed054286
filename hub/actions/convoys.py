"""Convoys of an incident (the GeoTool side). The tracking pipeline builds on this module."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession


async def convoy_snapshot(session: AsyncSession, incident_id: str) -> list[dict[str, Any]]:
    """Every convoy with its route and the last known position of each vehicle.

    No convoy tables exist before the convoy work lands, so an incident has none.
    """
    return []
