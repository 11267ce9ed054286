"""Registrations (BE-Alert): the public's contact points, kept apart from the professionals'
directory. Personal data: the API only ever answers counts of them, never rows."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, String
from sqlmodel import Field, SQLModel

from models.base import UTCDateTime, new_id, utcnow

# E.164: "+" and at most 15 digits.
PHONE_CHARS = 16
EMAIL_CHARS = 254
EXTERNAL_ID_CHARS = 100
MAX_PLACES = 5


class Language(StrEnum):
    FR = "fr"
    NL = "nl"
    DE = "de"
    EN = "en"


class Registration(SQLModel, table=True):
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    # The source system's key (the CSV's external_id): a re-import updates by it. None for
    # self-registrations. Unique (several NULLs pass a unique index on both backends).
    external_id: str | None = Field(
        default=None, index=True, unique=True, max_length=EXTERNAL_ID_CHARS
    )
    language: str = Field(max_length=2)
    sms: str | None = Field(default=None, max_length=PHONE_CHARS)
    voice: str | None = Field(default=None, max_length=PHONE_CHARS)
    email: str | None = Field(default=None, max_length=EMAIL_CHARS)
    test_audience: bool = False
    confirmed: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime()))
    # Self-registration's double opt-in (hub/actions/self_registration.py): the keyed hash of
    # the code sent on the first channel (never the code), until when it holds, and how many
    # wrong codes were tried. None for imported registrations.
    confirmation_hash: str | None = Field(default=None, max_length=64)
    confirmation_expires_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )
    confirmation_failures: int = 0


class RegistrationPlace(SQLModel, table=True):
    """One of a registration's 1 to 5 places. The (lat, lon) index serves the bounding-box
    pre-filter of an area's selection; the exact test is shapely's (hub/alerts/).

    The place carries copies of what an audience count needs of its registration (language,
    channels, confirmed, test_audience), so that selecting an area reads this table alone:
    every writer of a registration keeps them equal (hub/alerts/registrations.py)."""

    __tablename__ = "registration_place"
    __table_args__ = (Index("ix_registration_place_lat_lon", "lat", "lon"),)

    id: int | None = Field(
        default=None,
        sa_column=Column(
            BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
        ),
    )
    registration_id: str = Field(
        sa_column=Column(
            String(32),
            ForeignKey("registration.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        )
    )
    label: str = Field(max_length=200)
    lat: float
    lon: float
    language: str = Field(default="fr", max_length=2)
    # CHANNEL_BITS of the registration's sms, voice and email.
    channels: int = 0
    confirmed: bool = False
    test_audience: bool = False


# RegistrationPlace.channels: which contact points its registration has.
CHANNEL_BITS = {"sms": 1, "voice": 2, "email": 4}
