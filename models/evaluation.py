"""Evaluation points: what members note, during or after an incident, for its evaluation (what
went well, what must improve), who owns the follow-up and by when. Edited with optimistic
versions like anchors; every change is a sequenced incident event (hub/actions/evaluation.py)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Column, Date, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import UTCDateTime, new_id, utcnow
from models.limits import MAX_LABEL_CHARS


class EvaluationKind(StrEnum):
    WENT_WELL = "went_well"
    TO_IMPROVE = "to_improve"


class EvaluationState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class EvaluationPoint(SQLModel, table=True):
    __tablename__ = "evaluation_point"
    __table_args__ = (UniqueConstraint("incident_id", "client_id"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    incident_id: str = Field(foreign_key="incident.id", index=True, max_length=32)
    client_id: str = Field(max_length=36)
    kind: str = Field(max_length=20)
    text: str
    # Who follows it up: a person, a service or an organisation, as the cell names it (often
    # someone who is no user of the hub: "the provincial planning unit"), so free text.
    owner: str | None = Field(default=None, max_length=MAX_LABEL_CHARS)
    # A calendar day, not an instant: "by the end of March" has no time zone.
    due: date | None = Field(default=None, sa_column=Column(Date(), nullable=True))
    state: str = Field(default=EvaluationState.OPEN.value, max_length=10)
    version: int = 1
    created_by: str = Field(foreign_key="user.id", max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime()))
    updated_by: str = Field(foreign_key="user.id", max_length=32)
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime()))
    closed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
