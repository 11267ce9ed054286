"""The directory's contacts (issue 14): persons and functions with their means of contact, kept
current by the organisation that owns them, searched through a token table, read under a log,
and listed in incidents. Behaviour lives in hub/directory/ and hub/actions/contacts.py."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field as PydanticField
from pydantic import StringConstraints
from sqlalchemy import Column, Index, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import JSONType, UTCDateTime, new_id, utcnow
from models.directory import Discipline
from models.limits import MAX_LABEL_CHARS, MAX_NAME_CHARS
from models.shapes import Lax, Strict

# The sizes a contact may have (README, "Limits"; docs/protocol-additions.md, "Directory"): a
# directory record is a card, not a document; more than 20 ways to reach one function is a
# list pasted into the wrong place.
MAX_CONTACT_NAME_CHARS = MAX_NAME_CHARS * 2
MAX_FUNCTION_CHARS = MAX_LABEL_CHARS
MAX_METHODS = 20
MAX_METHOD_VALUE_CHARS = 254  # the longest e-mail address SMTP carries
MAX_METHOD_LABEL_CHARS = 60
MAX_TAGS = 20
MAX_TAG_CHARS = 40
MAX_NOTE_CHARS = 2_000
# Six months: the review cycle the issue asks of every record's owner.
REVIEW_DAYS = 183

# A search token is one normalised word (hub/directory/search.py); longer runs are cut there.
MAX_TOKEN_CHARS = 40


class ContactKind(StrEnum):
    PERSON = "person"
    FUNCTION = "function"  # "Duty officer, Fire Zone Brussels": outlives whoever holds it


class MethodType(StrEnum):
    PHONE = "phone"
    MOBILE = "mobile"
    EMAIL = "email"
    RADIO = "radio"  # an ASTRID radio id or talkgroup
    FAX = "fax"


class TermKind(StrEnum):
    """What a row of the search index holds (hub/directory/search.py)."""

    WORD = "w"  # a word of the name, function, organisation or tags, for text search
    DISCIPLINE = "d"  # one discipline, whole, for the filter
    TAG = "t"  # one tag, whole and normalised, for the filter


class ContactBase(SQLModel):
    kind: str = Field(max_length=10)
    name: str = Field(max_length=MAX_CONTACT_NAME_CHARS)
    function: str | None = Field(default=None, max_length=MAX_FUNCTION_CHARS)
    note: str | None = Field(default=None, max_length=MAX_NOTE_CHARS)
    lat: float | None = None
    lon: float | None = None


class Contact(ContactBase, table=True):
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    organisation_id: str = Field(foreign_key="organisation.id", index=True, max_length=32)
    # [{type, value, label?, h24}] as models/events.py ContactMethodPublic.
    methods: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSONType))
    disciplines: list[str] = Field(default_factory=list, sa_column=Column(JSONType))
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSONType))
    reviewed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    # Indexed: the review queue (`due=true`) reads the overdue ones of an organisation.
    review_due: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    version: int = 1
    created_by: str | None = Field(default=None, foreign_key="user.id", max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime()))
    updated_by: str | None = Field(default=None, foreign_key="user.id", max_length=32)
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime()))


class ContactChange(SQLModel, table=True):
    """The history: who changed which fields of a contact, from what to what, and when. The
    import and the CLI change as the operator (changed_by None)."""

    __tablename__ = "contact_change"

    id: int | None = Field(default=None, primary_key=True)
    # No foreign key: the history of a deleted contact outlives it (who deleted what).
    contact_id: str = Field(index=True, max_length=32)
    version: int
    action: str = Field(max_length=10)  # created, updated, reviewed, deleted, imported
    changed_by: str | None = Field(default=None, foreign_key="user.id", max_length=32)
    changed_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime()))
    before: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONType))
    after: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONType))


class ContactRead(SQLModel, table=True):
    """A read of a contact's means of contact outside an incident (design principle 9): one
    contact opened, its vCard, or an export (contact_id None, `count` contacts)."""

    __tablename__ = "contact_read"

    id: int | None = Field(default=None, primary_key=True)
    contact_id: str | None = Field(default=None, index=True, max_length=32)
    user_id: str = Field(foreign_key="user.id", index=True, max_length=32)
    at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime()))
    how: str = Field(max_length=10)  # one, vcard, export, history, conflict
    count: int = 1


# The token column compares bytewise on both backends ("C" on PostgreSQL, SQLite's BINARY),
# so that a prefix is one index range (token >= 'brux' AND token < 'bruy') whatever the
# database's locale.
_TOKEN = String(MAX_TOKEN_CHARS).with_variant(String(MAX_TOKEN_CHARS, collation="C"), "postgresql")


class ContactTerm(SQLModel, table=True):
    """The search index: one row per normalised word (or whole discipline, whole tag) of a
    contact, maintained by hub/directory/search.py in the writer's transaction. The weight
    ranks a match in the name above one in the function, the organisation, then the tags."""

    __tablename__ = "contact_term"
    __table_args__ = (
        Index("ix_contact_term_lookup", "kind", "token", "contact_id", "weight"),
        UniqueConstraint("contact_id", "kind", "token"),
    )

    id: int | None = Field(default=None, primary_key=True)
    contact_id: str = Field(foreign_key="contact.id", max_length=32)
    kind: str = Field(max_length=1)
    token: str = Field(sa_column=Column(_TOKEN, nullable=False))
    weight: int = 1


class IncidentContact(SQLModel, table=True):
    """A contact listed in an incident (POST /api/incidents/{id}/contacts, or a plan's
    activation, which sets plan_id): its members read the contact's methods without a log."""

    __tablename__ = "incident_contact"
    __table_args__ = (UniqueConstraint("incident_id", "contact_id"),)

    id: int | None = Field(default=None, primary_key=True)
    incident_id: str = Field(foreign_key="incident.id", index=True, max_length=32)
    contact_id: str = Field(foreign_key="contact.id", index=True, max_length=32)
    listed_by: str | None = Field(default=None, foreign_key="user.id", max_length=32)
    listed_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime()))
    # No foreign key: this table (0013) came before the plan table (0014), and SQLite adds
    # one only by copying the table; plans are never deleted, so the id stays good.
    plan_id: str | None = Field(default=None, max_length=32)


