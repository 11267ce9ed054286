"""The properties of a `weather` anchor: the wind at a point, for the perimeter decision.

A weather anchor is a GeoJSON Point. Its properties may carry (all optional, so that an anchor
can be placed first and filled from the observation feed after):

    wind_from_deg    where the wind comes FROM, degrees clockwise from north, 0 to 360
                     (meteorological convention, as METAR and Open-Meteo give it)
    wind_speed_ms    mean wind speed in m/s, 0 to MAX_WIND_MS
    wind_gust_ms     gusts in m/s, 0 to MAX_WIND_MS, not below wind_speed_ms
    observed_at      when it was observed: ISO 8601 with a time zone, not in the future
    source           who observed it (a station, "liaison officer", the feed's name)
    plume_length_m   how far downwind the map draws the sector a toxic cloud would cover,
                     MIN_PLUME_M to MAX_PLUME_M (default DEFAULT_PLUME_M)
    plume_angle_deg  the sector's opening, MIN_PLUME_DEG to MAX_PLUME_DEG (default 40)

Any other property is the anchor's own, as on every kind, except a `wind_…` name that is none
of the above: that is a typo (`wind_from`, `wind_speed_kmh`) and is refused rather than
silently not drawn."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from pydantic import Field

from models.shapes import Id, IncidentRef

# The strongest gust measured at the surface is some 113 m/s (Barrow Island, 1996): beyond
# this a value is a unit mistake (km/h or knots typed as m/s), not weather.
MAX_WIND_MS = 115.0
MIN_PLUME_M = 100.0
MAX_PLUME_M = 50_000.0
DEFAULT_PLUME_M = 3_000.0
MIN_PLUME_DEG = 10.0
MAX_PLUME_DEG = 120.0
DEFAULT_PLUME_DEG = 40.0
MAX_SOURCE_CHARS = 200
# Clocks drift: an observation up to this far ahead of the hub's clock is taken as now.
FUTURE_SLACK = timedelta(minutes=5)

WIND_KEYS = ("wind_from_deg", "wind_speed_ms", "wind_gust_ms")
RANGES: dict[str, tuple[float, float]] = {
    "wind_from_deg": (0.0, 360.0),
    "wind_speed_ms": (0.0, MAX_WIND_MS),
    "wind_gust_ms": (0.0, MAX_WIND_MS),
    "plume_length_m": (MIN_PLUME_M, MAX_PLUME_M),
    "plume_angle_deg": (MIN_PLUME_DEG, MAX_PLUME_DEG),
}
UNITS = {
    "wind_from_deg": "degrees",
    "wind_speed_ms": "m/s",
    "wind_gust_ms": "m/s",
    "plume_length_m": "metres",
    "plume_angle_deg": "degrees",
}


class WeatherError(ValueError):
    """A weather property out of range or of the wrong type; the message names it."""


def check_weather(geometry: dict[str, Any], properties: dict[str, Any]) -> None:
    """Refuses a weather anchor that is not a Point or whose wind properties are wrong."""
    if geometry.get("type") != "Point":
        raise WeatherError("a weather anchor is a GeoJSON Point (where the wind is observed)")
    for key, value in properties.items():
        if key in RANGES:
            low, high = RANGES[key]
            # bool is an int in Python: `true` is no speed.
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise WeatherError(f"properties.{key}: a number in {UNITS[key]}")
            if not math.isfinite(value) or not low <= value <= high:
                raise WeatherError(
                    f"properties.{key}: {value} is outside {low:g} to {high:g} {UNITS[key]}"
                )
        elif key == "observed_at":
            _observed_at(value)
        elif key == "source":
            if not isinstance(value, str) or not 0 < len(value.strip()) <= MAX_SOURCE_CHARS:
                raise WeatherError(
                    f"properties.source: a text of 1 to {MAX_SOURCE_CHARS} characters"
                )
        elif key.startswith("wind_"):
            raise WeatherError(
                f"properties.{key} is not a weather property: use "
                + ", ".join(WIND_KEYS)
                + " (speeds in m/s)"
            )
    speed, gust = properties.get("wind_speed_ms"), properties.get("wind_gust_ms")
    if speed is not None and gust is not None and gust < speed:
        raise WeatherError(
            f"properties.wind_gust_ms: gusts ({gust} m/s) below the mean speed ({speed} m/s)"
        )


def _observed_at(value: Any) -> None:
    message = "properties.observed_at: an ISO 8601 time with a time zone, e.g. 2026-12-03T08:00:00Z"
    if not isinstance(value, str):
        raise WeatherError(message)
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise WeatherError(message) from None
    if when.tzinfo is None:
        raise WeatherError(message)
    if when > datetime.now(UTC) + FUTURE_SLACK:
        raise WeatherError(f"properties.observed_at: {value} is in the future")


class AnchorObserveIn(IncidentRef):
    """`anchor.observe` / POST …/anchors/{anchor_id}/observe: fill a weather anchor from the
    configured observation feed (WEATHER_URL), at the version the manager saw."""

    anchor_id: Id
    version: Annotated[int, Field(ge=1)]
