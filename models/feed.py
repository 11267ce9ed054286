"""Feed entries: what each service knows and decides. Append-only."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import JSONType, UTCDateTime, new_id, utcnow


class EntryKind(StrEnum):
    INFO = "info"
    DECISION = "decision"
    ACTION = "action"
    REQUEST = "request"


class Priority(StrEnum):
    NORMAL = "normal"
    URGENT = "urgent"
    FLASH = "flash"


class FeedEntry(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("incident_id", "client_id"),
        # The last entries up to a seq, newest first: every snapshot, live or at a time T.
        Index("ix_feedentry_incident_seq", "incident_id", "seq"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    incident_id: str = Field(foreign_key="incident.id", index=True, max_length=32)
    seq: int = Field(sa_column=Column(BigInteger, nullable=False))
    client_id: str = Field(max_length=36)
    author_id: str = Field(foreign_key="user.id", max_length=32)
    kind: str = Field(default=EntryKind.INFO.value, max_length=20)
    priority: str = Field(default=Priority.NORMAL.value, max_length=20)
    text: str
    location: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONType))
    corrects: str | None = Field(default=None, foreign_key="feedentry.id", max_length=32)
    reason: str | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime()))
    # When its author wrote it, as their device said, if it was sent later (queued offline);
    # created_at stays the hub's time, which orders the feed.
    written_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
