"""Who is who: organisations, users and their API/session tokens."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from models.base import UTCDateTime, new_id, utcnow


class Discipline(StrEnum):
    D1 = "D1"  # rescue (fire)
    D2 = "D2"  # medical and psychosocial
    D3 = "D3"  # police
    D4 = "D4"  # logistics (civil protection)
    D5 = "D5"  # information to the population
    COORD = "coord"  # crisis-cell coordination


class OrganisationBase(SQLModel):
    name: str = Field(index=True, unique=True, max_length=100)
    kind: str = Field(default="other", max_length=50)


class Organisation(OrganisationBase, table=True):
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)


class UserBase(SQLModel):
    username: str = Field(index=True, unique=True, max_length=100)
    display_name: str = Field(max_length=100)
    discipline: str = Field(max_length=10)
    is_admin: bool = False


class User(UserBase, table=True):
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    organisation_id: str = Field(foreign_key="organisation.id", index=True, max_length=32)
    password_hash: str | None = Field(default=None, max_length=200)
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime()))


class ApiToken(SQLModel, table=True):
    """A bearer token or a browser session; only its SHA-256 is stored."""

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    user_id: str = Field(foreign_key="user.id", index=True, max_length=32)
    token_hash: str = Field(index=True, unique=True, max_length=64)
    kind: str = Field(default="api", max_length=10)  # "api" or "session"
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime()))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
