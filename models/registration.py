"""Registrations (BE-Alert): the public's contact points, kept apart from the professionals'
directory. Personal data: the API only ever answers counts of them, never rows."""

from __future__ import annotations

import math
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, String, event
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
    """One of a registration's 1 to 5 places.

    The place carries copies of what an audience count needs of its registration (language,
    channels, confirmed, test_audience), so that selecting an area reads this table alone:
    every writer of a registration keeps them equal (hub/alerts/registrations.py `store`,
    `place_copies` for the others). `shared_key` is NULL when the place is its registration's
    only one; otherwise every place of the registration carries the same integer, unique to
    it, which is what a count deduplicates on (an area holding two places of one registration
    counts it once); a writer that gives a registration a second place gives all its places
    a key (`next_shared_key` there). `band` is the place's latitude in hundredths of a degree
    (`lat_band`, set on every ORM write): the covering index on (band, lon, lat, the copies)
    lets a rectangle be read as one seek on the longitudes of each band it crosses, instead
    of every place at its latitudes across the country."""

    __tablename__ = "registration_place"
    __table_args__ = (
        Index(
            "ix_registration_place_audience",
            "band",
            "lon",
            "lat",
            "confirmed",
            "test_audience",
            "shared_key",
            "language",
            "channels",
        ),
    )

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
    band: int = 0  # lat_band(lat), whatever is given (the mapper events below)
    language: str = Field(default="fr", max_length=2)
    # CHANNEL_BITS of the registration's sms, voice and email.
    channels: int = 0
    confirmed: bool = False
    test_audience: bool = False
    shared_key: int | None = Field(default=None, sa_column=Column(BigInteger(), nullable=True))


# RegistrationPlace.channels: which contact points its registration has.
CHANNEL_BITS = {"sms": 1, "voice": 2, "email": 4}


def channel_bits(sms: str | None, voice: str | None, email: str | None) -> int:
    """RegistrationPlace.channels of a registration's contact points."""
    return (
        (CHANNEL_BITS["sms"] if sms else 0)
        | (CHANNEL_BITS["voice"] if voice else 0)
        | (CHANNEL_BITS["email"] if email else 0)
    )


def place_copies(registration: Registration) -> dict[str, Any]:
    """The fields a place copies from its registration, for writers other than the import:
    `RegistrationPlace(registration_id=…, label=…, lat=…, lon=…, **place_copies(r))`."""
    return {
        "language": registration.language,
        "channels": channel_bits(registration.sms, registration.voice, registration.email),
        "confirmed": registration.confirmed,
        "test_audience": registration.test_audience,
    }


# RegistrationPlace.band: hundredths of a degree of latitude (about 1.1 km).
BANDS_PER_DEGREE = 100


def lat_band(lat: float) -> int:
    return math.floor(lat * BANDS_PER_DEGREE)


@event.listens_for(RegistrationPlace, "before_insert")
@event.listens_for(RegistrationPlace, "before_update")
def _band_of_lat(mapper: Any, connection: Any, place: RegistrationPlace) -> None:
    """Every ORM write of a place gets its band from its latitude (the import, which writes
    through the driver, computes it alike)."""
    place.band = lat_band(place.lat)
