"""The current wind from a configured observation feed (WEATHER_URL), as weather anchor
properties (models/weather.py).

The feed is one HTTP GET answering JSON in either of two shapes, so that an operator can point
the hub at a mirror of a public service or at a script of their own on a closed network:

- Open-Meteo's forecast API with `current` (what its mirrors and self-hosted copies answer):
  `{"utc_offset_seconds": 0, "current_units": {"wind_speed_10m": "km/h", …},
  "current": {"time": "2026-12-03T08:00", "wind_direction_10m": 232, "wind_speed_10m": 14.8,
  "wind_gusts_10m": 31.0}}`; speeds in the unit `current_units` names (km/h, m/s, mp/h, kn),
  the time local to `utc_offset_seconds` (or Unix seconds with `timeformat=unixtime`).
- The hub's own: `{"wind_from_deg": 232, "wind_speed_ms": 4.1, "wind_gust_ms": 8.6,
  "observed_at": "2026-12-03T08:00:00Z", "source": "Station Uccle"}` (gusts and source
  optional), the weather anchor's properties as they are stored.

`{lat}` and `{lon}` in the URL are replaced by the anchor's place (six decimals), e.g.
`http://meteo.internal/v1/forecast?latitude={lat}&longitude={lon}&current=wind_speed_10m,
wind_direction_10m,wind_gusts_10m`. The answer is read up to MAX_ANSWER_BYTES."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson

from hub.errors import HubError
from models.weather import WeatherError, check_weather

MAX_ANSWER_BYTES = 1_000_000
# Open-Meteo's `current_units` wind speed units, in m/s.
SPEED_UNITS = {"m/s": 1.0, "km/h": 1 / 3.6, "mp/h": 0.44704, "mph": 0.44704, "kn": 0.514444}


def where(url: str) -> str:
    """The feed's scheme, host and port only: its path or query may hold a key."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


async def fetch_observation(url: str, lat: float, lon: float, timeout: float) -> dict[str, Any]:
    """The current observation at (lat, lon) as weather properties; HubError `unavailable`,
    naming the feed's host, when it cannot be reached or answers no observation."""
    target = url.replace("{lat}", f"{lat:.6f}").replace("{lon}", f"{lon:.6f}")
    host = where(url)
    try:
        async with (
            httpx.AsyncClient(timeout=timeout, follow_redirects=False) as http,
            http.stream("GET", target, headers={"Accept": "application/json"}) as answer,
        ):
            if answer.status_code != 200:
                raise HubError(
                    "unavailable",
                    f"the weather feed at {host} answered HTTP {answer.status_code}: "
                    "enter the wind by hand or try again",
                )
            body = bytearray()
            async for chunk in answer.aiter_bytes():
                body += chunk
                if len(body) > MAX_ANSWER_BYTES:
                    raise HubError(
                        "unavailable",
                        f"the weather feed at {host} answered more than {MAX_ANSWER_BYTES} bytes",
                    )
    except httpx.HTTPError as error:
        raise HubError(
            "unavailable",
            f"the weather feed at {host} is unreachable ({type(error).__name__}): "
            "enter the wind by hand or try again",
        ) from None
    try:
        return observation(orjson.loads(bytes(body)), host)
    except (orjson.JSONDecodeError, WeatherError, ValueError, TypeError, KeyError) as error:
        raise HubError(
            "unavailable", f"the weather feed at {host} answered no wind observation: {error}"
        ) from None


def observation(data: Any, host: str) -> dict[str, Any]:
    """The weather properties of a feed's answer (either shape); ValueError when it is none."""
    if not isinstance(data, dict):
        raise ValueError("the answer is not a JSON object")
    found = _open_meteo(data, host) if "current" in data else _own(data, host)
    check_weather({"type": "Point"}, found)
    return found


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{what} is not a number")
    return float(value)


def _open_meteo(data: dict[str, Any], host: str) -> dict[str, Any]:
    current, units = data["current"], data.get("current_units") or {}
    if not isinstance(current, dict) or not isinstance(units, dict):
        raise ValueError("current and current_units are objects")
    unit = units.get("wind_speed_10m", "km/h")
    if unit not in SPEED_UNITS:
        raise ValueError(f"unknown wind speed unit {unit!r}")
    scale = SPEED_UNITS[unit]
    found: dict[str, Any] = {
        "wind_from_deg": _number(current.get("wind_direction_10m"), "wind_direction_10m"),
        "wind_speed_ms": round(_number(current.get("wind_speed_10m"), "wind_speed_10m") * scale, 1),
        "observed_at": _open_meteo_time(current.get("time"), data.get("utc_offset_seconds", 0)),
        "source": f"Open-Meteo ({host})",
    }
    gust = current.get("wind_gusts_10m")
    if gust is not None:
        gust_unit = units.get("wind_gusts_10m", unit)
        if gust_unit not in SPEED_UNITS:
            raise ValueError(f"unknown wind gust unit {gust_unit!r}")
        found["wind_gust_ms"] = round(_number(gust, "wind_gusts_10m") * SPEED_UNITS[gust_unit], 1)
    return found


def _open_meteo_time(value: Any, offset: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        when = datetime.fromtimestamp(value, UTC)
    elif isinstance(value, str):
        local = datetime.fromisoformat(value)
        if local.tzinfo is None:
            local = local.replace(tzinfo=UTC) - timedelta(seconds=_number(offset, "offset"))
        when = local.astimezone(UTC)
    else:
        raise ValueError("current.time is neither ISO 8601 nor Unix seconds")
    return when.isoformat().replace("+00:00", "Z")


def _own(data: dict[str, Any], host: str) -> dict[str, Any]:
    if "wind_from_deg" not in data or "wind_speed_ms" not in data:
        raise ValueError("no wind_from_deg and wind_speed_ms (nor Open-Meteo's current)")
    keys = ("wind_from_deg", "wind_speed_ms", "wind_gust_ms", "observed_at", "source")
    found = {key: data[key] for key in keys if data.get(key) is not None}
    found.setdefault("observed_at", datetime.now(UTC).isoformat(timespec="seconds"))
    found.setdefault("source", host)
    return found
