"""What clients may send about convoys and positions, with their limits."""

from __future__ import annotations

import math
import re
from typing import Annotated, Any

from pydantic import AfterValidator, Field, StringConstraints

from models.convoy import SIDC_CHARS, ConvoyStatus, VehicleRole
from models.limits import MAX_LABEL_CHARS
from models.shapes import Geometry, Id, Label, Lax, Strict

# Beyond these a value is a broken device or a forgery, not a fast car.
MAX_REPORTED_SPEED_MPS = 150.0  # 540 km/h
MAX_ACCURACY_M = 100_000.0


def _line(value: dict[str, Any]) -> dict[str, Any]:
    if value.get("type") != "LineString":
        raise ValueError("a route is a GeoJSON LineString")
    return value


def _point(value: dict[str, Any]) -> dict[str, Any]:
    if value.get("type") != "Point":
        raise ValueError("a destination is a GeoJSON Point")
    return value


def _finite(value: float | None) -> float | None:
    if value is not None and not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


# 2525B/C and APP-6(B/C): coding scheme, affiliation, battle dimension, status, six of function
# and five of modifiers, country and order of battle; `-` and `*` stand for "none".
LETTER_SIDC = re.compile(r"[SGWIOE][PUAFNSHGWMDLJK*-][A-Z*-][APCDXF*-][A-Z0-9*-]{11}")
# 2525D/E and APP-6(D/E): 20 digits, or 30 with 2525E's extension.
NUMBER_SIDC = re.compile(r"\d{20}|\d{30}")


def valid_sidc(value: str) -> str:
    """The SIDC in upper case; ValueError naming both forms when it is neither."""
    sidc = value.strip().upper()
    if len(sidc) > SIDC_CHARS or not (LETTER_SIDC.fullmatch(sidc) or NUMBER_SIDC.fullmatch(sidc)):
        raise ValueError(
            "a SIDC is 15 characters (MIL-STD-2525C / APP-6, e.g. SFGPUCI----D---) "
            "or 20 or 30 digits (2525D/E, APP-6D)"
        )
    return sidc


Sidc = Annotated[str, StringConstraints(max_length=64), AfterValidator(valid_sidc)]
Route = Annotated[Geometry, AfterValidator(_line)]
Destination = Annotated[Geometry, AfterValidator(_point)]
Lat = Annotated[float, Field(ge=-90, le=90), AfterValidator(_finite)]
Lon = Annotated[float, Field(ge=-180, le=180), AfterValidator(_finite)]
Speed = Annotated[float, Field(ge=0, le=MAX_REPORTED_SPEED_MPS), AfterValidator(_finite)]
Heading = Annotated[float, Field(ge=0, le=360), AfterValidator(_finite)]
Accuracy = Annotated[float, Field(ge=0, le=MAX_ACCURACY_M), AfterValidator(_finite)]
# A fix time: Unix seconds or milliseconds, or ISO 8601 (parsed by hub.convoys.pipeline).
Timestamp = (
    Annotated[str, StringConstraints(max_length=64)]
    | Annotated[float, AfterValidator(_finite)]
    | None
)


class ConvoyCreateIn(Strict):
    name: Label
    route: Route | None = None
    destination: Destination | None = None
    status: Annotated[ConvoyStatus, Lax] = ConvoyStatus.PLANNED


class ConvoyUpdateIn(Strict):
    route: Route | None = None
    destination: Destination | None = None
    status: Annotated[ConvoyStatus, Lax] | None = None


class VehicleCreateIn(Strict):
    label: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_LABEL_CHARS)
    ]
    role: Annotated[VehicleRole, Lax] = VehicleRole.ESCORT
    sidc: Sidc | None = None


class VehicleUpdateIn(Strict):
    """PATCH …/vehicles/{vehicle_id}: the fields given change; `sidc` given as null goes back
    to the default arrow."""

    label: (
        Annotated[
            str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_LABEL_CHARS)
        ]
        | None
    ) = None
    role: Annotated[VehicleRole, Lax] | None = None
    sidc: Sidc | None = None


class FixIn(Strict):
    """One fix as any path delivers it, before it is tied to a vehicle."""

    lat: Lat
    lon: Lon
    ts: Timestamp = None
    speed: Speed | None = None  # m/s (the OsmAnd path converts from knots)
    heading: Heading | None = None
    accuracy: Accuracy | None = None


class PositionReportIn(FixIn):
    incident_id: Id
    vehicle_id: Id


__all__ = [
    "ConvoyCreateIn",
    "ConvoyUpdateIn",
    "FixIn",
    "PositionReportIn",
    "VehicleCreateIn",
]
