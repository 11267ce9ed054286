"""Convoys (GeoTool): a planned route, its vehicles and the positions their trackers send."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Column, Index, Integer, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import JSONType, UTCDateTime, new_id, utcnow

# The longest CoT uid a vehicle may be registered with (ATAK's are some 30 characters).
TAK_UID_CHARS = 200
# A symbol identification code (APP-6 / MIL-STD-2525): 15 characters in the letter codes of
# 2525B/C and APP-6(B/C), 20 or 30 digits in 2525D/E and APP-6(D/E).
SIDC_CHARS = 30


class ConvoyStatus(StrEnum):
    PLANNED = "planned"
    EN_ROUTE = "en_route"
    ARRIVED = "arrived"
    CANCELLED = "cancelled"


# Only these are watched for silent trackers: a parked, finished convoy is not news.
WATCHED_STATUSES = (ConvoyStatus.PLANNED.value, ConvoyStatus.EN_ROUTE.value)


class VehicleRole(StrEnum):
    LEAD = "lead"
    VIP = "vip"
    ESCORT = "escort"
    FOLLOW = "follow"


class Convoy(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("incident_id", "name"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    incident_id: str = Field(foreign_key="incident.id", index=True, max_length=32)
    name: str = Field(max_length=200)
    # GeoJSON LineString (lon/lat) of the planned route, or None until one is set.
    route: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONType))
    # GeoJSON Point; defaults to the end of the route when not given.
    destination: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONType))
    status: str = Field(default=ConvoyStatus.PLANNED.value, max_length=20)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime()))
    # Changes with the route: caches of projected routes are keyed on it.
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime()))


class Vehicle(SQLModel, table=True):
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    convoy_id: str = Field(foreign_key="convoy.id", index=True, max_length=32)
    incident_id: str = Field(foreign_key="incident.id", index=True, max_length=32)
    label: str = Field(max_length=200)
    role: str = Field(default=VehicleRole.ESCORT.value, max_length=20)
    # SHA-256 of the tracker's secret key (as API tokens): a database leak yields no key.
    device_key_hash: str = Field(index=True, unique=True, max_length=64)
    # A TAK device's CoT `uid` (ATAK's "ANDROID-…", a UUID…): its position events are this
    # vehicle's fixes (hub/tak/). Not a secret: TAK devices broadcast it in every event.
    tak_uid: str | None = Field(default=None, index=True, unique=True, max_length=TAK_UID_CHARS)
    # Its map symbol (hub/convoys/symbols.py): set by a manager, or taken from a TAK device's
    # CoT type at its first position event; None draws the default vehicle arrow.
    sidc: str | None = Field(default=None, max_length=SIDC_CHARS)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime()))
    # The newest accepted fix, kept on the row so snapshots need no scan of positions.
    last_lat: float | None = None
    last_lon: float | None = None
    last_ts: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    last_speed: float | None = None
    last_heading: float | None = None
    last_accuracy: float | None = None
    last_received_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    # What the alert rules remember between fixes (inside which zones, off route, still since
    # when, silent), on the row so that every hub instance sees the same state.
    alert_state: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONType))


class Position(SQLModel, table=True):
    """One fix as the device reported it. Append-only; flagged fixes are kept for review."""

    __table_args__ = (
        UniqueConstraint("vehicle_id", "ts"),
        Index("ix_position_incident_received", "incident_id", "received_at"),
    )

    id: int | None = Field(
        default=None,
        sa_column=Column(
            BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
        ),
    )
    vehicle_id: str = Field(foreign_key="vehicle.id", max_length=32)
    incident_id: str = Field(foreign_key="incident.id", max_length=32)
    lat: float
    lon: float
    ts: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    received_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    speed: float | None = None  # m/s
    heading: float | None = None  # degrees clockwise from north
    accuracy: float | None = None  # metres
    flagged: bool = False
    flag_reason: str | None = Field(default=None, max_length=200)
