"""Incidents, who belongs to them, and their durable event log."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Column, Index, Integer, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import JSONType, UTCDateTime, new_id, utcnow


class IncidentKind(StrEnum):
    EMERGENCY = "emergency"
    EVENT = "event"
    EXERCISE = "exercise"


class Phase(StrEnum):
    MONITORING = "monitoring"
    MUNICIPAL = "municipal"
    PROVINCIAL = "provincial"
    FEDERAL = "federal"


class Status(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Role(StrEnum):
    VIEWER = "viewer"
    CONTRIBUTOR = "contributor"
    MANAGER = "manager"

    @property
    def rank(self) -> int:
        return {"viewer": 0, "contributor": 1, "manager": 2}[self.value]


class IncidentBase(SQLModel):
    title: str = Field(max_length=200)
    kind: str = Field(max_length=20)
    phase: str = Field(default=Phase.MONITORING.value, max_length=20)
    status: str = Field(default=Status.OPEN.value, max_length=10)


class Incident(IncidentBase, table=True):
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime()))
    closed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    created_by: str | None = Field(default=None, foreign_key="user.id", max_length=32)
    # Taken with UPDATE … RETURNING inside each write: the per-incident sequence.
    last_seq: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))


class Membership(SQLModel, table=True):
    incident_id: str = Field(foreign_key="incident.id", primary_key=True, max_length=32)
    user_id: str = Field(foreign_key="user.id", primary_key=True, index=True, max_length=32)
    role: str = Field(max_length=20)


class Event(SQLModel, table=True):
    """One sequenced change of an incident, as it was broadcast: the replay source."""

    __table_args__ = (
        UniqueConstraint("incident_id", "seq"),
        # The state at a time T starts from the last seq logged by T (hub/timeline/state.py).
        Index("ix_event_incident_at", "incident_id", "at", "seq"),
    )

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True))
    incident_id: str = Field(foreign_key="incident.id", max_length=32)
    seq: int = Field(sa_column=Column(BigInteger, nullable=False))
    type: str = Field(max_length=40)
    at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    actor: dict[str, Any] = Field(sa_column=Column(JSONType, nullable=False))
    data: dict[str, Any] = Field(sa_column=Column(JSONType, nullable=False))
