"""The time zone an incident's times are written in for people (the logbook, the feed CSV,
an evaluation point's due day).

An incident has no time zone of its own yet: every incident this hub serves is Belgian, so
it is Europe/Brussels (CET/CEST, with its daylight-saving changes from the tz database that
zoneinfo reads, or the tzdata package where the system has none). When incidents abroad come
(a summit's motorcade crossing a border), this becomes a column of the incident."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

INCIDENT_ZONE = ZoneInfo("Europe/Brussels")


def local(value: datetime) -> datetime:
    """`value` (aware, UTC) in the incident's time zone."""
    return value.astimezone(INCIDENT_ZONE)
