"""The durable outbox: every message to send (a confirmation code, an alert) is a row here
first, and the delivery workers drain it by channel. A message belongs to its registration:
deleting the registration (an unsubscribe, the purge of unconfirmed ones) deletes its
messages with it, because their address and text are that person's data.

An alert's deliveries (hub/alerts/outbox.py) carry the CAP message they deliver
(`message_identifier`) and their place in the queue (`rank`: the closest to the danger
first, `ix_outbox_message_order` serves the drain in that order). While a delivery is
`sending`, `next_attempt_at` is the end of its lease and `leased_by` the instance holding
it: once the lease has run out (the instance died), another takes the delivery back."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, String, Text, text
from sqlmodel import Field, SQLModel

from models.base import UTCDateTime, utcnow
from models.registration import EMAIL_CHARS

SUBJECT_CHARS = 200
ERROR_CHARS = 500
IDENTIFIER_CHARS = 100
PROVIDER_ID_CHARS = 200


class OutboxChannel(StrEnum):
    SMS = "sms"
    VOICE = "voice"
    EMAIL = "email"
    # The operators' CAP gateways: a CAP message per gateway (the address is its URL).
    CAP = "cap"


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
    __table_args__ = (
        # The claims and the reaps read (state, channel) in the drain's order, which is also
        # what they filter next_attempt_at along: one index, not two, for an alert's
        # hundreds of thousands of rows to be written in.
        Index("ix_outbox_message_order", "state", "channel", "rank", "id"),
        # A receipt names its message by the server's id. Partial: a row is written without
        # one (an alert's rows cost no entry here) and gains it when handed over.
        Index(
            "ix_outbox_message_receipt",
            "channel",
            "provider_id",
            sqlite_where=text("provider_id IS NOT NULL"),
            postgresql_where=text("provider_id IS NOT NULL"),
        ),
    )

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
    # The CAP message (AlertMessage.identifier) this delivery is of: an Update or Cancel
    # supersedes the queued deliveries of the earlier ones.
    message_identifier: str | None = Field(default=None, max_length=IDENTIFIER_CHARS)
    # The drain's order, lowest first: confirmation codes 0, an alert's deliveries by
    # perimeter tier then distance to the incident site (hub/alerts/outbox.py `order_keys`).
    rank: int = Field(default=0, sa_column=Column(BigInteger(), nullable=False, server_default="0"))
    # The instance sending it (state sending), whose lease ends at next_attempt_at.
    leased_by: str | None = Field(default=None, max_length=32)
    # What the channel answered for it: the SMSC's message id, the SMTP server's reply.
    provider_id: str | None = Field(default=None, max_length=PROVIDER_ID_CHARS)
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