Lat = Annotated[float, PydanticField(ge=-90, le=90)]
Lon = Annotated[float, PydanticField(ge=-180, le=180)]
ContactName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_CONTACT_NAME_CHARS)
]
FunctionTitle = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_FUNCTION_CHARS)
]
Tag = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TAG_CHARS)
]
Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=MAX_NOTE_CHARS)]


class LocationIn(Strict):
    lat: Lat
    lon: Lon


class ContactMethodIn(Strict):
    type: Annotated[MethodType, Lax]
    value: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_METHOD_VALUE_CHARS),
    ]
    label: (
        Annotated[
            str,
            StringConstraints(
                strip_whitespace=True, min_length=1, max_length=MAX_METHOD_LABEL_CHARS
            ),
        ]
        | None
    ) = None
    h24: bool = False


class ContactFieldsIn(Strict):
    """What an editor gives; on an edit the fields given change, and `function`, `note` and
    `location` given as null are cleared."""

    kind: Annotated[ContactKind, Lax] | None = None
    name: ContactName | None = None
    function: FunctionTitle | None = None
    organisation_id: Annotated[str, StringConstraints(min_length=1, max_length=32)] | None = None
    methods: Annotated[list[ContactMethodIn], PydanticField(max_length=MAX_METHODS)] | None = None
    disciplines: Annotated[list[Annotated[Discipline, Lax]], PydanticField(max_length=6)] | None = (
        None
    )
    tags: Annotated[list[Tag], PydanticField(max_length=MAX_TAGS)] | None = None
    note: Note | None = None
    location: LocationIn | None = None


class ContactCreateIn(ContactFieldsIn):
    kind: Annotated[ContactKind, Lax] = ContactKind.PERSON
    name: ContactName


class ContactUpdateIn(ContactFieldsIn):
    version: Annotated[int, PydanticField(ge=1)]


class ContactVersionIn(Strict):
    version: Annotated[int, PydanticField(ge=1)]


class IncidentContactIn(Strict):
    contact_id: Annotated[str, StringConstraints(min_length=1, max_length=32)]
