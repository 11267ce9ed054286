"""What tracker apps POST as JSON, as they send it: Traccar Client 9 on /ingest/osmand and
OwnTracks in HTTP mode on /ingest/owntracks (hub/convoys/ingest.py turns them into FixIn).

Types are strict, as everywhere (`"50.8"` is no latitude here, unlike in the OsmAnd form), and
nesting and NUL characters are checked as in models/shapes.py. Unlike the hub's own shapes,
fields these apps add (and add more of from one version to the next: `uuid`, `mock`, `floor`,
`speed_accuracy`, OwnTracks' `inregions`, `SSID`…) are ignored, not refused: refusing them
would stop a phone's whole queue at the next app update. Ranges are checked once, by FixIn.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel, StringConstraints, model_validator

from models.shapes import check_json

# No upper bound here: a key longer than any the hub gives is an unknown device (404), as on
# the OsmAnd form path; the body's own bound (MAX_OSMAND_BODY) limits it.
DeviceKey = Annotated[str, StringConstraints(min_length=1)]
Timestamp = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class AppShape(BaseModel):
    """Strict types, no NUL, bounded nesting; unknown fields ignored (see the module)."""

    model_config = ConfigDict(extra="ignore", strict=True)

    @model_validator(mode="before")
    @classmethod
    def _no_nul_no_depth(cls, data: Any) -> Any:
        check_json(data)
        return data


# Traccar Client 9 and later (flutter_background_geolocation's location, as the app's
# `locationTemplate` renders it; see docs/protocol-additions.md "Trackers (issue 17)").


class TraccarCoords(AppShape):
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    # The platform's "unknown" is -1 for each of these: read as absent.
    accuracy: float | None = None
    speed: float | None = Field(default=None, description="m/s; -1 when unknown")
    heading: float | None = Field(default=None, description="degrees; -1 when unknown")
    altitude: float | None = Field(default=None, description="metres; accepted, not stored")


class TraccarBattery(AppShape):
    level: float | None = Field(default=None, description="0 to 1; -1 when unknown")
    is_charging: bool | None = None


class TraccarLocation(AppShape):
    timestamp: Timestamp = Field(description="ISO 8601, e.g. 2025-06-15T13:45:12.862Z")
    coords: TraccarCoords
    is_moving: bool | None = None
    battery: TraccarBattery | None = None
    odometer: float | None = None
    event: str | None = None


class TraccarBody(AppShape):
    """One location per request: the app never batches (it POSTs each buffered location on
    its own, and the next once this one is answered with a 2xx)."""

    device_id: DeviceKey = Field(description="the device key the hub gave for the vehicle")
    location: TraccarLocation


# OwnTracks (HTTP mode): https://owntracks.org/booklet/tech/json/


class OwnTracksMessage(AppShape):
    """Any OwnTracks message: only `_type` is read before the type is known."""

    type: str = Field(alias="_type", max_length=64)


class OwnTracksLocation(AppShape):
    """`_type: location`. OwnTracks leaves out `acc`, `vel` and `cog` when they are zero."""

    type: Literal["location"] = Field(alias="_type")
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    tst: int = Field(description="Unix seconds of the fix")
    acc: float | None = Field(default=None, description="metres")
    vel: float | None = Field(default=None, description="km/h")
    cog: float | None = Field(default=None, description="degrees")
    batt: int | None = Field(default=None, description="percent; accepted, not stored")
    alt: float | None = Field(default=None, description="metres; accepted, not stored")
    tid: str | None = Field(default=None, max_length=64)


class OwnTracksOther(AppShape):
    """Any other message (transition, waypoint, lwt, card, status…): acknowledged, not stored."""

    type: str = Field(
        alias="_type", max_length=64, json_schema_extra={"not": {"const": "location"}}
    )


class OwnTracksBody(RootModel[OwnTracksLocation | OwnTracksOther]):
    """What /ingest/owntracks takes (for the OpenAPI document; the route reads `_type` first)."""


__all__ = [
    "OwnTracksBody",
    "OwnTracksLocation",
    "OwnTracksMessage",
    "TraccarBody",
    "TraccarCoords",
    "TraccarLocation",
]
