"""Population alerts (BE-Alert): what an authority tells the people of an area, and every
CAP message sent for it. An alert belongs to an incident; its steps (drafted, sent, updated,
cancelled) are sequenced incident events (hub/actions/alerts.py)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import JSONType, UTCDateTime, new_id, utcnow


class AlertState(StrEnum):
    DRAFT = "draft"
    SENT = "sent"
    UPDATED = "updated"
    CANCELLED = "cancelled"


class CapStatus(StrEnum):
    """CAP 1.2 `status` values an alert may carry (System and Draft are not used)."""

    ACTUAL = "Actual"
    EXERCISE = "Exercise"
    TEST = "Test"


class MsgType(StrEnum):
    ALERT = "Alert"
    UPDATE = "Update"
    CANCEL = "Cancel"


class Channel(StrEnum):
    """Where an alert goes: the registrations' channels, the public feed and page (`public`),
    and the mobile operators' CAP gateways (`operators`)."""

    SMS = "sms"
    VOICE = "voice"
    EMAIL = "email"
    PUBLIC = "public"
    OPERATORS = "operators"


# The channels that reach registrations one by one.
PERSONAL_CHANNELS = (Channel.SMS, Channel.VOICE, Channel.EMAIL)


class CapCategory(StrEnum):
    GEO = "Geo"
    MET = "Met"
    SAFETY = "Safety"
    SECURITY = "Security"
    RESCUE = "Rescue"
    FIRE = "Fire"
    HEALTH = "Health"
    ENV = "Env"
    TRANSPORT = "Transport"
    INFRA = "Infra"
    CBRNE = "CBRNE"
    OTHER = "Other"


class Urgency(StrEnum):
    IMMEDIATE = "Immediate"
    EXPECTED = "Expected"
    FUTURE = "Future"
    PAST = "Past"
    UNKNOWN = "Unknown"


class Severity(StrEnum):
    EXTREME = "Extreme"
    SEVERE = "Severe"
    MODERATE = "Moderate"
    MINOR = "Minor"
    UNKNOWN = "Unknown"


class Certainty(StrEnum):
    OBSERVED = "Observed"
    LIKELY = "Likely"
    POSSIBLE = "Possible"
    UNLIKELY = "Unlikely"
    UNKNOWN = "Unknown"


class Alert(SQLModel, table=True):
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    incident_id: str = Field(foreign_key="incident.id", index=True, max_length=32)
    version: int = 1
    state: str = Field(default=AlertState.DRAFT.value, max_length=10)
    cap_status: str = Field(max_length=10)
    # The area as drafted: the perimeter anchors it was drawn from (empty for a drawn area),
    # their union as a GeoJSON (Multi)Polygon, circles included as polygons (what recipients
    # are selected by), and the circular perimeters themselves, [{lat, lon, radius_m}], which
    # CAP carries as `circle`s.
    anchor_ids: list[str] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    # Their labels then: what CAP's areaDesc and the public page name, frozen with the area.
    area_labels: list[str] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    geometry: dict[str, Any] = Field(sa_column=Column(JSONType, nullable=False))
    polygons: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONType))
    circles: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSONType, nullable=False)
    )
    channels: list[str] = Field(sa_column=Column(JSONType, nullable=False))
    # {language: {headline, description, instruction}}, in the order the author gave them:
    # plain JSON, not JSONB, because PostgreSQL's JSONB reorders keys, and the first language
    # is the one a recipient of another language gets.
    info: dict[str, Any] = Field(sa_column=Column(JSON(), nullable=False))
    event: str = Field(max_length=200)
    category: str = Field(max_length=20)
    urgency: str = Field(max_length=20)
    severity: str = Field(max_length=20)
    certainty: str = Field(max_length=20)
    expires: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    # The audience when last drafted or sent: {registrations, by_channel, by_language}.
    estimate: dict[str, Any] = Field(sa_column=Column(JSONType, nullable=False))
    created_by: str = Field(foreign_key="user.id", max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime()))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime()))
    sent_by: str | None = Field(default=None, foreign_key="user.id", max_length=32)
    sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class AlertMessage(SQLModel, table=True):
    """One CAP message of an alert, as it was sent: `content` is the alert's public shape at
    that moment, from which its CAP document is rendered (so `?identifier=` gives back the
    earlier messages as they were). Identifiers are unique and never reused."""

    __tablename__ = "alert_message"
    __table_args__ = (UniqueConstraint("alert_id", "number"),)

    identifier: str = Field(primary_key=True, max_length=100)
    alert_id: str = Field(foreign_key="alert.id", index=True, max_length=32)
    # 1, 2, 3…: the order of the alert's messages (several may share a second of `sent`).
    number: int
    msg_type: str = Field(max_length=10)
    cap_status: str = Field(max_length=10)
    # CAP_SENDER when it was sent: a later change of the setting does not rewrite history.
    sender: str = Field(max_length=200)
    sent: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    # Every earlier message of the alert as CAP `references` entries, "sender,identifier,sent".
    references: list[str] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    content: dict[str, Any] = Field(sa_column=Column(JSONType, nullable=False))
