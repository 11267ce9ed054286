"""The durable outbox: every message to send (a confirmation code, an alert) is a row here
first, and the delivery workers drain it by channel (`ix_outbox_message_drain`: state,
channel, next_attempt_at). A message belongs to its registration: deleting the registration
(an unsubscribe, the purge of unconfirmed ones) deletes its messages with it, because their
address and text are that person's data."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, String, Text
from sqlmodel import Field, SQLModel

from models.base import UTCDateTime, utcnow
from models.registration import EMAIL_CHARS

SUBJECT_CHARS = 200
ERROR_CHARS = 500


class OutboxChannel(StrEnum):
    SMS = "sms"
    VOICE = "voice"
    EMAIL = "email"


class OutboxPurpose(StrEnum):
    CONFIRMATION = "confirmation"
    ALERT = "alert"


class OutboxState(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_message_drain", "state", "channel", "next_attempt_at"),)

    id: int | None = Field(
        default=None,
        sa_column=Column(
            BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
        ),
    )
    channel: str = Field(max_length=5)
    # An E.164 number (sms, voice) or an e-mail address.
    address: str = Field(max_length=EMAIL_CHARS)
    language: str = Field(max_length=2)
    subject: str | None = Field(default=None, max_length=SUBJECT_CHARS)  # e-mail only
    text: str = Field(sa_column=Column(Text(), nullable=False))
    purpose: str = Field(max_length=12)
    registration_id: str | None = Field(
        default=None,
        sa_column=Column(
            String(32),
            ForeignKey("registration.id", ondelete="CASCADE"),
            nullable=True,
            index=True,
        ),
    )
    # The alert this message delivers (purpose "alert"); no foreign key: an alert's report
    # outlives nothing here, and the delivery workers read it by this column.
    alert_id: str | None = Field(default=None, max_length=32, index=True)
    state: str = Field(default=OutboxState.QUEUED.value, max_length=9)
    attempts: int = 0
    error: str | None = Field(default=None, max_length=ERROR_CHARS)
    next_attempt_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
